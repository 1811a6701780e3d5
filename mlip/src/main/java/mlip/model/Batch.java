package mlip.model;

import mlip.tensor.Tensor;

/**
 * One training or evaluation batch, as tensors.
 *
 * @param images        (B, 1, H, W) F32 in [0, 1]
 * @param ids           (B, T) I32 token ids ([CLS] sentences [SEP] [PAD]...)
 * @param attentionMask (B, T) 1 for tokens, 0 for padding
 * @param pool          (B, M, T) F32: row m averages the tokens of sentence m (1/count at its tokens)
 * @param sentenceMask  (B, M) F32: 1 for a real sentence, 0 for padding
 * @param labels        (B, C) F32 multi-hot labels (the classes of {@link Prompts#CLASSES}), or null
 */
public record Batch(Tensor images, Tensor ids, Tensor attentionMask, Tensor pool, Tensor sentenceMask, Tensor labels) {
    public int size() {
        return images.size(0);
    }

    /** This batch on {@code device}: one host-to-device copy per tensor (none when already there). */
    public Batch to(mlip.tensor.Device device) {
        return new Batch(images.to(device), ids.to(device), attentionMask.to(device), pool.to(device), sentenceMask.to(device),
                labels == null ? null : labels.to(device));
    }
}
