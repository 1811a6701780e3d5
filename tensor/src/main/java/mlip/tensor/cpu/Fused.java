package mlip.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import mlip.tensor.DType;
import mlip.tensor.Reduction;
import mlip.tensor.Tensor;

/**
 * Fused row kernels: softmax / log-softmax, layer norm, cross-entropy. Each works on contiguous rows
 * (the op's dim moved last), one row per task chunk, so a row's arithmetic never depends on the thread
 * count. Their composite-of-primitives references live in the tests.
 */
final class Fused {
    private static final VectorSpecies<Float> S = Simd.F32;

    private Fused() {
    }

    /** x with {@code dim} moved last, as contiguous (rows, n). */
    private static Tensor rowsLast(Tensor x, int dim) {
        int n = x.size(dim);
        Tensor t = dim == x.ndim() - 1 ? x : x.transpose(dim, -1);
        return t.contiguous().reshape(n == 0 ? 0 : t.numel() / n, n);
    }

    // ---------------------------------------------------------------- softmax

    static Tensor softmax(CpuBackend be, Tensor x, int dim, boolean log) {
        int n = x.size(dim);
        Tensor x2 = rowsLast(x, dim);
        int rows = x2.size(0);
        Tensor out2 = be.empty(x.dtype(), x2.shape());
        CpuStorage sx = (CpuStorage) x2.storage(), so = (CpuStorage) out2.storage();
        int xo = x2.offset();
        be.pool().forRange(rows, Math.max(1, 8192 / Math.max(1, n)), (s, e) -> {
            for (int r = s; r < e; r++) {
                if (x.dtype() == DType.F32) softmaxRowF32(sx.f, xo + r * n, so.f, r * n, n, log);
                else softmaxRowF64(sx.d, xo + r * n, so.d, r * n, n, log);
            }
        });
        if (dim == x.ndim() - 1) return out2.view(x.shape());
        int[] ts = x.transpose(dim, -1).shape();
        return out2.view(ts).transpose(dim, -1).contiguous();
    }

    static void softmaxRowF32(float[] x, int xo, float[] o, int oo, int n, boolean log) {
        float max = Reduce.maxF32(x, xo, n, true);
        if (log) {
            float shift = max + (float) Math.log(expSumF32(x, xo, null, 0, n, max));
            addScalarF32(x, xo, o, oo, n, -shift);
        } else {
            float sum = expSumF32(x, xo, o, oo, n, max);
            scaleF32(o, oo, n, 1f / sum);
        }
    }

    /** sum_i exp(x_i - max), also writing each term to {@code o} when it is non-null. A leaf: see {@code Elementwise.unaryRowF32}. */
    static float expSumF32(float[] x, int xo, float[] o, int oo, int n, float max) {
        int i = 0;
        float sum = 0f;
        if (S != null) {
            FloatVector acc = FloatVector.zero(S);
            for (int up = S.loopBound(n); i < up; i += S.length()) {
                FloatVector e = VectorMath.exp(FloatVector.fromArray(S, x, xo + i).sub(max));
                if (o != null) e.intoArray(o, oo + i);
                acc = acc.add(e);
            }
            sum = VectorMath.sumLanes(acc);
        }
        for (; i < n; i++) {
            float e = (float) Math.exp(x[xo + i] - max);
            if (o != null) o[oo + i] = e;
            sum += e;
        }
        return sum;
    }

    private static void scaleF32(float[] o, int oo, int n, float s) {
        int i = 0;
        if (S != null) {
            for (int up = S.loopBound(n); i < up; i += S.length()) FloatVector.fromArray(S, o, oo + i).mul(s).intoArray(o, oo + i);
        }
        for (; i < n; i++) o[oo + i] *= s;
    }

    private static void addScalarF32(float[] x, int xo, float[] o, int oo, int n, float s) {
        int i = 0;
        if (S != null) {
            for (int up = S.loopBound(n); i < up; i += S.length()) FloatVector.fromArray(S, x, xo + i).add(s).intoArray(o, oo + i);
        }
        for (; i < n; i++) o[oo + i] = x[xo + i] + s;
    }

    private static void softmaxRowF64(double[] x, int xo, double[] o, int oo, int n, boolean log) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[xo + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[xo + i] - max);
        double shift = max + Math.log(sum);
        for (int i = 0; i < n; i++) o[oo + i] = log ? x[xo + i] - shift : Math.exp(x[xo + i] - shift);
    }

    // ---------------------------------------------------------------- layer norm

    static Tensor[] layerNorm(CpuBackend be, Tensor x, Tensor weight, Tensor bias, double eps) {
        int[] shape = x.shape();
        int d = shape[shape.length - 1];
        int rows = d == 0 ? 0 : x.numel() / d;
        Tensor x2 = x.contiguous();
        Tensor out = be.empty(x.dtype(), shape);
        int[] statShape = java.util.Arrays.copyOf(shape, shape.length - 1);
        Tensor mean = be.empty(x.dtype(), statShape), rstd = be.empty(x.dtype(), statShape);
        CpuStorage sx = (CpuStorage) x2.storage(), so = (CpuStorage) out.storage();
        CpuStorage sm = (CpuStorage) mean.storage(), sr = (CpuStorage) rstd.storage();
        CpuStorage sw = weight == null ? null : (CpuStorage) weight.contiguous().storage();
        CpuStorage sb = bias == null ? null : (CpuStorage) bias.contiguous().storage();
        int wo = weight == null ? 0 : weight.contiguous().offset(), bo = bias == null ? 0 : bias.contiguous().offset();
        int xo = x2.offset();
        be.pool().forRange(rows, Math.max(1, 8192 / Math.max(1, d)), (s, e) -> {
            for (int r = s; r < e; r++) {
                if (x.dtype() == DType.F32) {
                    layerNormRowF32(sx.f, xo + r * d, so.f, r * d, d, sw == null ? null : sw.f, wo, sb == null ? null : sb.f, bo, (float) eps, sm.f, sr.f, r);
                } else {
                    double[] xs = sx.d;
                    int at = xo + r * d;
                    double mu = 0;
                    for (int i = 0; i < d; i++) mu += xs[at + i];
                    mu /= d;
                    double var = 0;
                    for (int i = 0; i < d; i++) var += (xs[at + i] - mu) * (xs[at + i] - mu);
                    double rs = 1 / Math.sqrt(var / d + eps);
                    for (int i = 0; i < d; i++) {
                        double y = (xs[at + i] - mu) * rs;
                        if (sw != null) y *= sw.d[wo + i];
                        if (sb != null) y += sb.d[bo + i];
                        so.d[r * d + i] = y;
                    }
                    sm.d[r] = mu;
                    sr.d[r] = rs;
                }
            }
        });
        return new Tensor[]{out, mean, rstd};
    }

    static void layerNormRowF32(float[] x, int xo, float[] o, int oo, int d, float[] w, int wo, float[] b, int bo, float eps,
                                        float[] mean, float[] rstd, int r) {
        float mu = Reduce.sumF32(x, xo, d) / d;
        int i = 0;
        float var = 0f;
        if (S != null) {
            FloatVector acc = FloatVector.zero(S), m = FloatVector.broadcast(S, mu);
            for (int up = S.loopBound(d); i < up; i += S.length()) {
                FloatVector c = FloatVector.fromArray(S, x, xo + i).sub(m);
                acc = c.fma(c, acc);
            }
            var = VectorMath.sumLanes(acc);
        }
        for (; i < d; i++) {
            float c = x[xo + i] - mu;
            var += c * c;
        }
        float rs = (float) (1 / Math.sqrt(var / d + eps));
        i = 0;
        if (S != null) {
            FloatVector m = FloatVector.broadcast(S, mu);
            for (int up = S.loopBound(d); i < up; i += S.length()) {
                FloatVector y = FloatVector.fromArray(S, x, xo + i).sub(m).mul(rs);
                if (w != null) y = y.mul(FloatVector.fromArray(S, w, wo + i));
                if (b != null) y = y.add(FloatVector.fromArray(S, b, bo + i));
                y.intoArray(o, oo + i);
            }
        }
        for (; i < d; i++) {
            float y = (x[xo + i] - mu) * rs;
            if (w != null) y *= w[wo + i];
            if (b != null) y += b[bo + i];
            o[oo + i] = y;
        }
        mean[r] = mu;
        rstd[r] = rs;
    }

    // ---------------------------------------------------------------- cross-entropy

    static Tensor crossEntropy(CpuBackend be, Tensor logits, Tensor target, int ignoreIndex, double smoothing, Reduction reduction) {
        Tensor x = logits.contiguous();
        int n = x.size(0), c = x.size(1), xo = x.offset();
        int[] y = (int[]) be.toHost(target);
        for (int r = 0; r < n; r++) {
            if (y[r] != ignoreIndex && (y[r] < 0 || y[r] >= c)) {
                throw new IllegalArgumentException("crossEntropy: target " + y[r] + " at row " + r + " out of range [0, " + c + ")"
                        + " (ignore index is " + ignoreIndex + ")");
            }
        }
        CpuStorage sx = (CpuStorage) x.storage();
        double[] loss = new double[n];
        be.pool().forRange(n, Math.max(1, 8192 / Math.max(1, c)), (s, e) -> {
            for (int r = s; r < e; r++) {
                if (y[r] == ignoreIndex) continue;
                int at = xo + r * c;
                double max = Double.NEGATIVE_INFINITY, sum = 0, total = 0;
                for (int j = 0; j < c; j++) max = Math.max(max, sx.get(at + j));
                for (int j = 0; j < c; j++) {
                    double v = sx.get(at + j);
                    sum += Math.exp(v - max);
                    total += v;
                }
                double lse = max + Math.log(sum);
                loss[r] = lse - (1 - smoothing) * sx.get(at + y[r]) - smoothing * total / c;
            }
        });
        if (reduction == Reduction.NONE) {
            Tensor out = be.empty(x.dtype(), new int[]{n});
            CpuStorage so = (CpuStorage) out.storage();
            for (int r = 0; r < n; r++) so.set(r, loss[r]);
            return out;
        }
        double total = 0;
        int count = 0;
        for (int r = 0; r < n; r++) {
            if (y[r] == ignoreIndex) continue;
            total += loss[r];
            count++;
        }
        return be.full(new int[0], x.dtype(), reduction == Reduction.SUM ? total : total / count);
    }
}
