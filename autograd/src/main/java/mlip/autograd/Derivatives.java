package mlip.autograd;

import mlip.tensor.Composite;
import mlip.tensor.DType;
import mlip.tensor.Reduction;
import mlip.tensor.Tensor;

/**
 * The derivative table (PyTorch's {@code derivatives.yaml}): one rule per {@link Op}, each returning the
 * gradient of every input given the output's gradient {@code g}. Rules may return gradients in the
 * broadcast (output) shape: {@link Variable#backward} sums them back to each input's shape, once.
 * Bigger rules are named methods ({@code layerNormBackward}, {@code attentionBackward}, ...).
 */
final class Derivatives {
    private Derivatives() {
    }

    /** Gradients of n's inputs; {@code out} is n's value. */
    static Tensor[] backward(Node n, Tensor out, Tensor g) {
        Variable[] in = n.inputs;
        Tensor a = in[0].value();
        Tensor b = in.length > 1 ? in[1].value() : null;
        return switch (n.op) {
            case ADD -> new Tensor[]{g, g};
            case SUB -> new Tensor[]{g, g.neg()};
            case MUL -> new Tensor[]{g.mul(b), g.mul(a)};
            case DIV -> new Tensor[]{g.div(b), g.mul(a).div(b.square()).neg()};
            case MAXIMUM -> new Tensor[]{g.mul(a.ge(b)), g.mul(a.lt(b))};   // ties go to a
            case MINIMUM -> new Tensor[]{g.mul(a.le(b)), g.mul(a.gt(b))};
            case NEG -> new Tensor[]{g.neg()};
            case EXP -> new Tensor[]{g.mul(out)};
            case LOG -> new Tensor[]{g.div(a)};
            case SQRT -> new Tensor[]{g.mul(0.5).div(out)};
            case RSQRT -> new Tensor[]{g.mul(out.pow(3)).mul(-0.5)};
            case RECIP -> new Tensor[]{g.mul(out.square()).neg()};
            case SQUARE -> new Tensor[]{g.mul(a).mul(2)};
            case ABS -> new Tensor[]{g.mul(a.sign())};
            case TANH -> new Tensor[]{g.mul(out.square().neg().add(1))};
            case SIGMOID -> new Tensor[]{g.mul(out).mul(out.neg().add(1))};
            case RELU -> new Tensor[]{g.mul(a.gt(0))};
            case ERF -> new Tensor[]{g.mul(a.square().neg().exp().mul(2 / Math.sqrt(Math.PI)))};
            case GELU_TANH -> new Tensor[]{Composite.geluBackward(a, g, true)};
            case GELU_ERF -> new Tensor[]{Composite.geluBackward(a, g, false)};
            case POW_SCALAR -> new Tensor[]{g.mul(a.pow(n.scalar - 1)).mul(n.scalar)};
            case SUM -> new Tensor[]{expandBack(g, a.shape(), n.ints)};
            case MEAN -> new Tensor[]{expandBack(g, a.shape(), n.ints).div(a.numel() / (double) Math.max(1, out.numel()))};
            case MAX -> new Tensor[]{maxBackward(a, g, n.saved[0], n.ints[0], n.ints[1] == 1)};
            case RESHAPE -> new Tensor[]{g.reshape(a.shape())};
            case EXPAND -> new Tensor[]{g};                                 // the engine sums it back to a's shape
            case PERMUTE -> new Tensor[]{g.permute(inverse(n.ints))};
            case NARROW -> new Tensor[]{narrowBackward(a, g, n.ints)};
            case SELECT -> new Tensor[]{selectBackward(a, g, n.ints[0], n.ints[1])};
            case CAT -> catBackward(in, g, n.ints[0]);
            case GATHER -> new Tensor[]{zerosLike(a).scatterAdd(n.ints[0], n.saved[0], g)};
            case INDEX_SELECT -> new Tensor[]{indexSelectBackward(a, g, n.saved[0], n.ints[0])};
            case SCATTER_ADD -> new Tensor[]{g, g.gather(n.ints[0], n.saved[0])};
            case WHERE -> whereBackward(n.saved[0], g);
            case MATMUL -> new Tensor[]{g.matmul(b.transpose(-2, -1)), matmulGradB(a, b, g)};
            case SOFTMAX -> new Tensor[]{out.mul(g.sub(g.mul(out).sum(n.ints[0], true)))};
            case LOG_SOFTMAX -> new Tensor[]{g.sub(out.exp().mul(g.sum(n.ints[0], true)))};
            case LAYER_NORM -> layerNormBackward(n, g);
            case BIAS_GELU -> biasGeluBackward(a, b, n, g);
            case CROSS_ENTROPY -> new Tensor[]{crossEntropyBackward(a, n.saved[0], n.ints[0], n.scalar, Reduction.values()[n.ints[1]], g)};
            case ATTENTION -> attentionBackward(in[0].value(), in[1].value(), in[2].value(), n, g);
            case PATCH_SENTENCE_OT -> otScoresBackward(a, b, n, g);
            case TOPK_GATHER -> new Tensor[]{Tensor.topkGatherBackward(g, n.saved[0], n.ints[0])};
        };
    }

    /**
     * d(a b)/db = a^T g. When b is a 2-D weight shared by every batch entry of a (a Linear layer on (B, T, D)),
     * it is one GEMM over all B*T rows, not B GEMMs whose results the broadcast rule would then sum.
     */
    static Tensor matmulGradB(Tensor a, Tensor b, Tensor g) {
        if (b.ndim() == 2 && a.ndim() > 2) return a.reshape(-1, a.size(-1)).transpose(0, 1).matmul(g.reshape(-1, g.size(-1)));
        return a.transpose(-2, -1).matmul(g);
    }

    static Tensor zerosLike(Tensor a) {
        return Tensor.full(a.dtype(), a.device(), 0, a.shape());
    }

    static int[] inverse(int[] perm) {
        int[] inv = new int[perm.length];
        for (int i = 0; i < perm.length; i++) inv[perm[i]] = i;
        return inv;
    }

    /** The gradient of a sum/mean over ints[1..] (keepdim = ints[0]) broadcast back over the reduced dims. */
    static Tensor expandBack(Tensor g, int[] shape, int[] ints) {
        Tensor r = g;
        if (ints[0] == 0) for (int i = 1; i < ints.length; i++) r = r.unsqueeze(ints[i]);
        return r.expand(shape);
    }

    static Tensor maxBackward(Tensor a, Tensor g, Tensor argmax, int dim, boolean keepdim) {
        Tensor gk = keepdim ? g : g.unsqueeze(dim);
        return zerosLike(a).scatterAdd(dim, argmax, gk.contiguous());
    }

    static Tensor narrowBackward(Tensor a, Tensor g, int[] ints) {
        Tensor z = zerosLike(a);
        z.narrow(ints[0], ints[1], g.size(ints[0])).copyFrom(g);
        return z;
    }

    static Tensor selectBackward(Tensor a, Tensor g, int dim, int index) {
        Tensor z = zerosLike(a);
        z.select(dim, index).copyFrom(g);
        return z;
    }

    static Tensor[] catBackward(Variable[] in, Tensor g, int dim) {
        Tensor[] r = new Tensor[in.length];
        int at = 0;
        for (int i = 0; i < in.length; i++) {
            int len = in[i].value().size(dim);
            r[i] = g.narrow(dim, at, len);
            at += len;
        }
        return r;
    }

    /** index_select's adjoint: scatter-add g's slices back to the rows they came from. */
    static Tensor indexSelectBackward(Tensor a, Tensor g, Tensor index, int dim) {
        int[] view = new int[g.ndim()];
        java.util.Arrays.fill(view, 1);
        view[dim] = index.numel();
        return zerosLike(a).scatterAdd(dim, index.reshape(view).expand(g.shape()), g.contiguous());
    }

    static Tensor[] whereBackward(Tensor cond, Tensor g) {
        Tensor zero = Tensor.scalar(0, g.dtype(), g.device());
        return new Tensor[]{Tensor.where(cond, g, zero), Tensor.where(cond, zero, g)};
    }

    /**
     * y = (x - mean) * rstd * w + b over the last dim (D): with xhat = (x - mean) * rstd and
     * gh = g * w, dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)); dw = sum(g * xhat), db = sum(g)
     * over every leading dim.
     */
    static Tensor[] layerNormBackward(Node n, Tensor g) {
        Variable[] in = n.inputs;
        Tensor x = in[0].value();
        boolean hasW = n.ints[0] == 1, hasB = n.ints[1] == 1;
        Tensor mean = n.saved[0].unsqueeze(-1), rstd = n.saved[1].unsqueeze(-1);   // (..., 1)
        Tensor xhat = x.sub(mean).mul(rstd);
        Tensor gh = hasW ? g.mul(in[1].value()) : g;
        Tensor dx = gh.sub(gh.mean(-1, true)).sub(xhat.mul(gh.mul(xhat).mean(-1, true))).mul(rstd);
        int[] lead = new int[x.ndim() - 1];
        for (int i = 0; i < lead.length; i++) lead[i] = i;
        Tensor[] r = new Tensor[in.length];
        r[0] = dx;
        int k = 1;
        if (hasW) r[k++] = g.mul(xhat).sum(lead, false);
        if (hasB) r[k] = g.sum(lead, false);
        return r;
    }

    /**
     * gelu(x + bias) for x (..., C), bias (C): both get dout * gelu'(x + bias), the bias's summed back over the
     * rows by the engine; the backend recomputes x + bias instead of keeping it. ints[0] = 1 for the tanh form.
     */
    static Tensor[] biasGeluBackward(Tensor x, Tensor bias, Node n, Tensor g) {
        Tensor dx = Tensor.biasGeluBackward(g, x, bias, n.ints[0] == 1);
        return new Tensor[]{dx, dx};
    }

    /** (softmax(x) - target distribution) per row, times the reduction's scale; ignored rows get 0. */
    static Tensor crossEntropyBackward(Tensor logits, Tensor target, int ignoreIndex, double smoothing, Reduction reduction, Tensor g) {
        int c = logits.size(1);
        Tensor keep = target.ne(ignoreIndex).to(logits.dtype()).unsqueeze(1);                 // (N, 1)
        Tensor safeTarget = Tensor.where(target.ne(ignoreIndex), target, Tensor.scalar(0, DType.I32, target.device()));
        Tensor onehot = zerosLike(logits).scatterAdd(1, safeTarget.unsqueeze(1), Tensor.full(logits.dtype(), logits.device(), 1, logits.size(0), 1));
        Tensor dist = onehot.mul(1 - smoothing).add(smoothing / c);
        Tensor d = logits.softmax(1).sub(dist).mul(keep);
        return switch (reduction) {
            case NONE -> d.mul(g.unsqueeze(1));
            case SUM -> d.mul(g);
            case MEAN -> d.mul(g).div(keep.sum());                                          // the count stays on the device
        };
    }

    /**
     * S_ij = sum T^ij * (P_i S_j^T) with the plan T^ij constant (DESIGN.md 7.2): dP_i = sum_j g_ij T^ij S_j,
     * dS_j = sum_i g_ij T^ij^T P_i; the backend rebuilds the plans from the forward's Sinkhorn scalings.
     * saved = {patchMask, sentenceMask, u (B1, B2, N), v (B1, B2, M)}, scalar = eps.
     */
    static Tensor[] otScoresBackward(Tensor patches, Tensor sentences, Node n, Tensor g) {
        Tensor.OtGrads r = Tensor.patchSentenceOtScoresBackward(g, patches, n.saved[0], sentences, n.saved[1], n.saved[2], n.saved[3], n.scalar);
        return new Tensor[]{r.dPatches(), r.dSentences()};
    }

    /**
     * o = p v, p = softmax(s), s = q k^T / sqrt(d): dv = p^T g; dp = g v^T; ds = p * (dp - rowsum(g * o));
     * dq = ds k / sqrt(d); dk = ds^T q / sqrt(d). Padded keys have p = 0, so they get no gradient. The backend's
     * fused backward ({@link Tensor#attentionBackward}) rebuilds p from the saved lse;
     * saved = {out (B, H, Tq, d), lse (B, H, Tq), keyPadding or null}.
     */
    static Tensor[] attentionBackward(Tensor q, Tensor k, Tensor v, Node n, Tensor g) {
        Tensor.AttentionGrads r = Tensor.attentionBackward(g, q, k, v, n.saved[0], n.saved[1], n.saved[2]);
        return new Tensor[]{r.dq(), r.dk(), r.dv()};
    }
}
