package mlip.nn;

import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/**
 * {@code y = x W^T + b} with PyTorch's layout: {@code weight (out, in)}, {@code bias (out)}, initialised
 * uniform on ±1/sqrt(in) as {@code torch.nn.Linear}. The transpose is a view the GEMM packs without a copy.
 */
public final class Linear extends Module {
    public final Variable weight; // (out, in)
    public final Variable bias;   // (out) or null

    public Linear(int in, int out, boolean bias, Generator g) {
        this(in, out, bias, g, DType.F32);
    }

    public Linear(int in, int out, boolean bias, Generator g, DType dtype) {
        double bound = 1 / Math.sqrt(in);
        this.weight = param("weight", Init.uniform(g, bound, dtype, out, in));
        this.bias = bias ? param("bias", Init.uniform(g, bound, dtype, out)) : null;
    }

    /** x (..., in) -> (..., out). */
    public Variable forward(Variable x) {
        Variable y = x.matmul(weight.transpose(0, 1));
        return bias == null ? y : y.add(bias);
    }

    /** {@code gelu(x W^T + b)} with the bias added inside the fused GELU ({@link Variable#biasGelu}); exact GELU unless {@code tanhApprox}. */
    public Variable forwardGelu(Variable x, boolean tanhApprox) {
        Variable y = x.matmul(weight.transpose(0, 1));
        return bias == null ? y.gelu(tanhApprox) : y.biasGelu(bias, tanhApprox);
    }

    public int inFeatures() {
        return weight.size(1);
    }

    public int outFeatures() {
        return weight.size(0);
    }

    /** A constant input. */
    public Variable forward(Tensor x) {
        return forward(Variable.of(x));
    }
}
