package mlip.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import mlip.tensor.Reduction;
import mlip.tensor.Shape;
import mlip.tensor.Tensor;

/**
 * A tensor in the autograd graph: a value, a gradient, and (for results of ops) the {@link Node} that
 * made it. Reverse mode: {@link #backward()} walks the graph once in reverse topological order
 * (iteratively, no recursion limit), applies each node's rule from {@link Derivatives}, sums
 * broadcast gradients back to each input's shape — <b>once, here</b>, never inside a rule — and
 * accumulates into leaves' {@link #grad()} with {@code +=}.
 *
 * <pre>{@code
 * Variable w = Variable.param(Tensor.randn(g, 4, 3));
 * Variable x = Variable.of(Tensor.randn(g, 8, 4));
 * Variable loss = x.matmul(w).tanh().square().mean();
 * loss.backward();
 * Tensor dW = w.grad();   // (4, 3)
 * }</pre>
 */
public final class Variable {
    private Tensor value;
    private final boolean requiresGrad;
    private Tensor grad;
    Node node; // null for leaves and constants

    private Variable(Tensor value, boolean requiresGrad, Node node) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.node = node;
    }

    /** A constant: no gradient flows into it. */
    public static Variable of(Tensor value) {
        return new Variable(value, false, null);
    }

    /** A leaf that collects a gradient (a parameter). */
    public static Variable param(Tensor value) {
        return new Variable(value, true, null);
    }

    public Tensor value() {
        return value;
    }

    /** The accumulated gradient (same shape as the value), or null before any backward reached it. */
    public Tensor grad() {
        return grad;
    }

    public void zeroGrad() {
        grad = null;
    }

    /** Replaces the gradient (optimizers' clipping; tests). */
    public void setGrad(Tensor g) {
        if (g != null && !Arrays.equals(g.shape(), value.shape())) {
            throw new IllegalArgumentException("setGrad: gradient shape " + Shape.str(g.shape()) + " != value shape " + Shape.str(value.shape()));
        }
        grad = g;
    }

    /**
     * Replaces a leaf's value in place (optimizer steps, loading checkpoints): same shape and dtype.
     * Not allowed on a result of an op, whose value its graph's rules depend on.
     */
    public void assign(Tensor newValue) {
        if (node != null) throw new IllegalStateException("assign: only leaves can be assigned, this is the result of " + node.op);
        if (!Arrays.equals(newValue.shape(), value.shape()) || newValue.dtype() != value.dtype()) {
            throw new IllegalArgumentException("assign: new value " + newValue.dtype() + " " + Shape.str(newValue.shape())
                    + " does not match " + value.dtype() + " " + Shape.str(value.shape()));
        }
        value = newValue;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** The same value cut from the graph. */
    public Variable detach() {
        return of(value);
    }

    public int[] shape() {
        return value.shape();
    }

    public int size(int d) {
        return value.size(d);
    }

    public int ndim() {
        return value.ndim();
    }

    /** The single value of a one-element variable. */
    public double item() {
        return value.item();
    }

    @Override
    public String toString() {
        return "Variable(" + value + (node != null ? ", op=" + node.op : requiresGrad ? ", param" : "") + ")";
    }

    // ---------------------------------------------------------------- recording

    /** Records {@code op} when grad mode is on and an input needs a gradient; else returns a constant. */
    static Variable record(Op op, Tensor out, Tensor[] saved, int[] ints, double scalar, Variable... inputs) {
        boolean needs = false;
        if (GradMode.isEnabled()) {
            for (Variable v : inputs) needs |= v.requiresGrad;
        }
        if (!needs) return of(out);
        return new Variable(out, true, new Node(op, inputs, saved, ints, scalar));
    }

    private static Variable record(Op op, Tensor out, Variable... inputs) {
        return record(op, out, null, null, 0, inputs);
    }

    private Variable constant(double s) {
        return of(Tensor.scalar(s, value.dtype(), value.device()));
    }

    // ---------------------------------------------------------------- elementwise

    public Variable add(Variable o) { return record(Op.ADD, value.add(o.value), this, o); }
    public Variable sub(Variable o) { return record(Op.SUB, value.sub(o.value), this, o); }
    public Variable mul(Variable o) { return record(Op.MUL, value.mul(o.value), this, o); }
    public Variable div(Variable o) { return record(Op.DIV, value.div(o.value), this, o); }
    public Variable maximum(Variable o) { return record(Op.MAXIMUM, value.maximum(o.value), this, o); }
    public Variable minimum(Variable o) { return record(Op.MINIMUM, value.minimum(o.value), this, o); }
    public Variable add(double s) { return add(constant(s)); }
    public Variable sub(double s) { return sub(constant(s)); }
    public Variable mul(double s) { return mul(constant(s)); }
    public Variable div(double s) { return div(constant(s)); }

    public Variable neg() { return record(Op.NEG, value.neg(), this); }
    public Variable exp() { return record(Op.EXP, value.exp(), this); }
    public Variable log() { return record(Op.LOG, value.log(), this); }
    public Variable sqrt() { return record(Op.SQRT, value.sqrt(), this); }
    public Variable rsqrt() { return record(Op.RSQRT, value.rsqrt(), this); }
    public Variable reciprocal() { return record(Op.RECIP, value.reciprocal(), this); }
    public Variable square() { return record(Op.SQUARE, value.square(), this); }
    public Variable abs() { return record(Op.ABS, value.abs(), this); }
    public Variable tanh() { return record(Op.TANH, value.tanh(), this); }
    public Variable sigmoid() { return record(Op.SIGMOID, value.sigmoid(), this); }
    public Variable relu() { return record(Op.RELU, value.relu(), this); }
    public Variable erf() { return record(Op.ERF, value.erf(), this); }

    public Variable gelu(boolean tanhApprox) {
        return record(tanhApprox ? Op.GELU_TANH : Op.GELU_ERF, value.gelu(tanhApprox), this);
    }

    /** {@code x^p} for a constant exponent. */
    public Variable pow(double p) {
        return record(Op.POW_SCALAR, value.pow(p), null, null, p, this);
    }

    /** {@code cond != 0 ? a : b}; cond is a constant mask. */
    public static Variable where(Tensor cond, Variable a, Variable b) {
        return record(Op.WHERE, Tensor.where(cond, a.value, b.value), new Tensor[]{cond}, null, 0, a, b);
    }

    /** {@code value} where {@code mask != 0}. */
    public Variable maskedFill(Tensor mask, double fill) {
        return where(mask, constant(fill), this);
    }

    // ---------------------------------------------------------------- reductions

    private int[] dimsOf(int[] dims) {
        int[] d = new int[dims.length];
        for (int i = 0; i < d.length; i++) d[i] = Shape.dim("sum", dims[i], value.ndim());
        Arrays.sort(d);
        return d;
    }

    private static int[] allDims(int n) {
        int[] d = new int[n];
        for (int i = 0; i < n; i++) d[i] = i;
        return d;
    }

    /** Sum over {@code dims}; ints = (keepdim, dims...). */
    public Variable sum(int[] dims, boolean keepdim) {
        int[] d = dimsOf(dims);
        return record(Op.SUM, value.sum(d, keepdim), null, prepend(keepdim ? 1 : 0, d), 0, this);
    }

    public Variable sum(int dim, boolean keepdim) { return sum(new int[]{dim}, keepdim); }
    public Variable sum() { return sum(allDims(value.ndim()), false); }

    public Variable mean(int[] dims, boolean keepdim) {
        int[] d = dimsOf(dims);
        return record(Op.MEAN, value.mean(d, keepdim), null, prepend(keepdim ? 1 : 0, d), 0, this);
    }

    public Variable mean(int dim, boolean keepdim) { return mean(new int[]{dim}, keepdim); }
    public Variable mean() { return mean(allDims(value.ndim()), false); }

    /** Max along {@code dim}; the gradient goes to the first maximum. */
    public Variable max(int dim, boolean keepdim) {
        int d = Shape.dim("max", dim, value.ndim());
        Tensor idx = value.argmax(d, true);
        return record(Op.MAX, value.max(d, keepdim), new Tensor[]{idx}, new int[]{d, keepdim ? 1 : 0}, 0, this);
    }

    private static int[] prepend(int first, int[] rest) {
        int[] r = new int[rest.length + 1];
        r[0] = first;
        System.arraycopy(rest, 0, r, 1, rest.length);
        return r;
    }

    // ---------------------------------------------------------------- shape

    public Variable reshape(int... shape) { return record(Op.RESHAPE, value.reshape(shape), this); }
    public Variable flatten() { return reshape(-1); }
    public Variable unsqueeze(int dim) { return record(Op.RESHAPE, value.unsqueeze(dim), this); }
    public Variable squeeze(int dim) { return record(Op.RESHAPE, value.squeeze(dim), this); }

    public Variable permute(int... dims) {
        int[] d = new int[dims.length];
        for (int i = 0; i < d.length; i++) d[i] = Shape.dim("permute", dims[i], value.ndim());
        return record(Op.PERMUTE, value.permute(d), null, d, 0, this);
    }

    public Variable transpose(int d0, int d1) {
        int n = value.ndim();
        int[] p = allDims(n);
        int a = Shape.dim("transpose", d0, n), b = Shape.dim("transpose", d1, n);
        p[a] = b;
        p[b] = a;
        return permute(p);
    }

    public Variable narrow(int dim, int start, int length) {
        int d = Shape.dim("narrow", dim, value.ndim());
        return record(Op.NARROW, value.narrow(d, start, length), null, new int[]{d, start}, 0, this);
    }

    public Variable select(int dim, int index) {
        int d = Shape.dim("select", dim, value.ndim());
        int i = index < 0 ? index + value.size(d) : index;
        return record(Op.SELECT, value.select(d, i), null, new int[]{d, i}, 0, this);
    }

    public Variable expand(int... shape) { return record(Op.EXPAND, value.expand(shape), this); }

    public static Variable cat(int dim, Variable... xs) {
        Tensor[] ts = new Tensor[xs.length];
        for (int i = 0; i < xs.length; i++) ts[i] = xs[i].value;
        int d = Shape.dim("cat", dim, ts[0].ndim());
        return record(Op.CAT, Tensor.cat(d, ts), null, new int[]{d}, 0, xs);
    }

    public static Variable stack(int dim, Variable... xs) {
        Variable[] u = new Variable[xs.length];
        int d = Shape.dim("stack", dim, xs[0].ndim() + 1);
        for (int i = 0; i < xs.length; i++) u[i] = xs[i].unsqueeze(d);
        return cat(d, u);
    }

    public Variable gather(int dim, Tensor index) {
        int d = Shape.dim("gather", dim, value.ndim());
        return record(Op.GATHER, value.gather(d, index), new Tensor[]{index}, new int[]{d}, 0, this);
    }

    public Variable indexSelect(int dim, Tensor index) {
        int d = Shape.dim("indexSelect", dim, value.ndim());
        return record(Op.INDEX_SELECT, value.indexSelect(d, index), new Tensor[]{index}, new int[]{d}, 0, this);
    }

    /** Rows of {@code weight (V, D)} for I32 {@code ids (...)}: {@code (..., D)}. */
    public static Variable embedding(Variable weight, Tensor ids) {
        int[] out = Arrays.copyOf(ids.shape(), ids.ndim() + 1);
        out[ids.ndim()] = weight.size(1);
        return weight.indexSelect(0, ids.reshape(-1)).reshape(out);
    }

    /** A copy of this with {@code src} (same shape as {@code index}) added at {@code index} along {@code dim}. */
    public Variable scatterAdd(int dim, Tensor index, Variable src) {
        if (!Arrays.equals(index.shape(), src.shape())) {
            throw new IllegalArgumentException("scatterAdd: autograd needs src shape " + Shape.str(src.shape()) + " == index shape " + Shape.str(index.shape()));
        }
        int d = Shape.dim("scatterAdd", dim, value.ndim());
        return record(Op.SCATTER_ADD, value.scatterAdd(d, index, src.value), new Tensor[]{index}, new int[]{d}, 0, this, src);
    }

    // ---------------------------------------------------------------- linear algebra and fused

    /** {@code (..., M, K) @ (..., K, N)} with broadcast batch dims; both operands at least 2-d. */
    public Variable matmul(Variable o) {
        if (value.ndim() < 2 || o.ndim() < 2) {
            throw new IllegalArgumentException("matmul: autograd needs operands of at least 2 dims, got " + Shape.str(shape()) + " and " + Shape.str(o.shape()));
        }
        return record(Op.MATMUL, value.matmul(o.value), this, o);
    }

    public Variable softmax(int dim) {
        int d = Shape.dim("softmax", dim, value.ndim());
        Tensor out = value.softmax(d);
        return record(Op.SOFTMAX, out, new Tensor[]{out}, new int[]{d}, 0, this);
    }

    public Variable logSoftmax(int dim) {
        int d = Shape.dim("logSoftmax", dim, value.ndim());
        Tensor out = value.logSoftmax(d);
        return record(Op.LOG_SOFTMAX, out, new Tensor[]{out}, new int[]{d}, 0, this);
    }

    /** Layer norm over the last dim; {@code weight}/{@code bias} may be null. */
    public Variable layerNorm(Variable weight, Variable bias, double eps) {
        Tensor.LayerNorm r = value.layerNormForward(weight == null ? null : weight.value, bias == null ? null : bias.value, eps);
        return recordLayerNorm(this, r.out(), r.mean(), r.rstd(), weight, bias, eps);
    }

    /** The LAYER_NORM node of x with its saved statistics; weight and bias (either may be null) join the inputs. */
    private static Variable recordLayerNorm(Variable x, Tensor out, Tensor mean, Tensor rstd, Variable weight, Variable bias, double eps) {
        List<Variable> in = new ArrayList<>(List.of(x));
        if (weight != null) in.add(weight);
        if (bias != null) in.add(bias);
        return record(Op.LAYER_NORM, out, new Tensor[]{mean, rstd}, new int[]{weight != null ? 1 : 0, bias != null ? 1 : 0}, eps, in.toArray(new Variable[0]));
    }

    /**
     * {@code gelu(this + bias)} for {@code bias (C)}, C = the last dim, as one op (Op.BIAS_GELU): the
     * pre-activation is not kept, the backward recomputes it ({@link Tensor#biasGelu}).
     */
    public Variable biasGelu(Variable bias, boolean tanhApprox) {
        return record(Op.BIAS_GELU, value.biasGelu(bias.value, tanhApprox), null, new int[]{tanhApprox ? 1 : 0}, 0, this, bias);
    }

    /** The two results of {@link #addLayerNorm}: the residual sum and its layer norm. */
    public record AddLayerNorm(Variable sum, Variable out) {
    }

    /**
     * {@code sum = this + y} and {@code out = sum.layerNorm(weight, bias, eps)}, computed by one fused pass
     * ({@link Tensor#addLayerNormForward}) but recorded as the two ops they are (ADD, then LAYER_NORM on the sum),
     * so the derivative table and its gradchecks cover them unchanged. {@code y} has this shape.
     */
    public AddLayerNorm addLayerNorm(Variable y, Variable weight, Variable bias, double eps) {
        Tensor.AddLayerNorm r = value.addLayerNormForward(y.value, weight == null ? null : weight.value, bias == null ? null : bias.value, eps);
        Variable sum = record(Op.ADD, r.sum(), this, y);
        return new AddLayerNorm(sum, recordLayerNorm(sum, r.out(), r.mean(), r.rstd(), weight, bias, eps));
    }

    /** Cross-entropy of logits (N, C) against I32 targets (N); see {@link Tensor#crossEntropy}. */
    public Variable crossEntropy(Tensor target, int ignoreIndex, double labelSmoothing, Reduction reduction) {
        Tensor out = value.crossEntropy(target, ignoreIndex, labelSmoothing, reduction);
        return record(Op.CROSS_ENTROPY, out, new Tensor[]{target}, new int[]{ignoreIndex, reduction.ordinal()}, labelSmoothing, this);
    }

    public Variable crossEntropy(Tensor target) {
        return crossEntropy(target, -100, 0, Reduction.MEAN);
    }

    /**
     * Scaled-dot-product attention {@code softmax(q k^T / sqrt(d) + mask) v} for q, k, v of shape
     * {@code (B, H, T, d)}; {@code keyPadding} (B, T), nonzero where a key is padding, or null.
     * One fused op ({@link Tensor#attention}): saves its output and the per-query log-sum-exp (B, H, Tq) for
     * backward, never the (B, H, Tq, Tk) probabilities. A query whose keys are all padding gets NaN, as in
     * PyTorch; callers keep one real key (CLS).
     */
    public static Variable attention(Variable q, Variable k, Variable v, Tensor keyPadding) {
        Tensor.AttentionResult r = Tensor.attention(q.value, k.value, v.value, keyPadding);
        return record(Op.ATTENTION, r.out(), new Tensor[]{r.out(), r.lse(), keyPadding}, null, 0, q, k, v);
    }

    // ---------------------------------------------------------------- MLIP ops (DESIGN.md 7.2, 7.3)

    /**
     * Patch-sentence OT scores {@code (B1, B2)} of {@code patches (B1, N, D)} and {@code sentences (B2, M, D)}
     * (see {@link Tensor#patchSentenceOtScores}); masks (B1, N) / (B2, M) or null. The Sinkhorn plan is held
     * constant for the gradient: dS_ij/dP_i = T^ij S_j, dS_ij/dS_j = T^ij^T P_i (w.r.t. the inputs as given,
     * so normalise them with differentiable ops first).
     *
     * <pre>{@code
     * Variable s = Variable.patchSentenceOtScores(patchEmb, null, sentEmb, sentMask, 0.1, 20);   // (B, B)
     * Variable loss = s.div(temperature).crossEntropy(Tensor.arange(b));
     * }</pre>
     */
    public static Variable patchSentenceOtScores(Variable patches, Tensor patchMask, Variable sentences, Tensor sentenceMask, double eps, int iterations) {
        Tensor.OtResult ot = Tensor.patchSentenceOt(patches.value, patchMask, sentences.value, sentenceMask, eps, iterations);
        // the scalings u (B1, B2, N), v (B1, B2, M) let backward rebuild the plans without running Sinkhorn again
        return record(Op.PATCH_SENTENCE_OT, ot.scores(), new Tensor[]{patchMask, sentenceMask, ot.rowScalings(), ot.colScalings()}, null, eps,
                patches, sentences);
    }

    /** The kept rows (differentiable) and their I32 indices (B, k) of {@link #topkGather}. */
    public record TopkGather(Variable values, Tensor indices) {
    }

    /**
     * Per image of this {@code (B, N, D)}, the rows of the {@code k} highest {@code scores (B, N)} (ties to the
     * lower index), in ascending patch order: values {@code (B, k, D)} whose gradient scatters back to the picked rows;
     * none flows to the scores.
     *
     * <pre>{@code
     * Variable.TopkGather kept = patches.topkGather(scoresWithGumbel, n / 2);   // (B, n/2, D), (B, n/2)
     * Variable x = kept.values();                                                  // the encoder sees only these
     * }</pre>
     */
    public TopkGather topkGather(Tensor scores, int k) {
        Tensor.TopkGather r = value.topkGather(scores, k);
        return new TopkGather(record(Op.TOPK_GATHER, r.values(), new Tensor[]{r.indices()}, new int[]{value.size(1)}, 0, this), r.indices());
    }

    // ---------------------------------------------------------------- backward

    /** Backward from a one-element result (seed 1), freeing the graph afterwards. */
    public void backward() {
        if (value.numel() != 1) {
            throw new IllegalArgumentException("backward: needs a one-element result, got shape " + Shape.str(shape()) + "; pass a gradient");
        }
        backward(Tensor.full(value.dtype(), value.device(), 1, value.shape()), false);
    }

    /** Backward with seed gradient {@code seed}; {@code retainGraph} keeps the graph for a second pass. */
    public void backward(Tensor seed, boolean retainGraph) {
        if (!requiresGrad) throw new IllegalStateException("backward: this variable does not require a gradient (no parameter reaches it)");
        if (!Arrays.equals(seed.shape(), value.shape())) {
            throw new IllegalArgumentException("backward: seed shape " + Shape.str(seed.shape()) + " != result shape " + Shape.str(shape()));
        }
        List<Variable> order = topologicalOrder();
        Map<Variable, Tensor> grads = new IdentityHashMap<>();
        grads.put(this, seed);
        for (Variable v : order) {
            Tensor g = grads.remove(v);
            if (g == null) continue;
            if (v.node == null) { // a leaf parameter: accumulate
                v.grad = v.grad == null ? g.contiguous() : v.grad.add(g);
                continue;
            }
            Node n = v.node;
            if (n.inputs == null) throw new IllegalStateException("backward: the graph through " + n.op + " was freed; pass retainGraph=true to backward twice");
            Tensor[] ig = Derivatives.backward(n, v.value, g);
            for (int i = 0; i < n.inputs.length; i++) {
                Variable in = n.inputs[i];
                if (!in.requiresGrad || ig[i] == null) continue;
                Tensor gi = sumToShape(ig[i], in.value.shape());
                Tensor prev = grads.get(in);
                grads.put(in, prev == null ? gi : prev.add(gi));
            }
            if (!retainGraph) {
                n.inputs = null;
                n.saved = null;
            }
        }
    }

    /** Results before inputs, by an iterative depth-first post-order. */
    private List<Variable> topologicalOrder() {
        List<Variable> post = new ArrayList<>();
        Map<Variable, Boolean> seen = new IdentityHashMap<>();
        ArrayDeque<Variable> stack = new ArrayDeque<>();
        ArrayDeque<Integer> next = new ArrayDeque<>();
        stack.push(this);
        next.push(0);
        seen.put(this, true);
        while (!stack.isEmpty()) {
            Variable v = stack.peek();
            int i = next.pop();
            Variable[] in = v.node == null || v.node.inputs == null ? new Variable[0] : v.node.inputs;
            if (i < in.length) {
                next.push(i + 1);
                Variable c = in[i];
                if (c.requiresGrad && seen.put(c, true) == null) {
                    stack.push(c);
                    next.push(0);
                }
            } else {
                stack.pop();
                post.add(v);
            }
        }
        java.util.Collections.reverse(post);
        return post;
    }

    /** Sums a gradient in a broadcast shape back to {@code shape}: leading dims, then dims that were 1. */
    static Tensor sumToShape(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (Arrays.equals(gs, shape)) return g;
        int lead = gs.length - shape.length;
        List<Integer> dims = new ArrayList<>();
        for (int i = 0; i < gs.length; i++) {
            if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) dims.add(i);
        }
        Tensor r = g.sum(dims.stream().mapToInt(Integer::intValue).toArray(), true);
        return r.reshape(shape);
    }
}
