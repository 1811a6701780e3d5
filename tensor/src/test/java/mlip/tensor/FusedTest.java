package mlip.tensor;

import static mlip.tensor.TestTensors.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Fused softmax / logSoftmax, layerNorm and crossEntropy, each checked twice: against a hand formula
 * in double loops, and against the composite of engine primitives (DESIGN.md 4: every fused op has one).
 */
class FusedTest {

    // ---------------------------------------------------------------- softmax

    /** Softmax (or log-softmax) of {@code v} (row-major over {@code shape}) along {@code dim}, in double. */
    static double[] softmaxRef(double[] v, int[] shape, int dim, boolean log) {
        int nd = shape.length, n = shape[dim];
        double[] out = new double[v.length];
        boolean[] red = new boolean[nd];
        red[dim] = true;
        int[] outer = shape.clone();
        outer[dim] = 1;
        int[] xi = new int[nd];
        forEachIndex(outer, idx -> {
            System.arraycopy(idx, 0, xi, 0, nd);
            double max = Double.NEGATIVE_INFINITY;
            boolean nan = false;
            for (int j = 0; j < n; j++) {
                xi[dim] = j;
                double x = v[ravel(xi, shape)];
                if (Double.isNaN(x)) nan = true;
                max = Math.max(max, x);
            }
            double sum = 0;
            for (int j = 0; j < n; j++) {
                xi[dim] = j;
                sum += Math.exp(v[ravel(xi, shape)] - max);
            }
            for (int j = 0; j < n; j++) {
                xi[dim] = j;
                int at = ravel(xi, shape);
                double z = v[at] - max;
                out[at] = nan ? Double.NaN : log ? z - Math.log(sum) : Math.exp(z) / sum;
            }
        });
        return out;
    }

    static Tensor softmaxComposite(Tensor x, int dim, boolean log) {
        Tensor z = x.sub(x.max(dim, true));
        Tensor s = z.exp().sum(dim, true);
        return log ? z.sub(s.log()) : z.exp().div(s);
    }

    @Test
    void softmaxAndLogSoftmaxAlongAnyDim() {
        Random r = rng(61);
        for (int t = 0; t < 120; t++) {
            DType dt = FLOATING[t % 2];
            int nd = 1 + r.nextInt(4);
            int[] shape = randomShape(r, nd, 1, 6);
            if (t == 5) shape = new int[]{3, 5000}; // long rows: the vector loops and their tails
            if (t == 6) shape = new int[]{2, 0, 3};
            if (t == 8) shape = new int[]{};
            nd = shape.length;
            int dim = nd == 0 ? 0 : r.nextInt(nd);
            double[] v = randomValues(r, numel(shape), dt);
            for (int i = 0; i < v.length; i++) v[i] = dt == DType.F32 ? (float) (3 * v[i]) : 3 * v[i];
            if (t % 7 == 0 && v.length > 2) {
                v[0] = Double.NEGATIVE_INFINITY; // masked entries
                v[v.length - 1] = 800; // large logits must not overflow
            }
            Tensor x = maybeNonContiguous(r, tensor(v, dt, shape));
            if (nd == 0) {
                assertIAE(() -> x.softmax(0), "softmax");
                continue;
            }
            boolean log = r.nextBoolean();
            int d = r.nextBoolean() ? dim : dim - nd;
            Tensor y = log ? x.logSoftmax(d) : x.softmax(d);
            String what = (log ? "logSoftmax " : "softmax ") + dt + " " + s(shape) + " dim " + dim;
            assertEquals(dt, y.dtype());
            assertValues(what, y, softmaxRef(v, shape, dim, log), shape);
            Tolerance.assertClose(what + " vs composite", y, softmaxComposite(x, d, log));
        }
    }

    @Test
    void softmaxSpecialRows() {
        double ninf = Double.NEGATIVE_INFINITY;
        for (DType dt : FLOATING) {
            // one masked row, one all-equal row, one with a single finite entry, one huge-range row; length 19 > a vector
            int n = 19;
            double[] v = new double[4 * n];
            for (int j = 0; j < n; j++) {
                v[j] = j % 3 == 0 ? ninf : j * 0.1;
                v[n + j] = 2.5;
                v[2 * n + j] = j == 7 ? -3 : ninf;
                v[3 * n + j] = j == 0 ? 1e4 : -1e4 + j;
            }
            Tensor x = tensor(v, dt, 4, n);
            assertValues("softmax special " + dt, x.softmax(1), softmaxRef(v, new int[]{4, n}, 1, false), 4, n);
            double[] ls = softmaxRef(v, new int[]{4, n}, 1, true);
            assertValues("logSoftmax special " + dt, x.logSoftmax(1), ls, 4, n);
            double[] p = x.softmax(1).toDoubleArray();
            for (int row = 0; row < 4; row++) {
                double sum = 0;
                for (int j = 0; j < n; j++) sum += p[row * n + j];
                assertEquals(1.0, sum, 1e-5, "row " + row + " sums to 1");
            }
            assertEquals(1.0, p[2 * n + 7], 0.0, "a single finite entry gets probability 1");
            assertArrayEquals(new double[]{1, 1, 1}, tensor(new double[]{4, -2, 7}, dt, 3, 1).softmax(1).toDoubleArray(), 0.0);
        }
        assertIAE(() -> Tensor.zeros(DType.I32, 3).softmax(0), "softmax", "I32");
        assertIAE(() -> Tensor.zeros(3).logSoftmax(1), "logSoftmax");
    }

    // ---------------------------------------------------------------- layer norm

    @Test
    void layerNormWithAndWithoutAffineAndItsStatistics() {
        Random r = rng(62);
        for (int t = 0; t < 80; t++) {
            DType dt = FLOATING[t % 2];
            int nd = 1 + r.nextInt(3);
            int[] shape = randomShape(r, nd, 1, 5);
            shape[nd - 1] = new int[]{1, 2, 7, 16, 33, 64, 100, 1000}[r.nextInt(8)];
            if (t == 3) shape = new int[]{0, 8};
            nd = shape.length;
            int d = shape[nd - 1], rows = numel(shape) / Math.max(1, d);
            double[] v = randomValues(r, numel(shape), dt);
            for (int i = 0; i < v.length; i++) v[i] = dt == DType.F32 ? (float) (2 * v[i] + 3) : 2 * v[i] + 3;
            boolean hasW = r.nextBoolean(), hasB = r.nextBoolean();
            double[] w = randomValues(r, d, dt), b = randomValues(r, d, dt);
            double eps = t % 3 == 0 ? 1e-5 : 1e-6;
            Tensor x = maybeNonContiguous(r, tensor(v, dt, shape));
            Tensor tw = hasW ? maybeNonContiguous(r, tensor(w, dt, d)) : null, tb = hasB ? maybeNonContiguous(r, tensor(b, dt, d)) : null;
            Tensor.LayerNorm ln = x.layerNormForward(tw, tb, eps);
            double[] out = new double[v.length], mean = new double[rows], rstd = new double[rows];
            for (int row = 0; row < rows; row++) {
                double mu = 0;
                for (int j = 0; j < d; j++) mu += v[row * d + j];
                mu /= d;
                double var = 0;
                for (int j = 0; j < d; j++) var += (v[row * d + j] - mu) * (v[row * d + j] - mu);
                var /= d;
                double rs = 1 / Math.sqrt(var + eps);
                mean[row] = mu;
                rstd[row] = rs;
                for (int j = 0; j < d; j++) {
                    double y = (v[row * d + j] - mu) * rs;
                    if (hasW) y *= w[j];
                    if (hasB) y += b[j];
                    out[row * d + j] = y;
                }
            }
            int[] stat = Arrays.copyOf(shape, nd - 1);
            String what = "layerNorm " + dt + " " + s(shape) + (hasW ? " w" : "") + (hasB ? " b" : "");
            assertValues(what, ln.out(), out, shape);
            assertValues(what + " mean", ln.mean(), mean, stat);
            assertValues(what + " rstd", ln.rstd(), rstd, stat);
            assertEquals(dt, ln.out().dtype());
            // the composite of primitives
            Tensor mu = x.mean(-1, true);
            Tensor xc = x.sub(mu);
            Tensor y = xc.mul(xc.square().mean(-1, true).add(eps).rsqrt());
            if (hasW) y = y.mul(tw);
            if (hasB) y = y.add(tb);
            Tolerance.assertClose(what + " vs composite", ln.out(), y);
            Tolerance.assertClose(what + ": layerNorm == layerNormForward.out", x.layerNorm(tw, tb, eps), ln.out()); // bits: DeterminismTest
        }
        assertIAE(() -> Tensor.zeros(3, 4).layerNorm(Tensor.zeros(3), null, 1e-5), "layerNorm", "[3]", "[3, 4]");
        assertIAE(() -> Tensor.zeros(3, 4).layerNorm(null, Tensor.zeros(1, 4), 1e-5), "layerNorm", "[1, 4]", "[3, 4]");
        assertIAE(() -> Tensor.zeros(3, 4).layerNorm(Tensor.zeros(DType.F64, 4), null, 1e-5), "layerNorm", "F64");
        assertIAE(() -> Tensor.scalar(1).layerNorm(null, null, 1e-5), "layerNorm");
        assertIAE(() -> Tensor.zeros(DType.I32, 3, 4).layerNorm(null, null, 1e-5), "layerNorm", "I32");
    }

    // ---------------------------------------------------------------- cross-entropy

    static double[] crossEntropyRows(double[] v, int n, int c, int[] target, int ignore, double eps) {
        double[] loss = new double[n];
        for (int i = 0; i < n; i++) {
            if (target[i] == ignore) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) max = Math.max(max, v[i * c + j]);
            double sum = 0;
            for (int j = 0; j < c; j++) sum += Math.exp(v[i * c + j] - max);
            double lse = max + Math.log(sum);
            // -sum_j q_j log p_j with q = (1 - eps) onehot + eps / C
            double l = 0;
            for (int j = 0; j < c; j++) {
                double q = (j == target[i] ? 1 - eps : 0) + eps / c;
                l -= q * (v[i * c + j] - lse);
            }
            loss[i] = l;
        }
        return loss;
    }

    static Tensor crossEntropyComposite(Tensor logits, Tensor target, int ignore, double eps, Reduction red) {
        DType dt = logits.dtype();
        Tensor valid = target.ne(ignore).to(dt);                                          // (N)
        Tensor safe = Tensor.where(target.eq(ignore), Tensor.zeros(DType.I32, 1), target); // (N)
        Tensor logp = logits.logSoftmax(1);                                                 // (N, C)
        Tensor nll = logp.gather(1, safe.unsqueeze(1)).squeeze(1).neg();                    // (N)
        Tensor smooth = logp.mean(1, false).neg();                                          // (N)
        Tensor loss = nll.mul(1 - eps).add(smooth.mul(eps)).mul(valid);
        return switch (red) {
            case NONE -> loss;
            case SUM -> loss.sum();
            case MEAN -> loss.sum().div(valid.sum());
        };
    }

    @Test
    void crossEntropyWithIgnoreIndexSmoothingAndEveryReduction() {
        Random r = rng(63);
        for (int t = 0; t < 90; t++) {
            DType dt = FLOATING[t % 2];
            int n = 1 + r.nextInt(9), c = 1 + r.nextInt(12);
            if (t == 4) {
                n = 5;
                c = 1000;
            }
            int ignore = r.nextBoolean() ? -100 : r.nextInt(c); // an in-range ignore index is legal too
            double eps = new double[]{0, 0, 0.1, 0.25, 1.0}[r.nextInt(5)];
            Reduction red = Reduction.values()[t % 3];
            double[] v = randomValues(r, n * c, dt);
            for (int i = 0; i < v.length; i++) v[i] = dt == DType.F32 ? (float) (3 * v[i]) : 3 * v[i];
            int[] target = new int[n];
            int kept = 0;
            for (int i = 0; i < n; i++) {
                target[i] = r.nextInt(4) == 0 ? ignore : r.nextInt(c);
                if (target[i] != ignore) kept++;
            }
            if (kept == 0 && red == Reduction.MEAN) { // the all-ignored mean (NaN) is checked below
                int cls = ignore == 0 ? 1 : 0;
                if (cls >= c) continue;
                target[0] = cls;
                kept = 1;
            }
            Tensor logits = maybeNonContiguous(r, tensor(v, dt, n, c));
            Tensor tg = maybeNonContiguous(r, Tensor.of(target, n));
            Tensor y = logits.crossEntropy(tg, ignore, eps, red);
            double[] rows = crossEntropyRows(v, n, c, target, ignore, eps);
            double sum = Arrays.stream(rows).sum();
            String what = "crossEntropy " + dt + " (" + n + ", " + c + ") ignore " + ignore + " eps " + eps + " " + red;
            assertEquals(dt, y.dtype());
            switch (red) {
                case NONE -> assertValues(what, y, rows, n);
                case SUM -> assertValues(what, y, new double[]{sum});
                case MEAN -> assertValues(what, y, new double[]{sum / kept});
            }
            Tolerance.assertClose(what + " vs composite", y, crossEntropyComposite(logits, tg, ignore, eps, red));
        }
        // the default overload: mean, no ignore index, no smoothing; a hand-computed value
        Tensor logits = Tensor.of(new double[]{1, 2, 3, 0, 0, 0}, 2, 3);
        Tensor target = Tensor.of(new int[]{2, 0}, 2);
        double l0 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3, l1 = Math.log(3);
        assertEquals((l0 + l1) / 2, logits.crossEntropy(target).item(), 1e-12);
        // every row ignored: the mean is 0/0 = NaN, as in PyTorch
        assertTrue(Double.isNaN(logits.crossEntropy(Tensor.of(new int[]{-100, -100}, 2), -100, 0, Reduction.MEAN).item()));
        assertEquals(0.0, logits.crossEntropy(Tensor.of(new int[]{-100, -100}, 2), -100, 0, Reduction.SUM).item());
    }

    @Test
    void crossEntropyErrors() {
        Tensor logits = Tensor.zeros(3, 4);
        assertIAE(() -> logits.crossEntropy(Tensor.zeros(DType.I32, 2)), "crossEntropy", "[3, 4]", "[2]");
        assertIAE(() -> logits.crossEntropy(Tensor.zeros(DType.I32, 3, 1)), "crossEntropy", "[3, 4]", "[3, 1]");
        assertIAE(() -> Tensor.zeros(3).crossEntropy(Tensor.zeros(DType.I32, 3)), "crossEntropy", "[3]");
        assertIAE(() -> logits.crossEntropy(Tensor.of(new int[]{0, 4, 1}, 3)), "crossEntropy", "4", "out of range");
        assertIAE(() -> logits.crossEntropy(Tensor.of(new int[]{0, -1, 1}, 3)), "crossEntropy", "-1", "out of range");
        assertIAE(() -> logits.crossEntropy(Tensor.zeros(3)), "crossEntropy", "I32");
        assertIAE(() -> logits.crossEntropy(Tensor.zeros(DType.I32, 3), -100, 1.5, Reduction.MEAN), "crossEntropy", "smoothing");
        assertIAE(() -> Tensor.zeros(DType.I32, 3, 4).crossEntropy(Tensor.zeros(DType.I32, 3)), "crossEntropy", "I32");
    }
}
