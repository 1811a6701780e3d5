package mlip.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import mlip.autograd.Variable;
import mlip.tensor.Tensor;

/**
 * A layer with named parameters and named sub-modules, as in PyTorch: names are dotted paths
 * ({@code blocks.3.attn.qkv.weight}) in registration order, so a state dict round-trips with PyTorch and
 * Hugging Face safetensors files of the same architecture.
 *
 * <pre>{@code
 * class Mlp extends Module {
 *     final Linear fc1 = child("fc1", new Linear(192, 768, true, g));
 *     final Linear fc2 = child("fc2", new Linear(768, 192, true, g));
 *     Variable forward(Variable x) { return fc2.forward(fc1.forward(x).gelu(false)); }
 * }
 * }</pre>
 */
public abstract class Module {
    private final Map<String, Variable> params = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** Registers a parameter (a leaf that collects gradients). */
    protected Variable param(String name, Tensor init) {
        Variable v = Variable.param(init);
        if (params.put(name, v) != null || children.containsKey(name)) throw new IllegalArgumentException("Module: name '" + name + "' registered twice");
        return v;
    }

    /** Registers a sub-module under {@code name}. */
    protected <M extends Module> M child(String name, M m) {
        if (children.put(name, m) != null || params.containsKey(name)) throw new IllegalArgumentException("Module: name '" + name + "' registered twice");
        return m;
    }

    /** Every parameter under its dotted name, this module's own first, then each child's in order. */
    public Map<String, Variable> namedParameters() {
        Map<String, Variable> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Variable> out) {
        params.forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, m) -> m.collect(prefix + k + ".", out));
    }

    /** The parameters' current values by name (what a checkpoint stores). */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedParameters().forEach((k, v) -> out.put(k, v.value()));
        return out;
    }

    /** Number of scalar parameters. */
    public long parameterCount() {
        long n = 0;
        for (Variable v : namedParameters().values()) n += v.value().numel();
        return n;
    }

    /** Training mode (dropout active) for this module and every child. */
    public void train(boolean on) {
        training = on;
        children.values().forEach(m -> m.train(on));
    }

    public boolean isTraining() {
        return training;
    }

    /** Moves every parameter to {@code device} (values copied once; gradients cleared). Returns this. */
    public Module to(mlip.tensor.Device device) {
        for (Variable v : namedParameters().values()) {
            v.zeroGrad();
            v.assign(v.value().to(device));
        }
        return this;
    }

    /** Clears every parameter's gradient. */
    public void zeroGrad() {
        namedParameters().values().forEach(Variable::zeroGrad);
    }
}
