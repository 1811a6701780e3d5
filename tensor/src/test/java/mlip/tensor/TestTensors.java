package mlip.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;
import mlip.tensor.cpu.CpuStorage;
import org.junit.jupiter.api.function.Executable;

/**
 * Test helpers shared by the tensor suite: seeded random tensors, non-contiguous views of the same
 * logical values (built by hand on a padded, permuted, strided storage), a naive N-d index walker,
 * raw element access through (shape, strides, offset) that bypasses every engine kernel, and an
 * independent high-precision erf.
 *
 * <p>References in the tests are plain loops over {@code double[]} using only these helpers,
 * {@link Tensor#of} and {@link Tensor#toDoubleArray}.
 */
final class TestTensors {
    private TestTensors() {
    }

    static final DType[] FLOATING = {DType.F32, DType.F64};
    static final DType[] ALL = {DType.F32, DType.F64, DType.I32};

    // ---------------------------------------------------------------- N-d index arithmetic (independent of Shape)

    static int numel(int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    static int[] rowMajorStrides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(1, shape[i]);
        }
        return s;
    }

    static int ravel(int[] idx, int[] shape) {
        int f = 0;
        for (int i = 0; i < shape.length; i++) f = f * shape[i] + idx[i];
        return f;
    }

    static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = flat % shape[i];
            flat /= shape[i];
        }
        return idx;
    }

    /** Calls {@code f} with every index of {@code shape} in row-major order (the array is reused: copy it to keep it). */
    static void forEachIndex(int[] shape, Consumer<int[]> f) {
        int n = numel(shape);
        int[] idx = new int[shape.length];
        for (int k = 0; k < n; k++) {
            f.accept(idx);
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
    }

    /** Values of {@code v} (row-major over {@code vshape}) broadcast (NumPy rules) to {@code out}. */
    static double[] broadcastRef(double[] v, int[] vshape, int[] out) {
        double[] r = new double[numel(out)];
        int lead = out.length - vshape.length;
        int[] k = {0};
        int[] vi = new int[vshape.length];
        forEachIndex(out, idx -> {
            for (int i = 0; i < vshape.length; i++) vi[i] = vshape[i] == 1 ? 0 : idx[i + lead];
            r[k[0]++] = v[ravel(vi, vshape)];
        });
        return r;
    }

    static int[] broadcastShape(int[] a, int[] b) {
        int n = Math.max(a.length, b.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int da = i < n - a.length ? 1 : a[i - (n - a.length)];
            int db = i < n - b.length ? 1 : b[i - (n - b.length)];
            if (da != db && da != 1 && db != 1) throw new AssertionError("test bug: shapes do not broadcast");
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    // ---------------------------------------------------------------- raw access (bypasses the engine's kernels)

    /** Element at {@code idx}, read straight from the CPU storage through shape, strides and offset. */
    static double rawGet(Tensor t, int[] idx) {
        int at = t.offset();
        int[] st = t.strides();
        for (int i = 0; i < idx.length; i++) at += idx[i] * st[i];
        CpuStorage s = (CpuStorage) t.storage();
        return switch (t.dtype()) {
            case F32 -> s.f[at];
            case F64 -> s.d[at];
            case I32 -> s.i[at];
        };
    }

    /** Row-major values read through the view's strides, without any engine copy kernel. */
    static double[] rawValues(Tensor t) {
        int[] shape = t.shape();
        double[] r = new double[numel(shape)];
        int[] k = {0};
        forEachIndex(shape, idx -> r[k[0]++] = rawGet(t, idx));
        return r;
    }

    // ---------------------------------------------------------------- random data

    static Random rng(long seed) {
        return new Random(seed);
    }

    /** Values exactly representable in {@code dt}: rounded Gaussians for floats, integers in [-10, 10] for I32. */
    static double[] randomValues(Random r, int n, DType dt) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (dt) {
                case F32 -> (float) r.nextGaussian();
                case F64 -> r.nextGaussian();
                case I32 -> r.nextInt(21) - 10;
            };
        }
        return v;
    }

    /** Multiples of 1/64 in [-4, 4]: sums and products of a few hundred of them are exact in F32, so any summation order agrees. */
    static double[] dyadic(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (r.nextInt(513) - 256) / 64.0;
        return v;
    }

    static Tensor tensor(double[] v, DType dt, int... shape) {
        return switch (dt) {
            case F32 -> {
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
                yield Tensor.of(f, shape);
            }
            case F64 -> Tensor.of(v.clone(), shape);
            case I32 -> {
                int[] a = new int[v.length];
                for (int i = 0; i < v.length; i++) a[i] = (int) v[i];
                yield Tensor.of(a, shape);
            }
        };
    }

    static Tensor random(Random r, DType dt, int... shape) {
        return tensor(randomValues(r, numel(shape), dt), dt, shape);
    }

    static int[] randomShape(Random r, int ndim, int lo, int hi) {
        int[] s = new int[ndim];
        for (int i = 0; i < ndim; i++) s[i] = lo + r.nextInt(hi - lo + 1);
        return s;
    }

    /** Two shapes of possibly different ranks that broadcast to {@code out} (some dims set to 1, some leading dims dropped). */
    static int[][] broadcastPair(Random r, int[] out) {
        int[][] res = new int[2][];
        for (int k = 0; k < 2; k++) {
            int drop = r.nextInt(out.length + 1);
            int[] s = Arrays.copyOfRange(out, drop, out.length);
            for (int i = 0; i < s.length; i++) if (r.nextInt(3) == 0) s[i] = 1;
            res[k] = s;
        }
        return res;
    }

    static int[] randomPermutation(Random r, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    // ---------------------------------------------------------------- non-contiguous views

    /**
     * A non-contiguous view holding the same logical values as {@code x}: the values sit in a larger
     * storage whose dims are permuted, padded on both sides and interleaved with an extra step dim;
     * the padding holds NaN (or a sentinel for I32) so a kernel that reads outside the view shows up.
     * The view is built with the public Tensor constructor, not with engine view ops.
     */
    static Tensor nonContiguous(Random r, Tensor x) {
        int[] shape = x.shape();
        int nd = shape.length;
        double[] vals = rawValues(x);
        boolean forceStep = false;
        for (int attempt = 0; ; attempt++) {
            int[] perm = randomPermutation(r, nd);      // storage dim j holds logical dim perm[j]
            int[] pre = new int[nd], post = new int[nd];
            for (int i = 0; i < nd; i++) {
                pre[i] = r.nextInt(3);
                post[i] = r.nextInt(2);
            }
            int step = forceStep || r.nextBoolean() ? 2 : 1;
            int lane = r.nextInt(step);
            int[] big = new int[nd + 1];
            for (int j = 0; j < nd; j++) big[j] = shape[perm[j]] + pre[perm[j]] + post[perm[j]];
            big[nd] = step;
            int[] bigStrides = rowMajorStrides(big);
            double[] store = new double[numel(big)];
            Arrays.fill(store, x.dtype() == DType.I32 ? -999_999 : Double.NaN);
            int[] strides = new int[nd];
            int offset = lane * bigStrides[nd];
            for (int j = 0; j < nd; j++) {
                strides[perm[j]] = bigStrides[j];
                offset += pre[perm[j]] * bigStrides[j];
            }
            int[] k = {0};
            int off0 = offset;
            forEachIndex(shape, idx -> {
                int at = off0;
                for (int i = 0; i < nd; i++) at += idx[i] * strides[i];
                store[at] = vals[k[0]++];
            });
            Tensor storage = tensor(store, x.dtype(), big);
            // an empty view keeps offset 0 (as narrow does for length 0); empty views at other offsets are tested in ViewsTest
            Tensor v = new Tensor(storage.storage(), shape, strides, numel(shape) == 0 ? 0 : offset);
            if (!v.isContiguous() || trivial(shape)) return v;
            forceStep = true;
            if (attempt > 3) throw new AssertionError("test bug: could not build a non-contiguous view");
        }
    }

    /** True when no layout of {@code shape} can be non-contiguous (at most one element); with step 2 every other shape is. */
    private static boolean trivial(int[] shape) {
        return numel(shape) <= 1;
    }

    /** Either {@code x} itself or a non-contiguous view of its values, at random. */
    static Tensor maybeNonContiguous(Random r, Tensor x) {
        return r.nextBoolean() ? x : nonContiguous(r, x);
    }

    // ---------------------------------------------------------------- assertions

    /** Compares {@code actual} with reference values of {@code shape} under the one tolerance policy of its dtype. */
    static void assertValues(String what, Tensor actual, double[] expected, int... shape) {
        assertArrayEqualsShape(what, shape, actual.shape());
        Tolerance.assertClose(what, actual, tensor(expected, actual.dtype(), shape));
    }

    /** Same, with an explicit tolerance (callers say why). */
    static void assertValues(String what, Tensor actual, double[] expected, double atol, double rtol, int... shape) {
        assertArrayEqualsShape(what, shape, actual.shape());
        Tolerance.assertClose(what, actual, tensor(expected, actual.dtype(), shape), atol, rtol);
    }

    static void assertArrayEqualsShape(String what, int[] expected, int[] actual) {
        if (!Arrays.equals(expected, actual)) {
            fail(what + ": shape " + Arrays.toString(actual) + " != expected " + Arrays.toString(expected));
        }
    }

    static void assertBitsEqual(String what, Tensor a, Tensor b) {
        assertArrayEqualsShape(what, a.shape(), b.shape());
        assertEquals(a.dtype(), b.dtype(), what + ": dtype");
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        for (int i = 0; i < x.length; i++) {
            if (Double.doubleToRawLongBits(x[i]) != Double.doubleToRawLongBits(y[i])) {
                fail(what + ": element " + i + " differs: " + x[i] + " vs " + y[i]);
            }
        }
    }

    /** Asserts that {@code body} throws an IllegalArgumentException whose message contains every fragment. */
    static IllegalArgumentException assertIAE(Executable body, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, body);
        String m = String.valueOf(e.getMessage());
        for (String f : fragments) {
            assertTrue(m.contains(f), "message '" + m + "' should contain '" + f + "'");
        }
        return e;
    }

    static String s(int... shape) {
        return Arrays.toString(shape);
    }

    // ---------------------------------------------------------------- an independent erf

    private static final MathContext MC = new MathContext(60);
    private static final BigDecimal TWO_OVER_SQRT_PI =
            new BigDecimal("1.12837916709551257389615890312154517168810125865799771368817144342128493688298");

    /** erf by its Maclaurin series in 60-digit decimal arithmetic (exact to double precision for |x| <= 7; +-1 beyond). */
    static double erfRef(double x) {
        if (Double.isNaN(x)) return x;
        if (Math.abs(x) > 7) return Math.signum(x);
        BigDecimal bx = new BigDecimal(x);
        BigDecimal x2 = bx.multiply(bx, MC).negate();
        BigDecimal term = bx, sum = bx;
        BigDecimal eps = new BigDecimal("1e-40");
        for (int n = 1; n < 1000; n++) {
            term = term.multiply(x2, MC).divide(BigDecimal.valueOf(n), MC);
            BigDecimal add = term.divide(BigDecimal.valueOf(2L * n + 1), MC);
            sum = sum.add(add, MC);
            if (add.abs().compareTo(eps) < 0 && n > 2 * x * x) break;
        }
        return sum.multiply(TWO_OVER_SQRT_PI, MC).doubleValue();
    }

    // ---------------------------------------------------------------- sanity of the helpers themselves

    static void selfCheck() {
        Random r = rng(1);
        Tensor x = random(r, DType.F32, 3, 4, 5);
        Tensor v = nonContiguous(r, x);
        assertFalse(v.isContiguous());
        assertEquals(Arrays.toString(x.toDoubleArray()), Arrays.toString(rawValues(v)));
    }
}
