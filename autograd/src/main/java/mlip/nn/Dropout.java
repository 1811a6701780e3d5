package mlip.nn;

import mlip.autograd.Variable;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/**
 * Inverted dropout: in training, zeroes each element with probability {@code p} (Philox, so the same
 * seed drops the same elements on every device) and scales the rest by {@code 1/(1-p)}; identity in eval.
 */
public final class Dropout extends Module {
    private final double p;
    private final Generator g;

    public Dropout(double p, Generator g) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
        this.p = p;
        this.g = g;
    }

    public Variable forward(Variable x) {
        if (!isTraining() || p == 0) return x;
        Tensor keep = Tensor.random(g, mlip.tensor.Distribution.UNIFORM, x.value().dtype(), x.value().device(), x.shape()).ge(p);
        return x.mul(Variable.of(keep.mul(1 / (1 - p))));
    }
}
