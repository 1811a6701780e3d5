package mlip.tensor;

import static mlip.tensor.TestTensors.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** sum/mean/max/min and argmax/argmin against loops over the N-d index, on every layout the kernels distinguish. */
class ReduceTest {

    /** Reference reduction of {@code v} (row-major over {@code shape}) over the dims flagged in {@code red}. */
    static double[] reduceRef(ReduceOp op, double[] v, int[] shape, boolean[] red, DType dt) {
        int nd = shape.length;
        int[] outShape = keptShape(shape, red, true);
        int n = numel(outShape);
        double[] acc = new double[n];
        int[] count = new int[n];
        boolean[] first = new boolean[n];
        Arrays.fill(first, true);
        int[] oi = new int[nd];
        int[] k = {0};
        forEachIndex(shape, idx -> {
            for (int i = 0; i < nd; i++) oi[i] = red[i] ? 0 : idx[i];
            int o = ravel(oi, outShape);
            double x = v[k[0]++];
            count[o]++;
            if (first[o]) {
                acc[o] = x;
                first[o] = false;
                return;
            }
            acc[o] = switch (op) {
                case SUM, MEAN -> acc[o] + x;
                case MAX -> Double.isNaN(acc[o]) || Double.isNaN(x) ? Double.NaN : Math.max(acc[o], x);
                case MIN -> Double.isNaN(acc[o]) || Double.isNaN(x) ? Double.NaN : Math.min(acc[o], x);
            };
        });
        for (int o = 0; o < n; o++) {
            if (count[o] == 0) acc[o] = op == ReduceOp.MEAN ? Double.NaN : 0;
            else if (op == ReduceOp.MEAN) acc[o] /= count[o];
            if (dt == DType.I32) acc[o] = (int) acc[o];
        }
        return acc;
    }

    static int[] keptShape(int[] shape, boolean[] red, boolean keepdim) {
        return java.util.stream.IntStream.range(0, shape.length).filter(i -> keepdim || !red[i]).map(i -> red[i] ? 1 : shape[i]).toArray();
    }

    private static Tensor call(Tensor x, ReduceOp op, int[] dims, boolean keepdim) {
        if (dims.length == 1 && new Random(dims[0]).nextBoolean()) {
            return switch (op) { // the single-dim convenience methods
                case SUM -> x.sum(dims[0], keepdim);
                case MEAN -> x.mean(dims[0], keepdim);
                case MAX -> x.max(dims[0], keepdim);
                case MIN -> x.min(dims[0], keepdim);
            };
        }
        return x.reduce(op, dims, keepdim);
    }

    @Test
    void randomShapesDimsLayoutsAndDtypes() {
        Random r = rng(31);
        for (int t = 0; t < 300; t++) {
            DType dt = ALL[t % 3];
            ReduceOp op = ReduceOp.values()[(t / 3) % 4];
            if (dt == DType.I32 && op == ReduceOp.MEAN) continue;
            int nd = 1 + r.nextInt(4);
            int[] shape = randomShape(r, nd, op == ReduceOp.MAX || op == ReduceOp.MIN ? 1 : 0, 6);
            double[] v = dt == DType.F32 ? dyadic(r, numel(shape)) : randomValues(r, numel(shape), dt);
            Tensor x = tensor(v, dt, shape);
            Tensor in = switch (r.nextInt(4)) {
                case 0 -> x;
                case 1 -> nonContiguous(r, x);
                default -> maybeNonContiguous(r, x);
            };
            boolean[] red = new boolean[nd];
            int cnt = 0;
            for (int i = 0; i < nd; i++) {
                red[i] = r.nextBoolean();
                if (red[i]) cnt++;
            }
            if (cnt == 0) red[r.nextInt(nd)] = true;
            int[] dims = java.util.stream.IntStream.range(0, nd).filter(i -> red[i]).map(i -> r.nextBoolean() ? i : i - nd).toArray();
            // shuffle the dims: order must not matter
            int[] p = randomPermutation(r, dims.length);
            int[] dd = new int[dims.length];
            for (int i = 0; i < dims.length; i++) dd[i] = dims[p[i]];
            boolean keep = r.nextBoolean();
            Tensor y = call(in, op, dd, keep);
            assertEquals(dt, y.dtype());
            assertValues(op + " " + dt + " " + s(shape) + " dims " + Arrays.toString(dd) + " keepdim " + keep, y,
                    reduceRef(op, v, shape, red, dt), keptShape(shape, red, keep));
        }
    }

    @Test
    void allDimsAndScalars() {
        Random r = rng(32);
        for (DType dt : ALL) {
            for (int[] shape : new int[][]{{}, {1}, {5}, {3, 4}, {2, 3, 5}}) {
                double[] v = dt == DType.F32 ? dyadic(r, numel(shape)) : randomValues(r, numel(shape), dt);
                Tensor x = maybeNonContiguous(r, tensor(v, dt, shape));
                boolean[] all = new boolean[shape.length];
                Arrays.fill(all, true);
                assertValues("sum " + s(shape), x.sum(), reduceRef(ReduceOp.SUM, v, shape, all, dt));
                assertValues("max " + s(shape), x.max(), reduceRef(ReduceOp.MAX, v, shape, all, dt));
                assertValues("min " + s(shape), x.min(), reduceRef(ReduceOp.MIN, v, shape, all, dt));
                if (dt != DType.I32) assertValues("mean " + s(shape), x.mean(), reduceRef(ReduceOp.MEAN, v, shape, all, dt));
                assertEquals(0, x.sum().ndim());
            }
        }
        assertIAE(() -> Tensor.zeros(DType.I32, 3).mean(), "mean", "I32");
        assertIAE(() -> Tensor.zeros(3, 4).sum(2, false), "sum", "2");
        assertIAE(() -> Tensor.zeros(3, 4).sum(new int[]{0, -2}, false), "sum", "repeated");
    }

    @Test
    void emptyDims() {
        Tensor e = Tensor.zeros(3, 0);
        assertArrayEquals(new double[]{0, 0, 0}, e.sum(1, false).toDoubleArray());
        assertArrayEquals(new int[]{3, 1}, e.sum(1, true).shape());
        assertArrayEquals(new int[]{0}, e.sum(0, false).shape());
        assertEquals(0, e.sum().item());
        double[] m = e.mean(1, false).toDoubleArray();
        assertEquals(3, m.length);
        for (double x : m) assertTrue(Double.isNaN(x), "mean over an empty dim is NaN (as in PyTorch)");
        assertTrue(Double.isNaN(Tensor.zeros(0).mean().item()));
        assertArrayEquals(new int[]{0}, e.max(0, false).shape()); // reducing a non-empty dim of an empty tensor is fine
        assertIAE(() -> e.max(1, false), "max", "[3, 0]");
        assertIAE(() -> e.min(), "min", "[3, 0]");
        assertIAE(() -> e.argmax(1, false), "argmax", "[3, 0]");
        assertArrayEquals(new int[]{0, 1}, Tensor.zeros(0, 4).argmin(1, true).shape());
        assertArrayEquals(new double[]{0, 0, 0, 0}, Tensor.zeros(DType.I32, 0, 4).sum(0, false).toDoubleArray());
    }

    /** Dim 0 of a contiguous (N, D) is the column layout; dim 0 of a transposed tensor, or dim 1 of it, the others. */
    @Test
    void columnAndTransposedLayouts() {
        Random r = rng(33);
        for (DType dt : ALL) {
            for (int[] nd : new int[][]{{37, 5}, {64, 33}, {5, 1000}, {1, 7}, {300, 2}}) {
                int n = nd[0], d = nd[1];
                double[] v = dt == DType.F32 ? dyadic(r, n * d) : randomValues(r, n * d, dt);
                Tensor x = tensor(v, dt, n, d);
                for (ReduceOp op : ReduceOp.values()) {
                    if (dt == DType.I32 && op == ReduceOp.MEAN) continue;
                    assertValues(op + " dim 0 of " + s(nd) + " " + dt, x.reduce(op, new int[]{0}, false),
                            reduceRef(op, v, nd, new boolean[]{true, false}, dt), d);
                    assertValues(op + " dim 1 of " + s(nd) + " " + dt, x.reduce(op, new int[]{1}, true),
                            reduceRef(op, v, nd, new boolean[]{false, true}, dt), n, 1);
                    // the same values stored transposed: x = st.t() with st (D, N) contiguous
                    double[] tv = new double[n * d];
                    for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) tv[j * n + i] = v[i * d + j];
                    Tensor xt = tensor(tv, dt, d, n).t();
                    assertValues(op + " dim 0 of transposed " + s(nd) + " " + dt, xt.reduce(op, new int[]{0}, false),
                            reduceRef(op, v, nd, new boolean[]{true, false}, dt), d);
                    assertValues(op + " dim 1 of transposed " + s(nd) + " " + dt, xt.reduce(op, new int[]{1}, false),
                            reduceRef(op, v, nd, new boolean[]{false, true}, dt), n);
                    // a broadcast (stride-0) input: every row the same
                    Tensor row = tensor(Arrays.copyOf(v, d), dt, 1, d);
                    double[] bv = broadcastRef(Arrays.copyOf(v, d), new int[]{1, d}, nd);
                    assertValues(op + " dim 0 of expanded " + s(nd) + " " + dt, row.expand(n, d).reduce(op, new int[]{0}, false),
                            reduceRef(op, bv, nd, new boolean[]{true, false}, dt), d);
                }
            }
        }
    }

    /** Rows longer than one reduction chunk (16384) are split into chunks combined in order. */
    @Test
    void longRows() {
        Random r = rng(34);
        int n = 40_001;
        for (DType dt : FLOATING) {
            double[] v = new double[2 * n];
            // values in [0.5, 1.5): a sum of n of them is ~n, so F32 rounding error stays far below rtol * |sum|
            for (int i = 0; i < v.length; i++) v[i] = dt == DType.F32 ? (float) (0.5 + r.nextDouble()) : 0.5 + r.nextDouble();
            v[12345] = 7; // a unique max in the first chunk of row 0
            v[n + 39_000] = 9; // and in the last chunk of row 1
            v[20_000] = 0.01;
            Tensor x = tensor(v, dt, 2, n);
            for (ReduceOp op : ReduceOp.values()) {
                assertValues(op + " long rows " + dt, x.reduce(op, new int[]{1}, false), reduceRef(op, v, new int[]{2, n}, new boolean[]{false, true}, dt), 2);
                assertValues(op + " long rows, all " + dt, x.reduce(op, new int[]{0, 1}, false), reduceRef(op, v, new int[]{2, n}, new boolean[]{true, true}, dt));
                // the same data as (n, 2) reduced over dim 0: the column layout with a long reduced dim
                double[] tv = new double[2 * n];
                for (int i = 0; i < n; i++) for (int j = 0; j < 2; j++) tv[i * 2 + j] = v[j * n + i];
                assertValues(op + " long columns " + dt, tensor(tv, dt, n, 2).reduce(op, new int[]{0}, false),
                        reduceRef(op, v, new int[]{2, n}, new boolean[]{false, true}, dt), 2);
                assertValues(op + " long transposed " + dt, x.t().reduce(op, new int[]{0}, true),
                        reduceRef(op, v, new int[]{2, n}, new boolean[]{false, true}, dt), 1, 2);
            }
            assertEquals(2, x.argmax(1, false).toIntArray().length);
            assertArrayEquals(new int[]{12345, 39_000}, x.argmax(1, false).toIntArray());
            assertArrayEquals(new int[]{20_000, argminRef(v, n, n)}, x.argmin(1, false).toIntArray());
        }
        int[] iv = new int[3 * n];
        long exact = 0;
        for (int i = 0; i < iv.length; i++) {
            iv[i] = r.nextInt(2001) - 1000;
            exact += iv[i];
        }
        assertEquals((double) exact, Tensor.of(iv, iv.length).sum().item(), "I32 long sum is exact");
    }

    private static int argminRef(double[] v, int start, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) if (v[start + j] < v[start + best]) best = j;
        return best;
    }

    @Test
    void maxAndMinPropagateNaN() {
        for (DType dt : FLOATING) {
            for (int n : new int[]{5, 16, 37, 1000, 20_000}) {
                for (int pos : new int[]{0, n / 2, n - 1}) {
                    double[] v = new double[n];
                    for (int i = 0; i < n; i++) v[i] = (i * 7919) % 101 - 50;
                    v[pos] = Double.NaN;
                    Tensor x = tensor(v, dt, n);
                    assertTrue(Double.isNaN(x.max().item()), "max " + dt + " n=" + n + " NaN at " + pos);
                    assertTrue(Double.isNaN(x.min().item()), "min " + dt + " n=" + n + " NaN at " + pos);
                    assertEquals(pos, (int) x.argmax(0, false).item(), "argmax picks the NaN");
                    assertEquals(pos, (int) x.argmin(0, false).item(), "argmin picks the NaN");
                    // column layout: (n, 3) with the NaN in column 1
                    double[] c = new double[n * 3];
                    for (int i = 0; i < n; i++) for (int j = 0; j < 3; j++) c[i * 3 + j] = j == 1 ? v[i] : (i * (j + 3)) % 13;
                    Tensor cx = tensor(c, dt, n, 3);
                    for (ReduceOp op : new ReduceOp[]{ReduceOp.MAX, ReduceOp.MIN}) {
                        double[] y = cx.reduce(op, new int[]{0}, false).toDoubleArray();
                        assertTrue(Double.isNaN(y[1]) && !Double.isNaN(y[0]) && !Double.isNaN(y[2]),
                                op + " columns " + dt + " n=" + n + ": " + Arrays.toString(y));
                        y = cx.t().reduce(op, new int[]{1}, false).toDoubleArray();
                        assertTrue(Double.isNaN(y[1]) && !Double.isNaN(y[0]) && !Double.isNaN(y[2]), op + " transposed rows " + dt);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- argmax / argmin

    static int[] argRef(boolean max, double[] v, int[] shape, int dim) {
        boolean[] red = new boolean[shape.length];
        red[dim] = true;
        int[] outShape = keptShape(shape, red, true);
        int[] best = new int[numel(outShape)];
        double[] bv = new double[best.length];
        boolean[] seen = new boolean[best.length];
        int[] oi = new int[shape.length];
        int[] k = {0};
        forEachIndex(shape, idx -> {
            for (int i = 0; i < shape.length; i++) oi[i] = i == dim ? 0 : idx[i];
            int o = ravel(oi, outShape);
            double x = v[k[0]++];
            boolean take = !seen[o] || (!Double.isNaN(bv[o]) && (Double.isNaN(x) || (max ? x > bv[o] : x < bv[o])));
            if (take) {
                seen[o] = true;
                bv[o] = x;
                best[o] = idx[dim];
            }
        });
        return best;
    }

    @Test
    void argmaxArgminFirstOccurrenceOfTies() {
        Random r = rng(35);
        for (int t = 0; t < 120; t++) {
            DType dt = ALL[t % 3];
            int nd = 1 + r.nextInt(4);
            int[] shape = randomShape(r, nd, 1, 6);
            double[] v = new double[numel(shape)];
            for (int i = 0; i < v.length; i++) v[i] = r.nextInt(4) - 1; // many ties
            if (dt != DType.I32 && t % 5 == 0) v[r.nextInt(v.length)] = Double.NaN;
            Tensor x = maybeNonContiguous(r, tensor(v, dt, shape));
            int dim = r.nextInt(nd);
            boolean keep = r.nextBoolean();
            boolean[] red = new boolean[nd];
            red[dim] = true;
            int[] os = keptShape(shape, red, keep);
            Tensor am = x.argmax(r.nextBoolean() ? dim : dim - nd, keep);
            Tensor an = x.argmin(dim, keep);
            assertEquals(DType.I32, am.dtype());
            assertValues("argmax " + dt + " " + s(shape) + " dim " + dim, am, Arrays.stream(argRef(true, v, shape, dim)).asDoubleStream().toArray(), os);
            assertValues("argmin " + dt + " " + s(shape) + " dim " + dim, an, Arrays.stream(argRef(false, v, shape, dim)).asDoubleStream().toArray(), os);
        }
        Tensor ties = Tensor.of(new float[]{1, 3, 3, 0, 3, 0, 0, 1}, 8);
        assertEquals(1, (int) ties.argmax(0, false).item());
        assertEquals(3, (int) ties.argmin(0, false).item());
    }
}
