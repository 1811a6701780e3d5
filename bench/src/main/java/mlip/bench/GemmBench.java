package mlip.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import mlip.tensor.Tolerance;
import mlip.tensor.cpu.Parallel;
import mlip.tensor.cpu.Sgemm;
import mlip.tensor.cpu.Simd;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mlip bench gemm}: our {@link Sgemm} against OpenBLAS's {@code cblas_sgemm} on the same operands.
 *
 * <p>Per case (M x K x N, row-major, C = A·B): seeded operands uniform in [-1, 1); one call of each, checked
 * against the other element by element and against {@link Sgemm#reference} on sampled rows (tolerance
 * {@code 1e-4 * sqrt(K) + 1e-4 * |ref|}, as in SgemmTest); a case that fails prints an error line instead of a
 * timing and the command exits 1. Then a warm-up (both, alternating) and {@code --reps} timed runs of each,
 * interleaved (ours first on even runs, OpenBLAS first on odd ones) so machine noise hits both; a timed run
 * repeats the call until it lasts ~30 ms. GFLOP/s = 2*M*N*K / median seconds per call. One line per case:
 * <pre>gemm 1024x1024x1024 project=152.3 GFLOP/s openblas=201.7 GFLOP/s ratio=0.76</pre>
 */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = "Time the CPU SGEMM against OpenBLAS (cblas_sgemm, same operands, checked first).")
public final class GemmBench implements Callable<Integer> {

    /** Shapes timed when neither --n nor --shape is given: squares, then ViT-Tiny-sized linear layers. */
    static final int[] DEFAULT_SQUARES = {256, 512, 1024, 2048};
    static final String[] DEFAULT_SHAPES = {"4640x192x576", "4640x192x768", "4640x768x192"};

    /** The check's tolerance: |ours - ref| <= ATOL * sqrt(K) + RTOL * |ref| (see SgemmTest for the reasoning). */
    static final double ATOL = 1e-4;
    static final double RTOL = Tolerance.F32_RTOL;
    /** A timed run repeats the call until it lasts about this long. */
    private static final double RUN_SECONDS = 0.03;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--n", paramLabel = "N", description = "Square size N (M = K = N); repeatable.")
    List<Integer> squares = new ArrayList<>();

    @Option(names = "--shape", paramLabel = "MxKxN", converter = ShapeConverter.class,
            description = "A product of (M x K) by (K x N), e.g. 4640x192x576; repeatable.")
    List<Shape> shapes = new ArrayList<>();

    @Option(names = "--reps", paramLabel = "R", defaultValue = "7",
            description = "Timed runs per side; the median is reported (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--threads", paramLabel = "T",
            description = "Threads for both libraries (default: all cores, here ${DEFAULT-VALUE}).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--warmup", paramLabel = "S", defaultValue = "1.0",
            description = "Seconds of warm-up per case, both libraries alternating (default: ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the operands (default: ${DEFAULT-VALUE}).")
    long seed;

    /** M x K times K x N. */
    public record Shape(int m, int k, int n) {
        String label() {
            return m + "x" + k + "x" + n;
        }
    }

    /** Parses {@code MxKxN}; the error names the bad value. */
    static final class ShapeConverter implements CommandLine.ITypeConverter<Shape> {
        @Override
        public Shape convert(String value) {
            String[] p = value.trim().toLowerCase(Locale.ROOT).split("x", -1);
            if (p.length != 3) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not MxKxN (e.g. 4640x192x576)");
            }
            int[] d = new int[3];
            for (int i = 0; i < 3; i++) {
                try {
                    d[i] = Integer.parseInt(p[i].trim());
                } catch (NumberFormatException e) {
                    d[i] = -1;
                }
                if (d[i] <= 0) {
                    throw new CommandLine.TypeConversionException("'" + value + "': '" + p[i]
                            + "' is not a positive integer (expected MxKxN, e.g. 4640x192x576)");
                }
            }
            return new Shape(d[0], d[1], d[2]);
        }
    }

    @Override
    public Integer call() {
        List<Shape> cases = cases();
        if (reps < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--reps must be >= 1, got " + reps);
        if (threads < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 1, got " + threads);
        }
        if (!(warmup >= 0)) throw new CommandLine.ParameterException(spec.commandLine(), "--warmup must be >= 0, got " + warmup);
        PrintWriter out = spec.commandLine().getOut();
        boolean ob = OpenBlas.isAvailable();
        if (ob) OpenBlas.setNumThreads(threads);
        out.printf(Locale.ROOT, "# gemm: %d cores, %s, JDK %d, threads=%d; openblas: %s; median of %d runs after %.1f s warm-up%n",
                Runtime.getRuntime().availableProcessors(), Simd.describe(), Runtime.version().feature(), threads,
                ob ? OpenBlas.libraryName() + ", " + OpenBlas.coreName() + " kernels, OPENBLAS_THREAD_TIMEOUT=" + OpenBlas.threadTimeout()
                        : "unavailable (" + OpenBlas.unavailableReason() + ")",
                reps, warmup);
        out.flush();
        Parallel pool = new Parallel(threads);
        int failed = 0;
        for (Shape s : cases) {
            if (!runCase(out, pool, s, ob)) failed++;
            out.flush();
        }
        if (failed > 0) {
            out.printf(Locale.ROOT, "# %d of %d cases failed the check; no timing printed for them%n", failed, cases.size());
            out.flush();
            return 1;
        }
        return 0;
    }

    private List<Shape> cases() {
        List<Shape> cases = new ArrayList<>();
        for (int n : squares) {
            if (n <= 0) throw new CommandLine.ParameterException(spec.commandLine(), "--n must be a positive integer, got " + n);
            cases.add(new Shape(n, n, n));
        }
        cases.addAll(shapes);
        if (cases.isEmpty()) {
            for (int n : DEFAULT_SQUARES) cases.add(new Shape(n, n, n));
            ShapeConverter conv = new ShapeConverter();
            for (String s : DEFAULT_SHAPES) cases.add(conv.convert(s));
        }
        for (Shape s : cases) {
            long maxElems = Math.max((long) s.m() * s.k(), Math.max((long) s.k() * s.n(), (long) s.m() * s.n()));
            if (maxElems > Integer.MAX_VALUE - 16) {
                throw new CommandLine.ParameterException(spec.commandLine(), "shape " + s.label() + " is too large for float[] operands");
            }
        }
        return cases;
    }

    /** Checks, then times one case; prints its line. False when the check failed. */
    private boolean runCase(PrintWriter out, Parallel pool, Shape s, boolean ob) {
        int m = s.m(), k = s.k(), n = s.n();
        SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + s.label().hashCode());
        float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) (rnd.nextDouble() * 2 - 1);
        Runnable ours = () -> Sgemm.sgemm(pool, m, n, k, 1f, a, 0, k, 1, b, 0, n, 1, 0f, c, 0, n);
        double flops = 2.0 * m * n * k;
        try (OpenBlas.Operands ops = ob ? new OpenBlas.Operands(m, n, k, a, b) : null) {
            Runnable theirs = ob ? () -> ops.sgemm(1f, 0f) : null;

            // 1. Check (llm.c style: no timing for a version that fails).
            ours.run();
            String err = checkRows(a, b, c, m, n, k, rnd);
            if (err == null && ob) {
                theirs.run();
                err = compare("openblas", ops.c(), c, k);
            }
            if (err != null) {
                out.printf(Locale.ROOT, "gemm %s FAILED check: %s%n", s.label(), err);
                return false;
            }

            // 2. Warm-up, both alternating, for --warmup seconds and then until our time per call stops
            //    improving (C2 still compiling: on a loaded machine 1 s is not always enough), at most 10 s more.
            long start = System.nanoTime(), end = start + (long) (warmup * 1e9);
            long limit = end + 10_000_000_000L;
            double best = Double.MAX_VALUE, windowBest = Double.MAX_VALUE;
            long windowEnd = start + 250_000_000L;
            int calls = 0;
            while (true) {
                long t0 = System.nanoTime();
                ours.run();
                windowBest = Math.min(windowBest, (System.nanoTime() - t0) / 1e9);
                if (ob) theirs.run();
                calls++;
                long now = System.nanoTime();
                if (now >= windowEnd) {
                    boolean improving = windowBest < 0.95 * best;
                    best = Math.min(best, windowBest);
                    windowBest = Double.MAX_VALUE;
                    windowEnd = now + 250_000_000L;
                    if (calls >= 2 && now >= end && (!improving || now >= limit)) break;
                }
            }
            double once = Math.max(1e-7, best);
            int inner = (int) Math.max(1, Math.min(10_000, Math.ceil(RUN_SECONDS / once)));

            // 3. Timed runs, interleaved.
            double[] tOurs = new double[reps], tTheirs = new double[reps];
            for (int r = 0; r < reps; r++) {
                if (ob && (r & 1) == 1) tTheirs[r] = time(theirs, inner);
                tOurs[r] = time(ours, inner);
                if (ob && (r & 1) == 0) tTheirs[r] = time(theirs, inner);
            }
            double gOurs = flops / median(tOurs) / 1e9;
            if (ob) {
                double gTheirs = flops / median(tTheirs) / 1e9;
                out.printf(Locale.ROOT, "gemm %s project=%.1f GFLOP/s openblas=%.1f GFLOP/s ratio=%.2f%n",
                        s.label(), gOurs, gTheirs, gOurs / gTheirs);
            } else {
                out.printf(Locale.ROOT, "gemm %s project=%.1f GFLOP/s openblas=unavailable (%s)%n",
                        s.label(), gOurs, OpenBlas.unavailableReason());
            }
            return true;
        }
    }

    /** Seconds per call of {@code inner} back-to-back calls. */
    private static double time(Runnable r, int inner) {
        long t0 = System.nanoTime();
        for (int i = 0; i < inner; i++) r.run();
        return (System.nanoTime() - t0) / 1e9 / inner;
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        int h = s.length / 2;
        return s.length % 2 == 1 ? s[h] : 0.5 * (s[h - 1] + s[h]);
    }

    /** Our C against the double-accumulating reference on the first, last and 6 random rows. */
    private static String checkRows(float[] a, float[] b, float[] c, int m, int n, int k, SplittableRandom rnd) {
        int[] rows = new int[Math.min(m, 8)];
        for (int i = 0; i < rows.length; i++) rows[i] = i == 0 ? 0 : i == 1 ? m - 1 : rnd.nextInt(m);
        float[] ref = new float[n];
        for (int i : rows) {
            Sgemm.reference(1, n, k, 1f, a, i * k, k, 1, b, 0, n, 1, 0f, ref, 0, n);
            String err = compare("reference row " + i, ref, Arrays.copyOfRange(c, i * n, i * n + n), k);
            if (err != null) return err;
        }
        return null;
    }

    /** Null when every element of {@code got} is within the tolerance of {@code want}, else the first mismatch. */
    static String compare(String against, float[] want, float[] got, int k) {
        double atol = ATOL * Math.sqrt(Math.max(1, k));
        int bad = 0, first = -1;
        for (int i = 0; i < want.length; i++) {
            if (!Tolerance.close(got[i], want[i], atol, RTOL)) {
                if (first < 0) first = i;
                bad++;
            }
        }
        if (bad == 0) return null;
        return String.format(Locale.ROOT, "%d of %d elements differ from %s beyond %.1e + %.0e*|ref|; first at %d: %s vs %s",
                bad, want.length, against, atol, RTOL, first, got[first], want[first]);
    }
}
