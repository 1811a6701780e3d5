package mlip.nn;

import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Generator;

/** timm's transformer MLP: {@code fc2(gelu(fc1(x)))} with the exact (erf) GELU, as {@code torch.nn.GELU()}. */
public final class Mlp extends Module {
    public final Linear fc1;
    public final Linear fc2;

    public Mlp(int dim, int hidden, Generator g, DType dtype) {
        this.fc1 = child("fc1", new Linear(dim, hidden, true, g, dtype));
        this.fc2 = child("fc2", new Linear(hidden, dim, true, g, dtype));
    }

    public Variable forward(Variable x) {
        return fc2.forward(fc1.forwardGelu(x, false));
    }
}
