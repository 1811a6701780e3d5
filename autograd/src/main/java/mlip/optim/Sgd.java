package mlip.optim;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;
import mlip.autograd.Variable;
import mlip.tensor.Tensor;

/**
 * Stochastic gradient descent with momentum, step for step as PyTorch's {@code torch.optim.SGD}
 * (dampening 0, no maximize). For each parameter {@code p} with gradient {@code g}:
 * <pre>
 *   d = g + weightDecay * p                        (coupled L2 decay, as in PyTorch's SGD)
 *   b = d                  at the parameter's first step,
 *   b = momentum * b + d   after                   (only when momentum != 0)
 *   d = nesterov ? d + momentum * b : b
 *   p = p - lr * d
 * </pre>
 * Parameters without a gradient are skipped. By default every parameter decays, as with one PyTorch
 * param group; pass a predicate (e.g. {@link AdamW#defaultNoDecay}) to exempt some.
 *
 * <pre>{@code
 * Sgd opt = new Sgd(params, 0.1, 0.9, 1e-4, false);
 * loss.backward();
 * opt.step();
 * opt.zeroGrad();
 * }</pre>
 */
public final class Sgd extends Optimizer {
    private final double momentum, weightDecay;
    private final boolean nesterov;
    private final Map<String, Tensor> buffers = new HashMap<>(); // momentum_buffer, shape and dtype of the parameter

    /** Plain SGD with momentum (no Nesterov); every parameter decays. */
    public Sgd(Map<String, Variable> params, double lr, double momentum, double weightDecay) {
        this(params, lr, momentum, weightDecay, false);
    }

    public Sgd(Map<String, Variable> params, double lr, double momentum, double weightDecay, boolean nesterov) {
        this(params, lr, momentum, weightDecay, nesterov, null);
    }

    /**
     * @param noDecay true for the parameters that get no weight decay; null: all decay
     */
    public Sgd(Map<String, Variable> params, double lr, double momentum, double weightDecay, boolean nesterov,
               BiPredicate<String, Variable> noDecay) {
        super(params, lr, noDecay);
        check(momentum >= 0, "Sgd", "momentum must be >= 0, got " + momentum);
        check(weightDecay >= 0, "Sgd", "weight decay must be >= 0, got " + weightDecay);
        check(!nesterov || momentum > 0, "Sgd", "Nesterov momentum requires a momentum > 0");
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    @Override
    public void step() {
        for (Map.Entry<String, Variable> e : params.entrySet()) {
            Variable p = e.getValue();
            Tensor d = gradOf(p);
            if (d == null) continue;
            Tensor x = p.value();
            if (weightDecay != 0 && decays(e.getKey())) d = d.add(x.mul(weightDecay));
            if (momentum != 0) {
                Tensor b = buffers.get(e.getKey());
                b = b == null ? d.copy() : b.mul(momentum).add(d);
                buffers.put(e.getKey(), b);
                d = nesterov ? d.add(b.mul(momentum)) : b;
            }
            p.assign(x.add(d.mul(-lr)));
        }
        steps++;
    }

    @Override
    protected List<String> stateKinds() {
        return List.of("momentum_buffer");
    }

    @Override
    protected Map<String, Tensor> paramState(String name) {
        Tensor b = buffers.get(name);
        return b == null ? null : Map.of("momentum_buffer", b);
    }

    @Override
    protected void setParamState(String name, Map<String, Tensor> state) {
        buffers.put(name, state.get("momentum_buffer"));
    }

    @Override
    protected void clearState() {
        buffers.clear();
    }
}
