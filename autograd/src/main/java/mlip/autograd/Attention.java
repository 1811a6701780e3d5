package mlip.autograd;

import mlip.tensor.Shape;
import mlip.tensor.Tensor;

/** The forward half of scaled-dot-product attention shared by {@link Variable#attention} and its tests. */
final class Attention {
    private Attention() {
    }

    /**
     * {@code softmax(q k^T / sqrt(d))} over keys, with padded keys at -inf: {@code (B, H, Tq, Tk)}.
     * A query whose keys are all padding gets NaN, as in PyTorch; callers keep one real key (CLS).
     */
    static Tensor probabilities(Tensor q, Tensor k, Tensor keyPadding) {
        if (q.ndim() != 4 || k.ndim() != 4 || q.size(-1) != k.size(-1) || q.size(0) != k.size(0) || q.size(1) != k.size(1)) {
            throw new IllegalArgumentException("attention: expects q (B, H, Tq, d) and k (B, H, Tk, d), got " + Shape.str(q.shape()) + " and " + Shape.str(k.shape()));
        }
        Tensor scores = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(q.size(-1)));   // (B, H, Tq, Tk)
        if (keyPadding != null) {
            if (keyPadding.ndim() != 2 || keyPadding.size(0) != k.size(0) || keyPadding.size(1) != k.size(2)) {
                throw new IllegalArgumentException("attention: key padding mask " + Shape.str(keyPadding.shape()) + " does not match (B, Tk) of k " + Shape.str(k.shape()));
            }
            scores = scores.maskedFill(keyPadding.reshape(k.size(0), 1, 1, k.size(2)), Double.NEGATIVE_INFINITY);
        }
        return scores.softmax(-1);
    }
}
