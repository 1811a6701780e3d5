package mlip.tensor;

import static mlip.tensor.TestTensors.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import mlip.tensor.cpu.ScalarMath;
import org.junit.jupiter.api.Test;

/** Every UnaryOp and BinaryOp, where and maskedFill against scalar references, on broadcast, strided, empty and 0-d inputs. */
class ElementwiseTest {

    // ---------------------------------------------------------------- references (plain double math, no engine code)

    static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    static double ref(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Double.isNaN(x) ? x : x > 0 ? 1 : x < 0 ? -1 : 0;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case RECIP -> 1 / x;
            case SQUARE -> x * x;
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case RELU -> Double.isNaN(x) ? x : Math.max(x, 0);
            case ERF -> erfRef(x);
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
            case GELU_ERF -> 0.5 * x * (1 + erfRef(x / Math.sqrt(2)));
        };
    }

    static double refInt(UnaryOp op, int x) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Integer.signum(x);
            case SQUARE -> x * x;
            case RELU -> Math.max(x, 0);
            default -> throw new AssertionError(op);
        };
    }

    static double ref(BinaryOp op, double x, double y, DType dt) {
        if (dt == DType.I32) {
            int a = (int) x, b = (int) y;
            return switch (op) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case DIV -> a / b;
                case MAX -> Math.max(a, b);
                case MIN -> Math.min(a, b);
                case POW -> (int) Math.pow(a, b);
                case EQ -> a == b ? 1 : 0;
                case NE -> a != b ? 1 : 0;
                case LT -> a < b ? 1 : 0;
                case LE -> a <= b ? 1 : 0;
                case GT -> a > b ? 1 : 0;
                case GE -> a >= b ? 1 : 0;
            };
        }
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAX -> Double.isNaN(x) || Double.isNaN(y) ? Double.NaN : Math.max(x, y);
            case MIN -> Double.isNaN(x) || Double.isNaN(y) ? Double.NaN : Math.min(x, y);
            case POW -> Math.pow(x, y);
            case EQ -> x == y ? 1 : 0;
            case NE -> x != y ? 1 : 0;
            case LT -> x < y ? 1 : 0;
            case LE -> x <= y ? 1 : 0;
            case GT -> x > y ? 1 : 0;
            case GE -> x >= y ? 1 : 0;
        };
    }

    static boolean intUnary(UnaryOp op) {
        return op == UnaryOp.NEG || op == UnaryOp.ABS || op == UnaryOp.SIGN || op == UnaryOp.RELU || op == UnaryOp.SQUARE;
    }

    /** Inputs for a binary op: safe divisors and exponents, ties for comparisons. */
    static double[] binaryInputs(Random r, BinaryOp op, DType dt, int n, boolean second) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double x;
            if (op.isComparison() || op == BinaryOp.MAX || op == BinaryOp.MIN) {
                x = dt == DType.I32 ? r.nextInt(5) - 2 : (r.nextInt(5) - 2) * 0.5; // many ties
            } else if (op == BinaryOp.POW) {
                x = dt == DType.I32 ? (second ? r.nextInt(4) : r.nextInt(7) - 3) : second ? r.nextGaussian() : 0.1 + 3 * r.nextDouble();
            } else if (dt == DType.I32) {
                x = r.nextInt(41) - 20;
                if (second && op == BinaryOp.DIV && x == 0) x = 3;
            } else {
                x = r.nextGaussian() * 3;
                if (second && op == BinaryOp.DIV && Math.abs(x) < 0.05) x = 0.5;
            }
            v[i] = dt == DType.F32 ? (float) x : x;
        }
        return v;
    }

    // ---------------------------------------------------------------- unary

    @Test
    void everyUnaryOpOnRandomStridedEmptyAndScalarInputs() {
        Random r = rng(21);
        int[][] shapes = {{}, {0}, {3, 0}, {1}, {7}, {4, 5}, {2, 3, 17}, {3, 1, 40}, {2, 2, 2, 5}};
        for (UnaryOp op : UnaryOp.values()) {
            for (DType dt : ALL) {
                if (dt == DType.I32 && !intUnary(op)) continue;
                for (int[] shape : shapes) {
                    double[] v = randomValues(r, numel(shape), dt);
                    if (dt != DType.I32) for (int i = 0; i < v.length; i++) v[i] = dt == DType.F32 ? (float) (2 * v[i]) : 2 * v[i];
                    Tensor x = maybeNonContiguous(r, tensor(v, dt, shape));
                    double[] expect = new double[v.length];
                    for (int i = 0; i < v.length; i++) expect[i] = dt == DType.I32 ? refInt(op, (int) v[i]) : ref(op, v[i]);
                    Tensor y = x.unary(op);
                    assertEquals(dt, y.dtype(), op + " dtype");
                    assertValues(op + " " + dt + " " + s(shape), y, expect, shape);
                }
            }
        }
    }

    @Test
    void unaryI32RefusesFloatingOnlyOps() {
        Tensor x = Tensor.of(new int[]{1, 2}, 2);
        for (UnaryOp op : UnaryOp.values()) {
            if (!intUnary(op)) assertIAE(() -> x.unary(op), op.name().toLowerCase(), "I32");
        }
    }

    /** Special values through the F32 vector path (contiguous, long rows) and the scalar path (stride 2), both against the reference. */
    @Test
    void f32VectorAndScalarPathsAgreeWithTheReferenceOnSpecialValues() {
        float[] specials = {0f, -0f, 1f, -1f, 0.5f, -0.5f, 0.49999f, 0.50001f, 2.5f, -2.5f, 3f, 6f, -7f, 10f, -10f, 20f, -20f, 50f, -50f,
                88f, -88f, 100f, -100f, 1e-30f, -1e-30f, 1e30f, -1e30f, Float.MAX_VALUE, Float.MIN_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        Random r = rng(22);
        int n = 1003; // not a multiple of any vector width: exercises the tail too
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = i < specials.length * 2 ? specials[i % specials.length] : (float) (r.nextGaussian() * 4);
        for (int i = 0; i < 40; i++) { // specials also deep inside vectors and in the tail
            v[r.nextInt(n)] = specials[r.nextInt(specials.length)];
        }
        v[n - 1] = Float.NaN;
        v[n - 2] = Float.NEGATIVE_INFINITY;
        Tensor contiguous = Tensor.of(v, n);
        double[] store = new double[2 * n];
        for (int i = 0; i < n; i++) store[2 * i] = v[i];
        Tensor strided = tensor(store, DType.F32, n, 2).select(1, 0);
        for (UnaryOp op : UnaryOp.values()) {
            double[] expect = new double[n];
            for (int i = 0; i < n; i++) expect[i] = ref(op, v[i]);
            assertValues(op + " F32 vector path", contiguous.unary(op), expect, n);
            assertValues(op + " F32 scalar path", strided.unary(op), expect, n);
        }
    }

    @Test
    void erfMatchesKnownValuesInEveryPath() {
        double[] xs = {0.5, 1, 2, 3, -0.5, -1, -2, -3, 0};
        double[] erf = {0.5204998778130465, 0.8427007929497149, 0.9953222650189527, 0.9999779095030014,
                -0.5204998778130465, -0.8427007929497149, -0.9953222650189527, -0.9999779095030014, 0};
        for (int i = 0; i < xs.length; i++) {
            assertEquals(erf[i], erfRef(xs[i]), 2e-16, "the test's own erf at " + xs[i]);
            assertEquals(erf[i], ScalarMath.erf(xs[i]), 1e-15, "ScalarMath.erf(double) at " + xs[i]);
            assertEquals(erf[i], ScalarMath.erf((float) xs[i]), 3e-7, "ScalarMath.erf(float) at " + xs[i]);
        }
        assertValues("erf F64", Tensor.of(xs, xs.length).erf(), erf, xs.length);
        assertValues("erf F32", tensor(xs, DType.F32, xs.length).erf(), erf, xs.length);
        // many copies so the F32 vector path sees them too
        double[] big = new double[xs.length * 8], bigE = new double[big.length];
        for (int i = 0; i < big.length; i++) {
            big[i] = xs[i % xs.length];
            bigE[i] = erf[i % xs.length];
        }
        assertValues("erf F32 vector", tensor(big, DType.F32, big.length).erf(), bigE, big.length);
        // a dense sweep of the double erf across its three branches (series, continued fraction, saturation)
        for (double x = -8; x <= 8; x += 0.0173) {
            double e = erfRef(x);
            assertEquals(e, ScalarMath.erf(x), 2e-15 + 1e-14 * Math.abs(e), "ScalarMath.erf(" + x + ")");
            assertEquals(e, ScalarMath.erf((float) x), 3e-7, "ScalarMath.erf((float) " + x + ")");
        }
        assertEquals(1.0, ScalarMath.erf(Double.POSITIVE_INFINITY));
        assertEquals(-1.0, ScalarMath.erf(Double.NEGATIVE_INFINITY));
        assertEquals(Double.NaN, ScalarMath.erf(Double.NaN));
    }

    @Test
    void geluTanhAndErfAgainstTheirFormulas() {
        Random r = rng(23);
        int n = 301;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = -6 + 12.0 * i / (n - 1) + 0.01 * r.nextGaussian();
        double[] tanhE = new double[n], erfE = new double[n];
        for (int i = 0; i < n; i++) {
            double x = v[i];
            tanhE[i] = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * Math.pow(x, 3))));
            erfE[i] = x * 0.5 * (1 + erfRef(x / Math.sqrt(2)));
        }
        for (DType dt : FLOATING) {
            double[] vv = dt == DType.F32 ? tensor(v, dt, n).toDoubleArray() : v;
            double[] te = new double[n], ee = new double[n];
            for (int i = 0; i < n; i++) {
                double x = vv[i];
                te[i] = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * Math.pow(x, 3))));
                ee[i] = x * 0.5 * (1 + erfRef(x / Math.sqrt(2)));
            }
            Tensor x = tensor(vv, dt, n);
            assertValues("gelu tanh " + dt, x.gelu(true), te, n);
            assertValues("gelu erf " + dt, x.gelu(false), ee, n);
            assertValues("gelu erf " + dt + " strided", nonContiguous(r, x).gelu(false), ee, n);
        }
        // the two forms are close but not equal (max gap ~ 5e-4 near |x| ~ 2)
        double maxGap = 0;
        for (int i = 0; i < n; i++) maxGap = Math.max(maxGap, Math.abs(tanhE[i] - erfE[i]));
        assertEquals(4.7e-4, maxGap, 2e-4);
        assertEquals(0.8413447460685429, Tensor.of(new double[]{1}, 1).gelu(false).item(), 1e-12);
        assertEquals(-0.15865525393145707, Tensor.of(new double[]{-1}, 1).gelu(false).item(), 1e-12);
        assertEquals(0.8411919906082768, Tensor.of(new double[]{1}, 1).gelu(true).item(), 1e-12);
    }

    // ---------------------------------------------------------------- binary

    @Test
    void everyBinaryOpWithBroadcastingBetweenRanks() {
        Random r = rng(24);
        for (BinaryOp op : BinaryOp.values()) {
            for (DType dt : ALL) {
                for (int t = 0; t < 12; t++) {
                    int[] out = t == 0 ? new int[0] : t == 1 ? new int[]{3, 0} : randomShape(r, 1 + r.nextInt(4), 1, 5);
                    if (t == 2) out = new int[]{3, 37}; // long enough rows for the vector path
                    int[][] sh = broadcastPair(r, out);
                    if (t == 3) sh = new int[][]{{3, 37}, {37}};
                    if (t == 4) sh = new int[][]{{3, 1}, {3, 37}};
                    if (t == 5) sh = new int[][]{{}, {3, 37}};
                    int[] os = broadcastShape(sh[0], sh[1]);
                    double[] a = binaryInputs(r, op, dt, numel(sh[0]), false), b = binaryInputs(r, op, dt, numel(sh[1]), true);
                    Tensor ta = maybeNonContiguous(r, tensor(a, dt, sh[0])), tb = maybeNonContiguous(r, tensor(b, dt, sh[1]));
                    double[] ab = broadcastRef(a, sh[0], os), bb = broadcastRef(b, sh[1], os);
                    double[] expect = new double[ab.length];
                    for (int i = 0; i < ab.length; i++) expect[i] = ref(op, ab[i], bb[i], dt);
                    Tensor y = ta.binary(op, tb);
                    assertEquals(dt, y.dtype(), op + " returns the input dtype");
                    assertValues(op + " " + dt + " " + s(sh[0]) + " x " + s(sh[1]), y, expect, os);
                }
            }
        }
    }

    @Test
    void namedMethodsAndScalarOverloads() {
        Random r = rng(25);
        int[] shape = {4, 19};
        for (DType dt : ALL) {
            double[] a = binaryInputs(r, BinaryOp.ADD, dt, numel(shape), false);
            double[] b = binaryInputs(r, BinaryOp.ADD, dt, numel(shape), true);
            for (int i = 0; i < b.length; i++) if (b[i] == 0) b[i] = 1;
            Tensor x = tensor(a, dt, shape), y = tensor(b, dt, shape);
            double sc = dt == DType.I32 ? 3 : 1.25;
            Tensor[] viaTensor = {x.add(y), x.sub(y), x.mul(y), x.div(y), x.maximum(y), x.minimum(y), x.eq(y), x.ne(y), x.lt(y), x.le(y), x.gt(y), x.ge(y)};
            Tensor[] viaScalar = {x.add(sc), x.sub(sc), x.mul(sc), x.div(sc), x.maximum(sc), x.minimum(sc), x.eq(sc), x.ne(sc), x.lt(sc), x.le(sc), x.gt(sc), x.ge(sc)};
            BinaryOp[] ops = {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MAX, BinaryOp.MIN, BinaryOp.EQ, BinaryOp.NE, BinaryOp.LT, BinaryOp.LE, BinaryOp.GT, BinaryOp.GE};
            for (int k = 0; k < ops.length; k++) {
                double[] e1 = new double[a.length], e2 = new double[a.length];
                for (int i = 0; i < a.length; i++) {
                    e1[i] = ref(ops[k], a[i], b[i], dt);
                    e2[i] = ref(ops[k], a[i], sc, dt);
                }
                assertValues(ops[k] + " " + dt, viaTensor[k], e1, shape);
                assertValues(ops[k] + " scalar " + dt, viaScalar[k], e2, shape);
                assertEquals(dt, viaScalar[k].dtype());
            }
            if (dt != DType.I32) {
                Tensor p = x.abs().add(0.5);
                double[] e = new double[a.length], e2 = new double[a.length];
                for (int i = 0; i < a.length; i++) {
                    double base = dt == DType.F32 ? (float) (Math.abs(a[i]) + 0.5) : Math.abs(a[i]) + 0.5;
                    e[i] = Math.pow(base, 1.5);
                    e2[i] = Math.pow(base, b[i]);
                }
                assertValues("pow scalar " + dt, p.pow(1.5), e, shape);
                assertValues("pow tensor " + dt, p.pow(y), e2, shape);
            }
        }
        // I32 division truncates toward zero; integer division by zero is an error
        Tensor i = Tensor.of(new int[]{7, -7, 7, -7}, 4);
        assertArrayEquals(new int[]{3, -3, -3, 3}, i.div(Tensor.of(new int[]{2, 2, -2, -2}, 4)).toIntArray());
        assertArrayEquals(new int[]{1, 1, 1, 1}, Tensor.scalar(2).expand(4).lt(Tensor.of(new float[]{3, 4, 5, 6}, 4)).toIntArray());
    }

    /** Comparisons and max/min with NaN, and pow's special cases, through both F32 paths and F64. */
    @Test
    void nanComparisonsAndPowSpecialCases() {
        double nan = Double.NaN;
        double[] a = {nan, 1, nan, 0, -2, -2, 0, 0, 2, -8, 4, nan, 1, 3, -1, 5};
        double[] b = {1, nan, nan, 0, 3, 2, 0, -1, 0.5, 1.0 / 3, -0.5, 0, 2, 1, 0.5, -2};
        int reps = 7; // 112 elements: the vector loop and the tail both see every pair
        double[] ar = new double[a.length * reps], br = new double[ar.length];
        for (int i = 0; i < ar.length; i++) {
            ar[i] = a[i % a.length];
            br[i] = b[i % b.length];
        }
        int n = ar.length;
        for (DType dt : FLOATING) {
            Tensor x = tensor(ar, dt, n), y = tensor(br, dt, n);
            Tensor xs = tensor(interleave(ar), dt, n, 2).select(1, 0), ys = tensor(interleave(br), dt, n, 2).select(1, 0);
            for (BinaryOp op : BinaryOp.values()) {
                if (op == BinaryOp.DIV || op == BinaryOp.ADD || op == BinaryOp.SUB || op == BinaryOp.MUL) continue;
                double[] e = new double[n];
                for (int i = 0; i < n; i++) {
                    double fa = dt == DType.F32 ? (float) ar[i] : ar[i], fb = dt == DType.F32 ? (float) br[i] : br[i];
                    e[i] = ref(op, fa, fb, dt);
                }
                assertValues(op + " " + dt + " vector/contiguous", x.binary(op, y), e, n);
                assertValues(op + " " + dt + " strided", xs.binary(op, ys), e, n);
            }
        }
    }

    private static double[] interleave(double[] v) {
        double[] r = new double[2 * v.length];
        for (int i = 0; i < v.length; i++) {
            r[2 * i] = v[i];
            r[2 * i + 1] = Double.NaN;
        }
        return r;
    }

    @Test
    void zeroDimAndEmptyOperands() {
        Tensor a = Tensor.scalar(2), b = Tensor.scalar(5);
        Tensor c = a.mul(b);
        assertEquals(0, c.ndim());
        assertEquals(10, c.item());
        Tensor v = Tensor.of(new float[]{1, 2, 3}, 3);
        assertArrayEquals(new double[]{3, 4, 5}, v.add(a).toDoubleArray());
        assertArrayEquals(new double[]{3, 4, 5}, a.add(v).toDoubleArray());
        Tensor e = Tensor.zeros(0, 3);
        assertArrayEquals(new int[]{0, 3}, e.add(v).shape());
        assertArrayEquals(new int[]{0, 3}, e.exp().shape());
        assertArrayEquals(new int[]{2, 0, 3}, Tensor.zeros(2, 1, 1).add(e).shape());
        assertArrayEquals(new int[]{0}, Tensor.zeros(0).add(Tensor.zeros(1)).shape());
    }

    // ---------------------------------------------------------------- where / maskedFill

    @Test
    void whereBroadcastsAllThreeOperands() {
        Random r = rng(26);
        for (int t = 0; t < 60; t++) {
            DType dt = ALL[t % 3];
            DType ct = ALL[r.nextInt(3)];
            int[] out = t == 0 ? new int[0] : t == 1 ? new int[]{0, 2} : randomShape(r, 1 + r.nextInt(3), 1, 5);
            int[][] ab = broadcastPair(r, out);
            int[] cs = broadcastPair(r, out)[0];
            int[] os = broadcastShape(broadcastShape(cs, ab[0]), ab[1]);
            double[] c = new double[numel(cs)];
            for (int i = 0; i < c.length; i++) {
                int k = r.nextInt(4);
                c[i] = k == 0 ? 0 : k == 1 ? 1 : k == 2 ? -3 : (ct == DType.I32 ? 0 : Double.NaN); // NaN counts as true
            }
            double[] a = randomValues(r, numel(ab[0]), dt), b = randomValues(r, numel(ab[1]), dt);
            Tensor y = Tensor.where(maybeNonContiguous(r, tensor(c, ct, cs)), maybeNonContiguous(r, tensor(a, dt, ab[0])), maybeNonContiguous(r, tensor(b, dt, ab[1])));
            double[] cb = broadcastRef(c, cs, os), abv = broadcastRef(a, ab[0], os), bbv = broadcastRef(b, ab[1], os);
            double[] e = new double[cb.length];
            for (int i = 0; i < e.length; i++) e[i] = cb[i] != 0 ? abv[i] : bbv[i];
            assertEquals(dt, y.dtype());
            assertValues("where " + s(cs) + " " + s(ab[0]) + " " + s(ab[1]), y, e, os);
        }
        assertIAE(() -> Tensor.where(Tensor.zeros(3), Tensor.zeros(3), Tensor.zeros(DType.F64, 3)), "where", "F32", "F64");
        assertIAE(() -> Tensor.where(Tensor.zeros(4), Tensor.zeros(3), Tensor.zeros(3)), "where", "[4]", "[3]");
    }

    @Test
    void maskedFillWithABroadcastMask() {
        Random r = rng(27);
        for (int t = 0; t < 30; t++) {
            DType dt = ALL[t % 3];
            int[] shape = randomShape(r, 1 + r.nextInt(3), 1, 5);
            int[] ms = broadcastPair(r, shape)[0];
            double[] m = new double[numel(ms)];
            for (int i = 0; i < m.length; i++) m[i] = r.nextBoolean() ? 1 : 0;
            double[] x = randomValues(r, numel(shape), dt);
            double fill = dt == DType.I32 ? -7 : -1e9;
            Tensor y = maybeNonContiguous(r, tensor(x, dt, shape)).maskedFill(maybeNonContiguous(r, tensor(m, DType.I32, ms)), fill);
            double[] mb = broadcastRef(m, ms, shape);
            double[] e = new double[x.length];
            for (int i = 0; i < e.length; i++) e[i] = mb[i] != 0 ? fill : x[i];
            assertValues("maskedFill " + s(shape) + " mask " + s(ms), y, e, shape);
        }
        // an attention-style mask: -inf above the diagonal
        Tensor scores = Tensor.zeros(3, 3);
        Tensor mask = Tensor.of(new float[]{0, 1, 1, 0, 0, 1, 0, 0, 0}, 3, 3);
        double ninf = Double.NEGATIVE_INFINITY;
        assertArrayEquals(new double[]{0, ninf, ninf, 0, 0, ninf, 0, 0, 0}, scores.maskedFill(mask, ninf).toDoubleArray());
        assertIAE(() -> Tensor.zeros(3).maskedFill(Tensor.zeros(2, 3), 1), "maskedFill", "[2, 3]", "[3]");
        assertIAE(() -> Tensor.zeros(3).maskedFill(Tensor.zeros(4), 1), "maskedFill", "[4]", "[3]");
    }
}
