package mlip.tensor;

/**
 * Composite references of the MLIP fused ops (DESIGN.md 7.2 and 7.3), written from engine primitives only.
 *
 * <p>Decision: these are the {@link Backend} default methods, so every backend (CUDA included) runs the
 * MLIP ops correctly on its own device with no new kernel — never a silent CPU fallback — and they are the
 * oracle the fused CPU loops ({@code cpu/OtScores}) are tested against. The OT composite materialises the
 * (B1, B2, N, M) cosines and plans: right for a reference and for small batches, not what the fused
 * kernel does.
 *
 * <p>Sinkhorn, as here and in the fused loop (one rule set, so the two agree to rounding):
 * <ul>
 *   <li>valid rows r_p = rowMask_p != 0, valid columns c_s = colMask_s != 0 (a null mask: all valid);</li>
 *   <li>marginals a = r / max(sum r, 1), b = c / max(sum c, 1): uniform over valid entries, 0 when none is;</li>
 *   <li>K_ps = exp(-(C_ps - min_s' C_ps') / eps) on valid (p, s), exactly 0 elsewhere (a select, never
 *       "huge cost" times 0). The per-row shift folds into u, so the plan is the one of exp(-C/eps), but
 *       no valid row underflows to all zeros for a small eps;</li>
 *   <li>v = 1; then {@code iterations} times: u = a / (K v), v = b / (K^T u), each division 0 where its
 *       denominator is 0 (masked rows and columns, empty reports), so nothing is ever 0/0;</li>
 *   <li>plan T = diag(u) K diag(v): its column sums are b exactly (the last update), its row sums a to the
 *       convergence of the iterations.</li>
 * </ul>
 * The OT op builds the same kernel from the cosines, cost = 1 - cos: K_ps = exp((cos_ps - max_s' cos_ps') / eps),
 * the max over the row's valid columns, and returns the final u and v with its scores: the contract its backward
 * rebuilds the plans from ({@link Backend#patchSentenceOt}).
 */
public final class Composite {
    private Composite() {
    }

    /**
     * The entropic OT plan for cost {@code (..., N, M)} by the rules above; batched over leading dims.
     * {@code rowMask} broadcasts to {@code (..., N)}, {@code colMask} to {@code (..., M)}; either may be null.
     *
     * <pre>{@code
     * Tensor cost = patches.matmul(sentences.t()).neg().add(1);   // (N, M), rows L2-normalised
     * Tensor plan = Composite.sinkhornPlan(cost, null, sentenceMask, 0.1, 50);   // (N, M), sums to 1
     * }</pre>
     */
    public static Tensor sinkhornPlan(Tensor cost, Tensor rowMask, Tensor colMask, double eps, int iterations) {
        String op = "sinkhornPlan";
        if (cost.ndim() < 2 || !cost.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": cost must be a floating (..., N, M) tensor, got " + cost.dtype() + " " + Shape.str(cost.shape()));
        }
        checkSinkhorn(op, eps, iterations);
        int[] shape = cost.shape();
        int nd = shape.length;
        Device dev = cost.device();
        DType dt = cost.dtype();
        int[] rowShape = java.util.Arrays.copyOf(shape, nd - 1), colShape = rowShape.clone();
        colShape[nd - 2] = shape[nd - 1];
        Tensor r = validity(op + " rowMask", rowMask, rowShape, dt, dev).unsqueeze(-1);   // (..., N, 1) 1/0
        Tensor c = validity(op + " colMask", colMask, colShape, dt, dev).unsqueeze(-2);   // (..., 1, M) 1/0
        Tensor valid = r.mul(c);                                                          // (..., N, M)
        Tensor one = Tensor.scalar(1, dt, dev), zero = Tensor.scalar(0, dt, dev);
        Tensor a = r.div(r.sum(-2, true).maximum(one));                                  // (..., N, 1)
        Tensor b = c.div(c.sum(-1, true).maximum(one));                                  // (..., 1, M)
        Tensor rowMin = Tensor.where(valid, cost, Tensor.scalar(Double.POSITIVE_INFINITY, dt, dev)).min(-1, true);   // (..., N, 1)
        Tensor k = Tensor.where(valid, rowMin.sub(cost).div(eps).exp(), zero);           // (..., N, M)
        Tensor[] uv = scalings(k, a, b, iterations);
        return k.mul(uv[0]).mul(uv[1]);
    }

    /**
     * The Sinkhorn loop on a built kernel {@code k (..., N, M)} with marginals {@code a (..., N, 1)},
     * {@code b (..., 1, M)}: the final {u (..., N, 1), v (..., 1, M)}.
     */
    private static Tensor[] scalings(Tensor k, Tensor a, Tensor b, int iterations) {
        int[] vShape = k.shape();
        vShape[vShape.length - 2] = 1;
        Tensor zero = Tensor.scalar(0, k.dtype(), k.device());
        Tensor v = Tensor.full(k.dtype(), k.device(), 1, vShape), u = null;              // (..., 1, M)
        for (int it = 0; it < iterations; it++) {
            u = guardedDiv(a, k.mul(v).sum(-1, true), zero);                              // (..., N, 1)
            v = guardedDiv(b, k.mul(u).sum(-2, true), zero);                              // (..., 1, M)
        }
        return new Tensor[]{u, v};
    }

    /** num / den, and 0 where den is 0 (a select: the 0/0 there never reaches the result). */
    private static Tensor guardedDiv(Tensor num, Tensor den, Tensor zero) {
        return Tensor.where(den.gt(0), num.div(den), zero);
    }

    /** A 1/0 tensor of the mask's validity broadcast to {@code shape} (all ones for null). */
    private static Tensor validity(String what, Tensor mask, int[] shape, DType dt, Device dev) {
        if (mask == null) return Tensor.full(dt, dev, 1, shape);
        if (!mask.device().equals(dev)) throw new IllegalArgumentException(what + ": on " + mask.device() + ", cost on " + dev);
        if (!java.util.Arrays.equals(Shape.broadcast(what, mask.shape(), shape), shape)) {
            throw new IllegalArgumentException(what + ": shape " + Shape.str(mask.shape()) + " does not broadcast to " + Shape.str(shape));
        }
        return mask.ne(0).to(dt).expand(shape);
    }

    static void checkSinkhorn(String op, double eps, int iterations) {
        checkEps(op, eps);
        if (iterations < 1) throw new IllegalArgumentException(op + ": iterations must be >= 1, got " + iterations);
    }

    static void checkEps(String op, double eps) {
        if (!(eps > 0) || Double.isInfinite(eps)) throw new IllegalArgumentException(op + ": eps must be positive and finite, got " + eps);
    }

    /**
     * What both directions of the OT op share, through (B1, B2, N, M) tensors — what the fused kernel never builds:
     * the cosines, the validity of rows (B1, B2, N, 1) and columns (B1, B2, 1, M) as 1/0, and the kernel
     * K = exp((cos - rowmax) / eps) on valid entries, 0 elsewhere (the contract of {@link Backend#patchSentenceOt}).
     */
    private record OtKernel(Tensor cos, Tensor rows, Tensor cols, Tensor k) {
        static OtKernel of(Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask, double eps) {
            int b1 = patches.size(0), n = patches.size(1), b2 = sentences.size(0), m = sentences.size(1);
            DType dt = patches.dtype();
            Device dev = patches.device();
            Tensor cos = patches.unsqueeze(1).matmul(sentences.transpose(1, 2).unsqueeze(0));          // (B1, B2, N, M)
            Tensor rows = validity("patchSentenceOt patchMask", patchMask == null ? null : patchMask.unsqueeze(1),
                    new int[]{b1, b2, n}, dt, dev).unsqueeze(-1);                                          // (B1, B2, N, 1)
            Tensor cols = validity("patchSentenceOt sentenceMask", sentenceMask == null ? null : sentenceMask.unsqueeze(0),
                    new int[]{b1, b2, m}, dt, dev).unsqueeze(-2);                                          // (B1, B2, 1, M)
            Tensor valid = rows.mul(cols);                                                                  // (B1, B2, N, M)
            Tensor rowMax = Tensor.where(valid, cos, Tensor.scalar(Double.NEGATIVE_INFINITY, dt, dev)).max(-1, true);   // (B1, B2, N, 1)
            Tensor k = Tensor.where(valid, cos.sub(rowMax).div(eps).exp(), Tensor.scalar(0, dt, dev));     // (B1, B2, N, M)
            return new OtKernel(cos, rows, cols, k);
        }
    }

    /**
     * See {@link Backend#patchSentenceOt}: {scores (B1, B2), u (B1, B2, N), v (B1, B2, M)}, S_ij = sum_ps T^ij_ps cos_ps
     * with T^ij = diag(u) K diag(v) of this Sinkhorn run.
     */
    public static Tensor[] patchSentenceOt(Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask, double eps, int iterations) {
        int b1 = patches.size(0), n = patches.size(1), b2 = sentences.size(0), m = sentences.size(1);
        OtKernel ot = OtKernel.of(patches, patchMask, sentences, sentenceMask, eps);
        Tensor one = Tensor.scalar(1, patches.dtype(), patches.device());
        Tensor a = ot.rows().div(ot.rows().sum(-2, true).maximum(one));                               // (B1, B2, N, 1)
        Tensor b = ot.cols().div(ot.cols().sum(-1, true).maximum(one));                               // (B1, B2, 1, M)
        Tensor[] uv = scalings(ot.k(), a, b, iterations);
        Tensor scores = ot.k().mul(uv[0]).mul(uv[1]).mul(ot.cos()).sum(new int[]{2, 3}, false);      // (B1, B2)
        return new Tensor[]{scores, uv[0].reshape(b1, b2, n), uv[1].reshape(b1, b2, m)};
    }

    /** The scores of {@link #patchSentenceOt} alone. */
    public static Tensor patchSentenceOtScores(Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask, double eps, int iterations) {
        return patchSentenceOt(patches, patchMask, sentences, sentenceMask, eps, iterations)[0];
    }

    /**
     * See {@link Backend#patchSentenceOtScoresBackward}: T^ij = diag(u_ij) K^ij diag(v_ij) rebuilt from the scalings
     * (no Sinkhorn), then dP_i = sum_j g_ij T^ij S_j, dS_j = sum_i g_ij T^ij^T P_i.
     */
    public static Tensor[] patchSentenceOtScoresBackward(Tensor gradScores, Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask,
                                                         Tensor rowScalings, Tensor colScalings, double eps) {
        int b1 = patches.size(0), n = patches.size(1), d = patches.size(2), b2 = sentences.size(0), m = sentences.size(1);
        Tensor plan = OtKernel.of(patches, patchMask, sentences, sentenceMask, eps).k()
                .mul(rowScalings.unsqueeze(-1)).mul(colScalings.unsqueeze(-2));                            // (B1, B2, N, M)
        Tensor w = plan.mul(gradScores.unsqueeze(-1).unsqueeze(-1));                                        // (B1, B2, N, M) = g_ij T^ij
        Tensor dP = w.permute(0, 2, 1, 3).reshape(b1, n, b2 * m).matmul(sentences.reshape(b2 * m, d));   // (B1, N, D)
        Tensor dS = w.permute(1, 3, 0, 2).reshape(b2, m, b1 * n).matmul(patches.reshape(b1 * n, d));     // (B2, M, D)
        return new Tensor[]{dP, dS};
    }

    /** See {@link Backend#topkGather}: {@code scores.topk}, its indices sorted ascending, then a gather of whole rows. */
    public static Tensor[] topkGather(Tensor x, Tensor scores, int k) {
        Tensor idx = scores.topk(k, 1, true).indices().topk(k, 1, false).values();                   // (B, k) I32, ascending
        Tensor values = x.gather(1, idx.unsqueeze(-1).expand(x.size(0), k, x.size(2)));               // (B, k, D)
        return new Tensor[]{values, idx};
    }

    /** See {@link Backend#topkGatherBackward}: a scatter-add of the rows into zeros (B, n, D). */
    public static Tensor topkGatherBackward(Tensor grad, Tensor indices, int n) {
        int b = grad.size(0), k = grad.size(1), d = grad.size(2);
        Tensor zeros = Tensor.full(grad.dtype(), grad.device(), 0, b, n, d);                          // (B, N, D)
        return zeros.scatterAdd(1, indices.unsqueeze(-1).expand(b, k, d), grad);
    }

    /** The scaled scores q k^T / sqrt(d) (B, H, Tq, Tk), -inf at padded keys ({@code keyPadding} (B, Tk) nonzero, or null). */
    private static Tensor attentionScores(Tensor q, Tensor k, Tensor keyPadding) {
        Tensor s = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(q.size(-1)));                      // (B, H, Tq, Tk)
        return keyPadding == null ? s : s.maskedFill(keyPadding.reshape(k.size(0), 1, 1, k.size(2)), Double.NEGATIVE_INFINITY);
    }

    /**
     * See {@link Backend#attention}: {out (B, H, Tq, d), lse (B, H, Tq)} through the materialised (B, H, Tq, Tk)
     * scores. lse = m + log sum exp(s - m) with m the row max; a row of only -inf has m = -inf, so s - m, lse and
     * out are NaN there.
     */
    public static Tensor[] attention(Tensor q, Tensor k, Tensor v, Tensor keyPadding) {
        Tensor s = attentionScores(q, k, keyPadding);
        Tensor m = s.max(-1, true);                                                                    // (B, H, Tq, 1)
        Tensor lse = s.sub(m).exp().sum(-1, true).log().add(m);                                        // (B, H, Tq, 1)
        Tensor out = s.sub(lse).exp().matmul(v);                                                       // (B, H, Tq, d)
        return new Tensor[]{out, lse.reshape(q.size(0), q.size(1), q.size(2))};
    }

    /** See {@link Backend#attentionBackward}: p = exp(s - lse) rebuilt (B, H, Tq, Tk), then five matmuls. */
    public static Tensor[] attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor keyPadding) {
        double scale = 1 / Math.sqrt(q.size(-1));
        Tensor p = attentionScores(q, k, keyPadding).sub(lse.unsqueeze(-1)).exp();                    // (B, H, Tq, Tk)
        Tensor d = dout.mul(out).sum(-1, true);                                                         // (B, H, Tq, 1)
        Tensor ds = p.mul(dout.matmul(v.transpose(-2, -1)).sub(d));                                    // (B, H, Tq, Tk)
        Tensor dq = ds.matmul(k).mul(scale), dk = ds.transpose(-2, -1).matmul(q).mul(scale);
        Tensor dv = p.transpose(-2, -1).matmul(dout);
        return new Tensor[]{dq, dk, dv};
    }

    // ---------------------------------------------------------------- transformer fusions

    /** See {@link Backend#biasGelu}: {@code gelu(x + bias)} as two elementwise ops. */
    public static Tensor biasGelu(Tensor x, Tensor bias, boolean tanhApprox) {
        return x.add(bias).gelu(tanhApprox);
    }

    /** See {@link Backend#biasGeluBackward}: the pre-activation rebuilt, then {@link #geluBackward}. */
    public static Tensor biasGeluBackward(Tensor dout, Tensor x, Tensor bias, boolean tanhApprox) {
        return geluBackward(x.add(bias), dout, tanhApprox);
    }

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI), INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

    /**
     * {@code g * gelu'(x)}: for the tanh form d/dx 0.5x(1 + tanh(u)), u = c(x + 0.044715x^3); for the exact form
     * d/dx x Phi(x) = Phi(x) + x phi(x). The autograd rule of GELU and the fused ops' reference.
     */
    public static Tensor geluBackward(Tensor x, Tensor g, boolean tanhApprox) {
        if (tanhApprox) {
            Tensor x2 = x.square();
            Tensor th = x.add(x2.mul(x).mul(0.044715)).mul(SQRT_2_OVER_PI).tanh();
            Tensor du = x2.mul(3 * 0.044715).add(1).mul(SQRT_2_OVER_PI);
            return g.mul(th.add(1).mul(0.5).add(x.mul(0.5).mul(th.square().neg().add(1)).mul(du)));
        }
        Tensor cdf = x.mul(1 / Math.sqrt(2)).erf().add(1).mul(0.5);
        Tensor pdf = x.square().mul(-0.5).exp().mul(INV_SQRT_2PI);
        return g.mul(cdf.add(x.mul(pdf)));
    }

    /** See {@link Backend#addLayerNorm}: the sum, then {@link Backend#layerNorm} on it. */
    public static Tensor[] addLayerNorm(Tensor x, Tensor y, Tensor weight, Tensor bias, double eps) {
        Tensor sum = x.add(y);
        Tensor.LayerNorm r = sum.layerNormForward(weight, bias, eps);
        return new Tensor[]{sum, r.out(), r.mean(), r.rstd()};
    }
}
