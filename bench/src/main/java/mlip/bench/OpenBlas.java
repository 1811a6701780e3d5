package mlip.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The in-process reference for {@code mlip bench gemm}: {@code cblas_sgemm} of Debian's OpenBLAS
 * ({@code libopenblas.so.0}, package {@code libopenblas0-pthread}), bound with FFM.
 *
 * <p>Operands live in off-heap {@link MemorySegment}s ({@link Operands}), copied once from {@code float[]},
 * so a timed call is the native GEMM and nothing else. Row-major, no transposes: {@code C = alpha*A·B + beta*C}
 * with A (m x k), B (k x n), C (m x n) densely packed.
 *
 * <p>The library is looked up once, on first use. {@link #isAvailable()} says whether it was found and
 * {@link #unavailableReason()} why not, so a benchmark can print the reason instead of failing.
 *
 * <p>Idle threads: after each call OpenBLAS's worker threads busy-wait for 2^28 cycles (~0.1 s) before they
 * sleep. On a 2-core machine that spinning steals a core from whatever runs next — in an interleaved
 * benchmark, from our own GEMM (measured in {@code mlip bench gemm} with the default: ours fell from 186 to
 * 104 GFLOP/s at n = 256 and from 302 to 118 at n = 512). Before loading the library we therefore set
 * {@code OPENBLAS_THREAD_TIMEOUT=4} (sleep after 16 cycles, as our pool's idle threads park) unless the
 * environment already sets it; OpenBLAS's own speed does not change measurably (n = 256/512/1024:
 * 135/161/172 GFLOP/s spinning, 133/160/174 not). {@link #threadTimeout()} reports the value in effect.
 */
public final class OpenBlas {

    /**
     * Library names tried in order: {@code -Dmlip.openblas=/path/to/libopenblas.so} if set, else the soname of
     * Debian's libopenblas0-pthread (found by the dynamic loader), its usual path, and the unversioned name.
     */
    private static final String[] LIBRARY_NAMES = System.getProperty("mlip.openblas") != null
            ? new String[] {System.getProperty("mlip.openblas")}
            : new String[] {"libopenblas.so.0", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "libopenblas.so"};
    private static final int CBLAS_ROW_MAJOR = 101;
    private static final int CBLAS_NO_TRANS = 111;

    private static final MethodHandle SGEMM;           // null when unavailable
    private static final MethodHandle SET_NUM_THREADS; // null when the symbol is missing
    private static final MethodHandle GET_CORENAME;    // null when the symbol is missing
    private static final String REASON;
    private static final String THREAD_TIMEOUT;
    private static final String LIBRARY;

    static {
        MethodHandle sgemm = null, setThreads = null, coreName = null;
        String reason = null, library = null;
        String timeout = System.getenv("OPENBLAS_THREAD_TIMEOUT");
        try {
            Linker linker = Linker.nativeLinker();
            if (timeout == null) timeout = setEnv(linker, "OPENBLAS_THREAD_TIMEOUT", "4") ? "4" : "default";
            SymbolLookup lib = null;
            Throwable last = null;
            for (String name : LIBRARY_NAMES) {
                try {
                    // Global arena: the library stays loaded for the life of the JVM.
                    lib = SymbolLookup.libraryLookup(name, Arena.global());
                    library = name;
                    break;
                } catch (IllegalArgumentException e) {
                    last = e;
                }
            }
            if (lib == null) {
                reason = String.join(", ", LIBRARY_NAMES) + " not found (" + (last == null ? "?" : last.getMessage())
                        + "); install Debian's libopenblas0-pthread";
            } else {
                Optional<MemorySegment> f = lib.find("cblas_sgemm");
                if (f.isEmpty()) {
                    reason = library + " has no cblas_sgemm symbol; install Debian's libopenblas0-pthread";
                } else {
                    // void cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
                    ValueLayout.OfInt i = ValueLayout.JAVA_INT;
                    ValueLayout.OfFloat fl = ValueLayout.JAVA_FLOAT;
                    sgemm = linker.downcallHandle(f.get(), FunctionDescriptor.ofVoid(
                            i, i, i, i, i, i, fl, ValueLayout.ADDRESS, i, ValueLayout.ADDRESS, i, fl,
                            ValueLayout.ADDRESS, i));
                    Optional<MemorySegment> t = lib.find("openblas_set_num_threads");
                    if (t.isPresent()) {
                        setThreads = linker.downcallHandle(t.get(), FunctionDescriptor.ofVoid(i));
                    }
                    Optional<MemorySegment> c = lib.find("openblas_get_corename");
                    if (c.isPresent()) {
                        coreName = linker.downcallHandle(c.get(), FunctionDescriptor.of(ValueLayout.ADDRESS));
                    }
                }
            }
        } catch (IllegalCallerException e) { // --illegal-native-access=deny without --enable-native-access
            reason = "native access denied (run with --enable-native-access=ALL-UNNAMED): " + e.getMessage();
            sgemm = null;
        } catch (Throwable e) {
            reason = "cannot bind cblas_sgemm with FFM: " + e + "; install Debian's libopenblas0-pthread";
            sgemm = null;
        }
        SGEMM = sgemm;
        SET_NUM_THREADS = setThreads;
        GET_CORENAME = coreName;
        REASON = sgemm == null ? reason : null;
        THREAD_TIMEOUT = timeout == null ? "default" : timeout;
        LIBRARY = library;
    }

    /** libc setenv(name, value, 0), before OpenBLAS reads its environment at load time. */
    private static boolean setEnv(Linker linker, String name, String value) {
        Optional<MemorySegment> f = linker.defaultLookup().find("setenv");
        if (f.isEmpty()) return false;
        MethodHandle setenv = linker.downcallHandle(f.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            return (int) setenv.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 0) == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    /** The OPENBLAS_THREAD_TIMEOUT OpenBLAS was loaded with ("4" unless the environment set another; "default" if unset). */
    public static String threadTimeout() {
        return THREAD_TIMEOUT;
    }

    private OpenBlas() {
    }

    /** True when {@code cblas_sgemm} was found and bound. */
    public static boolean isAvailable() {
        return SGEMM != null;
    }

    /** The library name that was loaded (e.g. "libopenblas.so.0"), or {@code null}. */
    public static String libraryName() {
        return LIBRARY;
    }

    /** Why OpenBLAS is unavailable, or {@code null} when it is available. */
    public static String unavailableReason() {
        return REASON;
    }

    /** OpenBLAS's name for the kernel set it picked on this CPU (e.g. "Haswell"), or "?" if it cannot say. */
    public static String coreName() {
        if (GET_CORENAME == null) return "?";
        try {
            MemorySegment p = (MemorySegment) GET_CORENAME.invokeExact();
            return p.reinterpret(256).getString(0);
        } catch (Throwable e) {
            return "?";
        }
    }

    /**
     * Sets OpenBLAS's thread count (so it uses as many cores as our pool). Returns false when the library
     * has no {@code openblas_set_num_threads}.
     */
    public static boolean setNumThreads(int threads) {
        requireAvailable();
        if (SET_NUM_THREADS == null) return false;
        try {
            SET_NUM_THREADS.invokeExact(threads);
            return true;
        } catch (Throwable e) {
            throw new IllegalStateException("openblas_set_num_threads(" + threads + ") failed: " + e, e);
        }
    }

    /** Off-heap copies of A (m x k), B (k x n) and C (m x n), row-major; close to free them. */
    public static final class Operands implements AutoCloseable {
        public final int m, n, k;
        private final Arena arena = Arena.ofConfined();
        final MemorySegment a, b, c;

        public Operands(int m, int n, int k, float[] a, float[] b) {
            if (a.length < (long) m * k || b.length < (long) k * n) {
                throw new IllegalArgumentException("OpenBlas.Operands: arrays too short for m=" + m + " n=" + n
                        + " k=" + k + " (a.length=" + a.length + ", b.length=" + b.length + ")");
            }
            this.m = m;
            this.n = n;
            this.k = k;
            // 64-byte alignment, as a C program would get from posix_memalign for AVX-512 loads.
            this.a = arena.allocate(Math.max(1L, (long) m * k) * Float.BYTES, 64);
            this.b = arena.allocate(Math.max(1L, (long) k * n) * Float.BYTES, 64);
            this.c = arena.allocate(Math.max(1L, (long) m * n) * Float.BYTES, 64);
            MemorySegment.copy(a, 0, this.a, ValueLayout.JAVA_FLOAT, 0, m * k);
            MemorySegment.copy(b, 0, this.b, ValueLayout.JAVA_FLOAT, 0, k * n);
        }

        /** C = alpha * A·B + beta * C with OpenBLAS. */
        public void sgemm(float alpha, float beta) {
            requireAvailable();
            try {
                SGEMM.invokeExact(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, m, n, k, alpha,
                        a, Math.max(1, k), b, Math.max(1, n), beta, c, Math.max(1, n));
            } catch (Throwable e) {
                throw new IllegalStateException("cblas_sgemm failed: " + e, e);
            }
        }

        /** Copies C back to the heap. */
        public float[] c() {
            float[] out = new float[m * n];
            MemorySegment.copy(c, ValueLayout.JAVA_FLOAT, 0, out, 0, m * n);
            return out;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    private static void requireAvailable() {
        if (SGEMM == null) throw new IllegalStateException("OpenBLAS unavailable: " + REASON);
    }
}
