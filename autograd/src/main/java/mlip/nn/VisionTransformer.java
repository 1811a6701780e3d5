package mlip.nn;

import java.util.ArrayList;
import java.util.List;
import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Shape;
import mlip.tensor.Tensor;

/**
 * ViT with timm's parameter names ({@code patch_embed.proj.weight (D, C, P, P)}, {@code cls_token},
 * {@code pos_embed}, {@code blocks.i.*}, {@code norm}), so a timm ViT-B/16 state dict loads by name.
 *
 * <p>The patch embedding is timm's stride-P convolution written as what it is: a linear map of unfolded
 * P x P patches (channel-major inside a patch, like the conv weight). {@link #forward(Tensor, Tensor)} can
 * encode only a subset of patches per image — MLIP's masked encoding (DESIGN.md 7.3) — by gathering the
 * kept patch tokens (with their position embeddings) before the blocks.
 */
public final class VisionTransformer extends Module {
    public final int imageSize, patch, channels, dim;
    public final Variable patchWeight; // patch_embed.proj.weight (D, C, P, P)
    public final Variable patchBias;   // patch_embed.proj.bias (D)
    public final Variable clsToken;    // (1, 1, D)
    public final Variable posEmbed;    // (1, 1 + N, D)
    public final List<TransformerBlock> blocks = new ArrayList<>();
    public final LayerNorm norm;

    public VisionTransformer(int imageSize, int patch, int channels, int dim, int depth, int heads, int mlpHidden, Generator g, DType dtype) {
        if (imageSize % patch != 0) throw new IllegalArgumentException("VisionTransformer: image size " + imageSize + " is not a multiple of patch " + patch);
        this.imageSize = imageSize;
        this.patch = patch;
        this.channels = channels;
        this.dim = dim;
        ModuleGroup pe = child("patch_embed", new ModuleGroup());
        PatchProj proj = pe.add("proj", new PatchProj(dim, channels, patch, g, dtype));
        this.patchWeight = proj.weight;
        this.patchBias = proj.bias;
        this.clsToken = param("cls_token", Init.normal(g, 1e-6, dtype, 1, 1, dim));
        this.posEmbed = param("pos_embed", Init.normal(g, 0.02, dtype, 1, 1 + numPatches(), dim));
        ModuleGroup bl = child("blocks", new ModuleGroup());
        for (int i = 0; i < depth; i++) blocks.add(bl.add(Integer.toString(i), new TransformerBlock(dim, heads, mlpHidden, true, 1e-6, g, dtype)));
        this.norm = child("norm", new LayerNorm(dim, 1e-6, dtype));
    }

    /** timm's {@code patch_embed.proj}: a conv's weight (D, C, P, P) and bias (D), used as a linear map. */
    static final class PatchProj extends Module {
        final Variable weight;
        final Variable bias;

        PatchProj(int dim, int channels, int patch, Generator g, DType dtype) {
            double bound = 1 / Math.sqrt(channels * patch * patch);   // torch.nn.Conv2d's default bound
            weight = param("weight", Init.uniform(g, bound, dtype, dim, channels, patch, patch));
            bias = param("bias", Init.uniform(g, bound, dtype, dim));
        }
    }

    public int numPatches() {
        int s = imageSize / patch;
        return s * s;
    }

    /** images (B, C, H, W) -> patches (B, N, C*P*P), channel-major inside a patch. */
    public Tensor unfold(Tensor images) {
        int b = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
        if (c != channels || h != imageSize || w != imageSize) {
            throw new IllegalArgumentException("VisionTransformer: expects images (B, " + channels + ", " + imageSize + ", " + imageSize + "), got " + Shape.str(images.shape()));
        }
        int s = imageSize / patch;
        return images.reshape(b, c, s, patch, s, patch).permute(0, 2, 4, 1, 3, 5).reshape(b, s * s, c * patch * patch);
    }

    /** Every patch: (B, C, H, W) -> (B, 1 + N, D), CLS first. */
    public Variable forward(Tensor images) {
        return forward(images, null);
    }

    /**
     * Only the patches in {@code keep (B, K)} (I32 patch indices, 0..N-1) are encoded: (B, 1 + K, D).
     * {@code keep == null} encodes all N.
     */
    public Variable forward(Tensor images, Tensor keep) {
        Variable tokens = patchTokens(images);                                                    // (B, N, D)
        if (keep != null) {
            int b = images.size(0);
            if (keep.ndim() != 2 || keep.size(0) != b) throw new IllegalArgumentException("VisionTransformer: keep must be (B, K) I32, got " + Shape.str(keep.shape()));
            Tensor idx = keep.unsqueeze(-1).expand(b, keep.size(1), dim);                        // (B, K, D)
            tokens = tokens.gather(1, idx.contiguous());
        }
        return encodeTokens(tokens);
    }

    /** The patch tokens before the blocks: patch embedding plus position embedding, (B, C, H, W) -> (B, N, D). */
    public Variable patchTokens(Tensor images) {
        Variable w = patchWeight.reshape(dim, channels * patch * patch);
        return Variable.of(unfold(images)).matmul(w.transpose(0, 1)).add(patchBias)                // (B, N, D)
                .add(posEmbed.narrow(1, 1, numPatches()));
    }

    /** Encodes patch tokens (already position-embedded, any subset of K per image): (B, K, D) -> (B, 1 + K, D), CLS first. */
    public Variable encodeTokens(Variable tokens) {
        int b = tokens.size(0);
        Variable cls = clsToken.add(posEmbed.narrow(1, 0, 1)).expand(b, 1, dim);
        Variable x = Variable.cat(1, cls, tokens);
        for (TransformerBlock blk : blocks) x = blk.forward(x, null);
        return norm.forward(x);
    }
}
