package mlip.nn;

import mlip.tensor.Distribution;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/** Parameter initialisers (PyTorch's defaults where a layer has one). */
public final class Init {
    private Init() {
    }

    /** Uniform on [-bound, bound). */
    public static Tensor uniform(Generator g, double bound, DType dtype, int... shape) {
        return Tensor.random(g, Distribution.UNIFORM, dtype, Device.CPU, shape).mul(2 * bound).sub(bound);
    }

    /** Normal with standard deviation {@code std} (BERT and ViT use 0.02). */
    public static Tensor normal(Generator g, double std, DType dtype, int... shape) {
        return Tensor.random(g, Distribution.NORMAL, dtype, Device.CPU, shape).mul(std);
    }
}
