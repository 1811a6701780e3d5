package mlip.nn;

import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/** A lookup table {@code weight (V, D)}; rows picked by I32 ids. Initialised N(0, std). */
public final class Embedding extends Module {
    public final Variable weight; // (V, D)

    public Embedding(int vocab, int dim, double std, Generator g, DType dtype) {
        this.weight = param("weight", Init.normal(g, std, dtype, vocab, dim));
    }

    /** ids (...) I32 -> (..., D). */
    public Variable forward(Tensor ids) {
        return Variable.embedding(weight, ids);
    }
}
