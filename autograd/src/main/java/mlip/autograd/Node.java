package mlip.autograd;

import mlip.tensor.Tensor;

/**
 * One recorded op in the graph: its inputs and what its backward rule needs (saved tensors, a few
 * ints and a double). {@link Variable#backward()} drops {@code inputs} and {@code saved} after use
 * unless the graph is retained, so the activations can be collected.
 */
final class Node {
    final Op op;
    Variable[] inputs;
    Tensor[] saved;
    final int[] ints;
    final double scalar;

    Node(Op op, Variable[] inputs, Tensor[] saved, int[] ints, double scalar) {
        this.op = op;
        this.inputs = inputs;
        this.saved = saved;
        this.ints = ints;
        this.scalar = scalar;
    }
}
