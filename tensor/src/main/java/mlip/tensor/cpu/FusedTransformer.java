package mlip.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import mlip.tensor.BinaryOp;
import mlip.tensor.Tensor;
import mlip.tensor.UnaryOp;

/**
 * The transformer block's two F32 fusions on contiguous rows (C = the last dim), one row at a time:
 * <ul>
 *   <li>bias + GELU: forward {@code gelu(x + b)}, backward {@code dout * gelu'(x + b)}; the pre-activation
 *       lives only in a row of scratch, never as a (rows, C) tensor;</li>
 *   <li>residual add + layer norm: {@code sum = x + y} written once and normalised while its row is in L1.</li>
 * </ul>
 * Decision: every row goes through the same float operations, in the same order, as the composite
 * ({@code Composite.biasGelu}, {@code Composite.geluBackward}, add then {@link Fused#layerNorm}), with the
 * engine's own vector GELU/erf/exp row loops, so fused and composite agree to rounding (bit for bit where
 * the composite's vector/scalar split falls the same way). Vector loops are leaf methods of arrays and ints
 * (see {@link Elementwise#unaryRowF32} for why).
 */
final class FusedTransformer {
    private static final VectorSpecies<Float> S = Simd.F32;
    private static final float INV_SQRT2 = (float) (1 / Math.sqrt(2)), INV_SQRT_2PI = (float) (1 / Math.sqrt(2 * Math.PI));
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI), C3 = (float) (3 * 0.044715), C1 = 0.044715f;

    private FusedTransformer() {
    }

    /** Rows per task: about 8k floats of work each, whatever C. */
    private static int grain(int c) {
        return Math.max(1, 8192 / Math.max(1, c));
    }

    // ---------------------------------------------------------------- bias + GELU

    static Tensor biasGelu(CpuBackend be, Tensor x, Tensor bias, boolean tanhApprox) {
        Tensor xc = x.contiguous(), bc = bias.contiguous();
        int c = bias.size(0), rows = c == 0 ? 0 : x.numel() / c;
        Tensor out = be.empty(x.dtype(), x.shape());
        float[] xs = ((CpuStorage) xc.storage()).f, bs = ((CpuStorage) bc.storage()).f, os = ((CpuStorage) out.storage()).f;
        int xo = xc.offset(), bo = bc.offset();
        UnaryOp op = tanhApprox ? UnaryOp.GELU_TANH : UnaryOp.GELU_ERF;
        be.pool().forRange(rows, grain(c), (s, e) -> {
            float[] pre = new float[c];                                     // (C) scratch: x + b of one row
            for (int r = s; r < e; r++) {
                addRow(xs, xo + r * c, bs, bo, pre, 0, c);
                Elementwise.unaryRowF32(op, pre, 0, 1, os, r * c, 1, c);
            }
        });
        return out;
    }

    static Tensor biasGeluBackward(CpuBackend be, Tensor dout, Tensor x, Tensor bias, boolean tanhApprox) {
        Tensor xc = x.contiguous(), bc = bias.contiguous(), gc = dout.contiguous();
        int c = bias.size(0), rows = c == 0 ? 0 : x.numel() / c;
        Tensor dx = be.empty(x.dtype(), x.shape());
        float[] xs = ((CpuStorage) xc.storage()).f, bs = ((CpuStorage) bc.storage()).f, gs = ((CpuStorage) gc.storage()).f;
        float[] ds = ((CpuStorage) dx.storage()).f;
        int xo = xc.offset(), bo = bc.offset(), go = gc.offset();
        be.pool().forRange(rows, grain(c), (s, e) -> {
            float[] pre = new float[c], t = new float[c], u = new float[c], w = new float[c];   // (C) scratch rows
            for (int r = s; r < e; r++) {
                addRow(xs, xo + r * c, bs, bo, pre, 0, c);
                if (tanhApprox) {
                    tanhArgRow(pre, t, c);                                   // t = (x + x^3 * 0.044715) * sqrt(2/pi)
                    Elementwise.unaryRowF32(UnaryOp.TANH, t, 0, 1, u, 0, 1, c);
                    geluTanhGradRow(pre, u, gs, go + r * c, ds, r * c, c);
                } else {
                    erfArgsRow(pre, t, u, c);                                // t = x / sqrt 2, u = x^2 * -0.5
                    Elementwise.unaryRowF32(UnaryOp.ERF, t, 0, 1, w, 0, 1, c);   // not in place: the vector erf re-reads its input
                    Elementwise.unaryRowF32(UnaryOp.EXP, u, 0, 1, u, 0, 1, c);
                    geluErfGradRow(pre, w, u, gs, go + r * c, ds, r * c, c);
                }
            }
        });
        return dx;
    }

    /** o = x + b over one row of n: the engine's own vector add (the composite's exact float adds). */
    private static void addRow(float[] x, int xo, float[] b, int bo, float[] o, int oo, int n) {
        Elementwise.binaryRowF32(BinaryOp.ADD, x, xo, 1, b, bo, 1, o, oo, 1, n);
    }

    private static void erfArgsRow(float[] x, float[] t, float[] u, int n) {
        int i = 0;
        if (S != null) {
            for (int up = S.loopBound(n); i < up; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, i);
                v.mul(INV_SQRT2).intoArray(t, i);
                v.mul(v).mul(-0.5f).intoArray(u, i);
            }
        }
        for (; i < n; i++) {
            t[i] = x[i] * INV_SQRT2;
            u[i] = x[i] * x[i] * -0.5f;
        }
    }

    /** dx = g * (cdf + x * pdf), cdf = (erf + 1) * 0.5, pdf = exp(-x^2 / 2) / sqrt(2 pi): Composite.geluBackward's order. */
    private static void geluErfGradRow(float[] x, float[] erf, float[] ex, float[] g, int go, float[] o, int oo, int n) {
        int i = 0;
        if (S != null) {
            for (int up = S.loopBound(n); i < up; i += S.length()) {
                FloatVector cdf = FloatVector.fromArray(S, erf, i).add(1f).mul(0.5f);
                FloatVector pdf = FloatVector.fromArray(S, ex, i).mul(INV_SQRT_2PI);
                FloatVector.fromArray(S, g, go + i).mul(cdf.add(FloatVector.fromArray(S, x, i).mul(pdf))).intoArray(o, oo + i);
            }
        }
        for (; i < n; i++) {
            float cdf = (erf[i] + 1f) * 0.5f, pdf = ex[i] * INV_SQRT_2PI;
            o[oo + i] = g[go + i] * (cdf + x[i] * pdf);
        }
    }

    private static void tanhArgRow(float[] x, float[] t, int n) {
        int i = 0;
        if (S != null) {
            for (int up = S.loopBound(n); i < up; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, i);
                v.add(v.mul(v).mul(v).mul(C1)).mul(SQRT_2_OVER_PI).intoArray(t, i);
            }
        }
        for (; i < n; i++) t[i] = (x[i] + x[i] * x[i] * x[i] * C1) * SQRT_2_OVER_PI;
    }

    /** dx = g * ((th + 1) * 0.5 + x * 0.5 * (1 - th^2) * du), du = (x^2 * 3c + 1) * sqrt(2/pi). */
    private static void geluTanhGradRow(float[] x, float[] th, float[] g, int go, float[] o, int oo, int n) {
        int i = 0;
        if (S != null) {
            for (int up = S.loopBound(n); i < up; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, i), h = FloatVector.fromArray(S, th, i);
                FloatVector du = v.mul(v).mul(C3).add(1f).mul(SQRT_2_OVER_PI);
                FloatVector d = h.add(1f).mul(0.5f).add(v.mul(0.5f).mul(h.mul(h).neg().add(1f)).mul(du));
                FloatVector.fromArray(S, g, go + i).mul(d).intoArray(o, oo + i);
            }
        }
        for (; i < n; i++) {
            float v = x[i], h = th[i], du = (v * v * C3 + 1f) * SQRT_2_OVER_PI;
            o[oo + i] = g[go + i] * ((h + 1f) * 0.5f + v * 0.5f * (-(h * h) + 1f) * du);
        }
    }

    // ---------------------------------------------------------------- residual add + layer norm

    static Tensor[] addLayerNorm(CpuBackend be, Tensor x, Tensor y, Tensor weight, Tensor bias, double eps) {
        int[] shape = x.shape();
        int d = shape[shape.length - 1], rows = d == 0 ? 0 : x.numel() / d;
        Tensor xc = x.contiguous(), yc = y.contiguous();
        Tensor sum = be.empty(x.dtype(), shape), out = be.empty(x.dtype(), shape);
        int[] statShape = java.util.Arrays.copyOf(shape, shape.length - 1);
        Tensor mean = be.empty(x.dtype(), statShape), rstd = be.empty(x.dtype(), statShape);
        float[] xs = ((CpuStorage) xc.storage()).f, ys = ((CpuStorage) yc.storage()).f;
        float[] ss = ((CpuStorage) sum.storage()).f, os = ((CpuStorage) out.storage()).f;
        float[] ms = ((CpuStorage) mean.storage()).f, rs = ((CpuStorage) rstd.storage()).f;
        Tensor wc = weight == null ? null : weight.contiguous(), bc = bias == null ? null : bias.contiguous();
        float[] ws = wc == null ? null : ((CpuStorage) wc.storage()).f, bs = bc == null ? null : ((CpuStorage) bc.storage()).f;
        int wo = wc == null ? 0 : wc.offset(), bo = bc == null ? 0 : bc.offset(), xo = xc.offset(), yo = yc.offset();
        be.pool().forRange(rows, grain(d), (s, e) -> {
            for (int r = s; r < e; r++) {
                addRow(xs, xo + r * d, ys, yo + r * d, ss, r * d, d);
                Fused.layerNormRowF32(ss, r * d, os, r * d, d, ws, wo, bs, bo, (float) eps, ms, rs, r);
            }
        });
        return new Tensor[]{sum, out, mean, rstd};
    }
}
