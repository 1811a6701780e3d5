package mlip.nn;

import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/**
 * A transformer block with timm's names ({@code norm1}, {@code attn}, {@code norm2}, {@code mlp}).
 * Pre-LN (ViT): {@code x + attn(norm1(x))}, then {@code x + mlp(norm2(x))}. Post-LN (original
 * transformer, BERT): {@code norm1(x + attn(x))}, then {@code norm2(x + mlp(x))}.
 */
public final class TransformerBlock extends Module {
    public final LayerNorm norm1;
    public final MultiHeadAttention attn;
    public final LayerNorm norm2;
    public final Mlp mlp;
    private final boolean preLn;

    public TransformerBlock(int dim, int heads, int mlpHidden, boolean preLn, double eps, Generator g, DType dtype) {
        this.preLn = preLn;
        this.norm1 = child("norm1", new LayerNorm(dim, eps, dtype));
        this.attn = child("attn", new MultiHeadAttention(dim, heads, g, dtype));
        this.norm2 = child("norm2", new LayerNorm(dim, eps, dtype));
        this.mlp = child("mlp", new Mlp(dim, mlpHidden, g, dtype));
    }

    /** x (B, T, D) -> (B, T, D). */
    public Variable forward(Variable x, Tensor keyPadding) {
        if (preLn) {
            Variable.AddLayerNorm h = norm2.forwardAdd(x, attn.forward(norm1.forward(x), keyPadding));   // h = x + attn(..), norm2(h)
            return h.sum().add(mlp.forward(h.out()));
        }
        x = norm1.forwardAdd(x, attn.forward(x, keyPadding)).out();
        return norm2.forwardAdd(x, mlp.forward(x)).out();
    }
}
