package mlip.nn;

import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Tensor;

/** Layer norm over the last dim with {@code weight} (ones) and {@code bias} (zeros), as {@code torch.nn.LayerNorm}. */
public final class LayerNorm extends Module {
    public final Variable weight; // (D)
    public final Variable bias;   // (D)
    private final double eps;

    public LayerNorm(int d, double eps) {
        this(d, eps, DType.F32);
    }

    public LayerNorm(int d, double eps, DType dtype) {
        this.weight = param("weight", Tensor.ones(dtype, d));
        this.bias = param("bias", Tensor.zeros(dtype, d));
        this.eps = eps;
    }

    public Variable forward(Variable x) {
        return x.layerNorm(weight, bias, eps);
    }

    /** The residual {@code x + y} and this norm of it, in one fused pass ({@link Variable#addLayerNorm}). */
    public Variable.AddLayerNorm forwardAdd(Variable x, Variable y) {
        return x.addLayerNorm(y, weight, bias, eps);
    }
}
