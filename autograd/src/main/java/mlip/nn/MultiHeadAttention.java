package mlip.nn;

import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/**
 * Multi-head self-attention with timm's names: {@code qkv} (D -> 3D) and {@code proj} (D -> D).
 * {@link #splitHeads}/{@link #mergeHeads} are shared with BERT's separate query/key/value layout.
 */
public final class MultiHeadAttention extends Module {
    public final Linear qkv;
    public final Linear proj;
    private final int heads;

    public MultiHeadAttention(int dim, int heads, Generator g, DType dtype) {
        if (dim % heads != 0) throw new IllegalArgumentException("MultiHeadAttention: dim " + dim + " not divisible by " + heads + " heads");
        this.heads = heads;
        this.qkv = child("qkv", new Linear(dim, 3 * dim, true, g, dtype));
        this.proj = child("proj", new Linear(dim, dim, true, g, dtype));
    }

    /** x (B, T, D), keyPadding (B, T) nonzero at padding or null -> (B, T, D). */
    public Variable forward(Variable x, Tensor keyPadding) {
        int b = x.size(0), t = x.size(1), d = x.size(2);
        Variable qkvh = qkv.forward(x).reshape(b, t, 3, heads, d / heads).permute(2, 0, 3, 1, 4);   // (3, B, H, T, dh)
        Variable o = Variable.attention(qkvh.select(0, 0), qkvh.select(0, 1), qkvh.select(0, 2), keyPadding);
        return proj.forward(mergeHeads(o));
    }

    /** (B, T, D) -> (B, H, T, D/H). */
    public static Variable splitHeads(Variable x, int heads) {
        int b = x.size(0), t = x.size(1), d = x.size(2);
        return x.reshape(b, t, heads, d / heads).permute(0, 2, 1, 3);
    }

    /** (B, H, T, dh) -> (B, T, H*dh). */
    public static Variable mergeHeads(Variable x) {
        int b = x.size(0), h = x.size(1), t = x.size(2), dh = x.size(3);
        return x.permute(0, 2, 1, 3).reshape(b, t, h * dh);
    }
}
