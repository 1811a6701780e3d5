package mlip.model;

import mlip.autograd.Variable;
import mlip.nn.Init;
import mlip.nn.LayerNorm;
import mlip.nn.Linear;
import mlip.nn.Module;
import mlip.nn.ModuleGroup;
import mlip.nn.TransformerBlock;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/**
 * The masked-image-prediction decoder (DESIGN.md 7.4, MAE style): the encoder's states of the kept
 * patches go back to their places, a learned mask token fills the dropped ones, a few small transformer
 * blocks run over all N positions, and a linear head predicts each patch's P x P pixels.
 *
 * <pre>{@code
 * Variable pred = decoder.forward(keptStates, keep, n);   // (B, K, D), (B, K) I32 -> (B, N, P*P)
 * }</pre>
 */
public final class MaeDecoder extends Module {
    public final Linear embed;          // D -> Dd
    public final Variable maskToken;    // (1, 1, Dd)
    public final Variable posEmbed;     // (1, N, Dd)
    public final java.util.List<TransformerBlock> blocks = new java.util.ArrayList<>();
    public final LayerNorm norm;
    public final Linear head;           // Dd -> P*P

    public MaeDecoder(int encoderDim, int dim, int depth, int heads, int numPatches, int patchPixels, Generator g) {
        embed = child("embed", new Linear(encoderDim, dim, true, g));
        maskToken = param("mask_token", Init.normal(g, 0.02, DType.F32, 1, 1, dim));
        posEmbed = param("pos_embed", Init.normal(g, 0.02, DType.F32, 1, numPatches, dim));
        ModuleGroup bl = child("blocks", new ModuleGroup());
        for (int i = 0; i < depth; i++) blocks.add(bl.add(Integer.toString(i), new TransformerBlock(dim, heads, 2 * dim, true, 1e-6, g, DType.F32)));
        norm = child("norm", new LayerNorm(dim, 1e-6, DType.F32));
        head = child("head", new Linear(dim, patchPixels, true, g));
    }

    /** kept (B, K, D) encoder states at patch indices keep (B, K) -> predicted pixels (B, N, P*P) for every patch. */
    public Variable forward(Variable kept, Tensor keep, int n) {
        int b = kept.size(0), k = kept.size(1);
        Variable x = embed.forward(kept);                                                   // (B, K, Dd)
        int dd = x.size(2);
        Tensor idx = keep.unsqueeze(-1).expand(b, k, dd).contiguous();                    // (B, K, Dd)
        // Dropped positions hold the mask token; kept ones start at 0 and receive their states.
        Tensor keptMask = Tensor.full(DType.F32, keep.device(), 0, b, n)
                .scatterAdd(1, keep, Tensor.full(DType.F32, keep.device(), 1, b, k)).unsqueeze(-1);     // (B, N, 1)
        Variable full = maskToken.expand(b, n, dd).mul(Variable.of(keptMask.neg().add(1)))
                .scatterAdd(1, idx, x)                                                       // (B, N, Dd)
                .add(posEmbed);
        for (TransformerBlock blk : blocks) full = blk.forward(full, null);
        return head.forward(norm.forward(full));                                             // (B, N, P*P)
    }
}
