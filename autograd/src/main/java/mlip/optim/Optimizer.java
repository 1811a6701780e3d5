package mlip.optim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;
import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Shape;
import mlip.tensor.Tensor;

/**
 * Base of the optimizers: named parameters, the learning rate, the weight-decay grouping, and the
 * state-dict plumbing that makes a resumed run continue bit-identically.
 *
 * <pre>{@code
 * Optimizer opt = new AdamW(params, 3e-4, 0.9, 0.999, 1e-8, 0.05);
 * LrSchedule sched = new WarmupCosine(3e-4, 100, 10_000, 3e-6);
 * for (int step = 0; step < 10_000; step++) {
 *     opt.setLr(sched.lr(step));
 *     Variable loss = model.forward(batch(step));
 *     loss.backward();
 *     GradClip.clipGlobalNorm(params.values(), 1.0);
 *     opt.step();
 *     opt.zeroGrad();
 * }
 * Safetensors.write(dir.resolve("optimizer.safetensors"), opt.stateDict());
 * }</pre>
 *
 * <h2>State dict layout</h2>
 * Flat, so it goes through {@link mlip.io.Safetensors} as it is: {@code "<kind>.<parameter name>"} per
 * parameter (e.g. {@code exp_avg.vision.blocks.0.attn.qkv.weight}, {@code step.fc.bias}), a 0-d I32
 * {@code step} (number of {@link #step()} calls) and a 0-d F64 {@code lr} (restored on load, as PyTorch restores
 * its param groups' lr). Per-parameter state exists only for parameters that have had a gradient at a step.
 * Other hyperparameters (betas, eps, weight decay, momentum) are configuration and are not stored.
 */
public abstract class Optimizer {
    /** The parameters by name, in the caller's order. */
    protected final LinkedHashMap<String, Variable> params;
    private final Map<String, Boolean> decays = new LinkedHashMap<>();
    /** Current learning rate. */
    protected double lr;
    /** Number of {@link #step()} calls so far. */
    protected int steps;

    /**
     * @param noDecay which parameters get no weight decay; {@code null} means every parameter decays
     */
    protected Optimizer(Map<String, Variable> params, double lr, BiPredicate<String, Variable> noDecay) {
        if (params.isEmpty()) throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters to optimize");
        this.params = new LinkedHashMap<>();
        Map<Variable, String> seen = new IdentityHashMap<>();
        for (Map.Entry<String, Variable> e : params.entrySet()) {
            Variable p = e.getValue();
            String other = seen.put(p, e.getKey());
            if (other != null) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": one parameter appears under two names, " + other + " and " + e.getKey()
                        + " (it would be updated twice per step)");
            }
            if (!p.requiresGrad()) throw new IllegalArgumentException(getClass().getSimpleName() + ": " + e.getKey() + " is not a parameter (does not require a gradient)");
            if (!p.value().dtype().isFloating()) throw new IllegalArgumentException(getClass().getSimpleName() + ": " + e.getKey() + " is " + p.value().dtype() + ", not a floating dtype");
            this.params.put(e.getKey(), p);
            decays.put(e.getKey(), noDecay == null || !noDecay.test(e.getKey(), p));
        }
        setLr(lr);
    }

    /** One update of every parameter that has a gradient; parameters without one are skipped (and their state kept). */
    public abstract void step();

    /** Clears every parameter's gradient. */
    public void zeroGrad() {
        for (Variable p : params.values()) p.zeroGrad();
    }

    public double lr() {
        return lr;
    }

    /** Sets the learning rate for the next steps (a schedule calls this before each step). */
    public void setLr(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException(getClass().getSimpleName() + ": invalid learning rate " + lr);
        this.lr = lr;
    }

    /** Number of {@link #step()} calls so far (restored by {@link #loadStateDict}). */
    public int stepCount() {
        return steps;
    }

    /** The parameters this optimizer updates, by name. */
    public Map<String, Variable> params() {
        return Collections.unmodifiableMap(params);
    }

    /** True when weight decay applies to the parameter {@code name}. */
    public boolean decays(String name) {
        Boolean d = decays.get(name);
        if (d == null) throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameter named " + name);
        return d;
    }

    /** The optimizer's state (see the class notes for the layout); the tensors are snapshots, safe to keep. */
    public final Map<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        out.put("step", Tensor.scalar(steps, DType.I32, Device.CPU));
        out.put("lr", Tensor.scalar(lr, DType.F64, Device.CPU));
        for (String name : params.keySet()) {
            Map<String, Tensor> st = paramState(name);
            if (st == null) continue;
            for (Map.Entry<String, Tensor> e : st.entrySet()) out.put(e.getKey() + "." + name, e.getValue());
        }
        return out;
    }

    /**
     * Replaces the state with {@code state} (as written by {@link #stateDict()}). Everything is checked first —
     * unknown keys, unknown parameter names, shapes, incomplete per-parameter state — and reported in one error;
     * then the state is replaced as a whole (parameters absent from {@code state} start fresh).
     */
    public final void loadStateDict(Map<String, Tensor> state) {
        String who = getClass().getSimpleName() + " loadStateDict";
        List<String> problems = new ArrayList<>();
        Tensor stepT = state.get("step"), lrT = state.get("lr");
        if (stepT == null) problems.add("missing key 'step'");
        else if (stepT.numel() != 1) problems.add("'step' must hold one value, got shape " + Shape.str(stepT.shape()));
        if (lrT == null) problems.add("missing key 'lr'");
        else if (lrT.numel() != 1) problems.add("'lr' must hold one value, got shape " + Shape.str(lrT.shape()));
        List<String> kinds = stateKinds();
        Map<String, Map<String, Tensor>> per = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            String key = e.getKey();
            if (key.equals("step") || key.equals("lr")) continue;
            int dot = key.indexOf('.');
            String kind = dot < 0 ? key : key.substring(0, dot);
            if (dot < 0 || !kinds.contains(kind)) {
                problems.add("unexpected key '" + key + "' (expected step, lr, or <kind>.<parameter> with kind in " + kinds + ")");
                continue;
            }
            String name = key.substring(dot + 1);
            Variable p = params.get(name);
            if (p == null) {
                problems.add("key '" + key + "' names no parameter of this optimizer");
                continue;
            }
            int[] want = kindShape(kind, p);
            if (!Arrays.equals(want, e.getValue().shape())) {
                problems.add("key '" + key + "' has shape " + Shape.str(e.getValue().shape()) + ", expected " + Shape.str(want));
                continue;
            }
            per.computeIfAbsent(name, k -> new LinkedHashMap<>()).put(kind, e.getValue());
        }
        for (Map.Entry<String, Map<String, Tensor>> e : per.entrySet()) {
            if (e.getValue().size() != kinds.size()) {
                List<String> lack = new ArrayList<>(kinds);
                lack.removeAll(e.getValue().keySet());
                problems.add("parameter '" + e.getKey() + "' has incomplete state: missing " + lack);
            }
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException(who + ": " + String.join("; ", problems));
        double newLr = lrT.item();
        if (!(newLr >= 0) || Double.isInfinite(newLr)) throw new IllegalArgumentException(who + ": invalid lr " + newLr);
        clearState();
        for (Map.Entry<String, Map<String, Tensor>> e : per.entrySet()) {
            Variable p = params.get(e.getKey());
            Map<String, Tensor> conv = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> k : e.getValue().entrySet()) {
                Tensor t = k.getValue();
                DType want = kindDType(k.getKey(), p);
                conv.put(k.getKey(), t.to(want).to(p.value().device()).copy());
            }
            setParamState(e.getKey(), conv);
        }
        steps = (int) stepT.item();
        lr = newLr;
    }

    // ---------------------------------------------------------------- per-parameter state, by subclass

    /** The per-parameter state kinds, e.g. {@code [step, exp_avg, exp_avg_sq]}. */
    protected abstract List<String> stateKinds();

    /** The state of one parameter by kind, or null when it has none yet. */
    protected abstract Map<String, Tensor> paramState(String name);

    /** Installs the (checked, converted) state of one parameter. */
    protected abstract void setParamState(String name, Map<String, Tensor> state);

    /** Drops all per-parameter state. */
    protected abstract void clearState();

    /** The shape a state kind has for {@code p}: the parameter's shape, or {@code []} for counters. */
    protected int[] kindShape(String kind, Variable p) {
        return kind.equals("step") ? new int[0] : p.shape();
    }

    /** The dtype a state kind has for {@code p}: the parameter's dtype, or I32 for counters. */
    protected DType kindDType(String kind, Variable p) {
        return kind.equals("step") ? DType.I32 : p.value().dtype();
    }

    /** The gradient of {@code p} in its value's dtype, or null. */
    protected static Tensor gradOf(Variable p) {
        Tensor g = p.grad();
        return g == null ? null : g.to(p.value().dtype());
    }

    static void check(boolean ok, String who, String msg) {
        if (!ok) throw new IllegalArgumentException(who + ": " + msg);
    }
}
