package mlip.tensor;

/**
 * The device SPI: every op the engine has, on tensors that live on this backend's device.
 *
 * <p>The contract splits work between {@link Tensor} (the front end) and a backend:
 * the front end checks shapes and dtypes (its errors name the op and the shapes), normalises dims,
 * and broadcasts by {@code expand} (stride-0 views) — <b>once, for every backend</b>. A backend gets
 * valid, possibly non-contiguous inputs of agreeing shapes and returns new contiguous tensors.
 * Every backend runs the same conformance suite against {@code CpuBackend}.
 *
 * <p>Implementations: {@code CpuBackend} (Vector API + a fixed thread pool); {@code CudaBackend}
 * in the {@code cuda-kernels} module, found through {@link BackendProvider}.
 */
public interface Backend {

    Device device();

    /** A zero-filled storage of {@code size} elements. */
    Storage allocate(DType dtype, int size);

    /** A new contiguous tensor holding a copy of {@code data} ({@code float[]}, {@code double[]} or {@code int[]}). */
    Tensor fromHost(Object data, DType dtype, int[] shape);

    /** The elements of {@code x} in row-major order as a new {@code float[]}, {@code double[]} or {@code int[]} matching its dtype. */
    Object toHost(Tensor x);

    /** A contiguous copy of {@code x} converted to {@code dtype} (floats to I32 truncate toward zero). */
    Tensor copy(Tensor x, DType dtype);

    /** Writes {@code src} (same shape, any dtype) into the view {@code dst}, converting the dtype. */
    void copyInto(Tensor src, Tensor dst);

    /** A tensor of {@code shape} with every element {@code value}. */
    Tensor full(int[] shape, DType dtype, double value);

    /** {@code n} values {@code start, start + step, ...}. */
    Tensor arange(double start, double step, int n, DType dtype);

    /** Random values from Philox blocks {@code [offset, ...)} of (seed, stream); see {@link Philox} for the layout. */
    Tensor random(Distribution dist, long seed, long stream, long offset, int[] shape, DType dtype);

    Tensor unary(UnaryOp op, Tensor x);

    /** {@code a op b} for inputs of the same shape and dtype (broadcast inputs come as stride-0 views). */
    Tensor binary(BinaryOp op, Tensor a, Tensor b);

    /** {@code cond != 0 ? a : b}; all three of one shape; {@code a} and {@code b} of one dtype. */
    Tensor where(Tensor cond, Tensor a, Tensor b);

    /** Reduces the (sorted, distinct) {@code dims}; {@code keepdim} keeps them as size 1. */
    Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepdim);

    /** I32 index of the first maximum ({@code max == true}) or minimum along {@code dim}; NaN counts as the maximum. */
    Tensor argReduce(boolean max, Tensor x, int dim, boolean keepdim);

    /** {@code a (..., M, K) @ b (..., K, N)} with equal batch dims (broadcast ones as stride-0 views). */
    Tensor matmul(Tensor a, Tensor b);

    /** {@code out[..i..] = x[..index[..i..]..]} along {@code dim}; out has index's shape. */
    Tensor gather(Tensor x, int dim, Tensor index);

    /** The slices {@code x.select(dim, index[j])} stacked along {@code dim}; index is 1-d I32. */
    Tensor indexSelect(Tensor x, int dim, Tensor index);

    /** A copy of {@code x} with {@code src[..i..]} added at {@code x[..index[..i..]..]} along {@code dim}, in index order. */
    Tensor scatterAdd(Tensor x, int dim, Tensor index, Tensor src);

    /** Concatenation along {@code dim} (inputs agree in every other dim and in dtype). */
    Tensor cat(Tensor[] xs, int dim);

    /** The {@code k} largest (or smallest) along {@code dim}, sorted, ties to the lower index: {values, I32 indices}. */
    Tensor[] topk(Tensor x, int k, int dim, boolean largest);

    /** Softmax (or log-softmax when {@code log}) along {@code dim}. */
    Tensor softmax(Tensor x, int dim, boolean log);

    /**
     * Layer norm over the last dim: {out, mean, rstd}, mean and rstd of shape {@code x.shape[:-1]}.
     * {@code weight} and {@code bias} (shape {@code [D]}) may be null.
     */
    Tensor[] layerNorm(Tensor x, Tensor weight, Tensor bias, double eps);

    /**
     * Cross-entropy of {@code logits (N, C)} against I32 {@code target (N)}: rows whose target is
     * {@code ignoreIndex} add nothing; with label smoothing e the target distribution is
     * {@code (1 - e) onehot + e / C}. MEAN divides by the number of rows not ignored.
     */
    Tensor crossEntropy(Tensor logits, Tensor target, int ignoreIndex, double labelSmoothing, Reduction reduction);

    /**
     * Scaled-dot-product attention for {@code q (B, H, Tq, d)}, {@code k}, {@code v (B, H, Tk, d)} (one floating
     * dtype, Tk >= 1, d >= 1) and {@code keyPadding}: an I32 (B, Tk) tensor, 1 where a key is padding, 0 elsewhere,
     * or null (no padding). With scale = 1 / sqrt(d), s_ij = scale q_i . k_j over the keys j that are not padding:
     * returns {out (B, H, Tq, d), lse (B, H, Tq)}, lse_i = log sum_j exp(s_ij), out_i = sum_j exp(s_ij - lse_i) v_j.
     * A query whose keys are all padding gets NaN in out and lse (PyTorch's behaviour for a softmax over only
     * -inf). Default: {@link Composite#attention}, which materialises the (B, H, Tq, Tk) scores; a backend may
     * override it with a fused version that never does.
     */
    default Tensor[] attention(Tensor q, Tensor k, Tensor v, Tensor keyPadding) {
        return Composite.attention(q, k, v, keyPadding);
    }

    /**
     * Gradient of {@link #attention}'s out for {@code dout (B, H, Tq, d)}: {dq (B, H, Tq, d), dk, dv (B, H, Tk, d)},
     * given the forward's inputs, {@code out} and {@code lse}. The probabilities are recomputed,
     * p_ij = exp(s_ij - lse_i) (0 at padded keys, where s = -inf); D_i = dout_i . out_i,
     * ds_ij = p_ij (dout_i . v_j - D_i); dq_i = scale sum_j ds_ij k_j, dk_j = scale sum_i ds_ij q_i,
     * dv_j = sum_i p_ij dout_i. A NaN lse (a query with no real key) makes p NaN on that query's whole row, as the
     * composite computes it. Default: {@link Composite#attentionBackward}.
     */
    default Tensor[] attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor keyPadding) {
        return Composite.attentionBackward(dout, q, k, v, out, lse, keyPadding);
    }

    // ---------------------------------------------------------------- transformer fusions (defaults: Composite)

    /**
     * Bias + GELU in one pass: {@code out = gelu(x + bias)} for {@code x (..., C)} and {@code bias (C)} of one
     * floating dtype; {@code tanhApprox} picks the tanh form over the exact erf one (as {@link Tensor#gelu}).
     * The pre-activation {@code x + bias} is never stored: {@link #biasGeluBackward} recomputes it.
     * Default: {@link Composite#biasGelu}.
     */
    default Tensor biasGelu(Tensor x, Tensor bias, boolean tanhApprox) {
        return Composite.biasGelu(x, bias, tanhApprox);
    }

    /**
     * Gradient of {@link #biasGelu} with respect to x for {@code dout} (x's shape): {@code dout * gelu'(x + bias)},
     * contiguous; the bias's gradient is its sum over the leading dims (the autograd engine sums it).
     * Default: {@link Composite#biasGeluBackward}.
     */
    default Tensor biasGeluBackward(Tensor dout, Tensor x, Tensor bias, boolean tanhApprox) {
        return Composite.biasGeluBackward(dout, x, bias, tanhApprox);
    }

    /**
     * Residual add + layer norm in one pass over each row: {sum = x + y, out = layerNorm(sum), mean, rstd} for
     * {@code x}, {@code y} of one shape, with {@link #layerNorm}'s rules for the last dim and its optional
     * {@code weight}/{@code bias}. The pre-LN block's {@code h = x + attn(..)} followed by {@code norm2(h)}, and the
     * post-LN block's {@code norm(x + sublayer(x))}, read x and y once instead of writing and re-reading the sum.
     * Default: {@link Composite#addLayerNorm}.
     */
    default Tensor[] addLayerNorm(Tensor x, Tensor y, Tensor weight, Tensor bias, double eps) {
        return Composite.addLayerNorm(x, y, weight, bias, eps);
    }

    // ---------------------------------------------------------------- MLIP ops (DESIGN.md 7.2, 7.3)
    // The defaults are the composites of the ops above ({@link Composite}): every backend is correct on its own
    // device without a new kernel; a backend overrides them with a fused version (CpuBackend does).

    /**
     * Patch-sentence OT: for image i ({@code patches (B1, N, D)}, rows L2-normalised) and report j
     * ({@code sentences (B2, M, D)}), the entropic Sinkhorn plan T^ij of cost 1 - cos over the valid patches and
     * sentences, cos = P_i S_j^T (N, M). Masks {@code patchMask (B1, N)} and {@code sentenceMask (B2, M)} hold
     * 1 (valid) / 0 in the input dtype, or are null (all valid). Returns {scores (B1, B2), u (B1, B2, N),
     * v (B1, B2, M)}, all in the inputs' dtype, contiguous: u[i, j, p] and v[i, j, s] are pair (i, j)'s Sinkhorn
     * scalings. For each pair (i, j), with p over patches and s over sentences:
     * <ol>
     *   <li>valid(p, s) = patchMask[i, p] != 0 and sentenceMask[j, s] != 0; R = number of valid patches of i,
     *       C = number of valid sentences of j; a_p = 1/R for a valid p, else 0 (also 0 when R = 0); b_s = 1/C
     *       likewise;</li>
     *   <li>rowmax_p = max of cos_ps over the valid s of row p (the row shift: no row underflows to zeros);</li>
     *   <li>K_ps = exp((cos_ps - rowmax_p) / eps) for valid (p, s), exactly 0 otherwise (a select: never
     *       computed as a huge cost times 0);</li>
     *   <li>v = 1 (M); then {@code iterations} (>= 1) times: u_p = a_p / sum_s K_ps v_s, then
     *       v_s = b_s / sum_p K_ps u_p, each set to 0 where its denominator is 0 (masked rows and columns, an
     *       image without a valid patch, a report without a valid sentence): no 0/0, ever;</li>
     *   <li>the returned u, v are those of the last iteration, so masked rows and columns have scaling 0, and the
     *       plan is exactly T_ps = u_p K_ps v_s;</li>
     *   <li>{@code scores[i, j] = sum_ps T_ps cos_ps}.</li>
     * </ol>
     * {@link #patchSentenceOtScoresBackward} rebuilds T from u, K and v by these rules, so a backend's forward and
     * backward must agree on them (steps 2-3 above); the Sinkhorn arithmetic may be in a wider type than the
     * inputs (CpuBackend runs it in double). K spans at most exp(-2 / eps)..1, so u and v spread over up to
     * about that factor: F32 scalings can over- or underflow only for eps below about 0.025 (2 / eps near F32's
     * exponent limit, 88); MLIP uses 0.1. Reference: {@link Composite#patchSentenceOt}.
     */
    default Tensor[] patchSentenceOt(Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask, double eps, int iterations) {
        return Composite.patchSentenceOt(patches, patchMask, sentences, sentenceMask, eps, iterations);
    }

    /**
     * Gradient of {@link #patchSentenceOt}'s scores with the plans held constant: {gradPatches (B1, N, D),
     * gradSentences (B2, M, D)} = {sum_j g_ij T^ij S_j, sum_i g_ij T^ij^T P_i} for {@code gradScores (B1, B2)}.
     * No Sinkhorn: each plan is rebuilt as T^ij_ps = u_ijp K^ij_ps v_ijs from the forward's scalings
     * {@code rowScalings (B1, B2, N)} and {@code colScalings (B1, B2, M)}, with K^ij (rowmax and masks
     * included) exactly as in {@link #patchSentenceOt}.
     */
    default Tensor[] patchSentenceOtScoresBackward(Tensor gradScores, Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask,
                                                   Tensor rowScalings, Tensor colScalings, double eps) {
        return Composite.patchSentenceOtScoresBackward(gradScores, patches, patchMask, sentences, sentenceMask, rowScalings, colScalings, eps);
    }

    /**
     * Per image b, the rows of {@code x (B, N, D)} at the {@code k} highest {@code scores (B, N)}:
     * {values (B, k, D), I32 indices (B, k)}. The kept SET is the first k of the total order "NaN highest,
     * then score descending, equal scores (== , so -0.0 ties 0.0) by lower index" (the selection of
     * {@code scores.topk(k, 1, true)}); the indices are emitted in ascending patch order (not by score), and
     * values row j is x's row indices[j], so the kept patches keep their spatial order.
     */
    default Tensor[] topkGather(Tensor x, Tensor scores, int k) {
        return Composite.topkGather(x, scores, k);
    }

    /** {@link #topkGather}'s adjoint: {@code grad (B, k, D)} added at rows {@code indices (B, k)} of zeros (B, n, D). */
    default Tensor topkGatherBackward(Tensor grad, Tensor indices, int n) {
        return Composite.topkGatherBackward(grad, indices, n);
    }
}
