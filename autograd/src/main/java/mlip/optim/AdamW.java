package mlip.optim;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiPredicate;
import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Tensor;

/**
 * Adam with decoupled weight decay, step for step as PyTorch's {@code torch.optim.AdamW}
 * (no amsgrad, no maximize). For each parameter {@code p} with gradient {@code g}, at its step {@code t}:
 * <pre>
 *   p   = p * (1 - lr * weightDecay)            (only for parameters that decay, see below)
 *   m   = beta1 * m + (1 - beta1) * g
 *   v   = beta2 * v + (1 - beta2) * g * g
 *   p   = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * As in PyTorch, {@code t} counts the steps at which this parameter had a gradient; a parameter without a
 * gradient is skipped (not decayed, its moments untouched).
 *
 * <pre>{@code
 * AdamW opt = new AdamW(params, 1e-3, 0.9, 0.999, 1e-8, 0.05);   // params: name -> Variable
 * loss.backward();
 * opt.step();
 * opt.zeroGrad();
 * }</pre>
 *
 * <h2>Which parameters decay</h2>
 * {@link #defaultNoDecay} exempts (the usual BERT/timm/open_clip practice):
 * <ul>
 *   <li>parameters with fewer than 2 dims: biases, norm weights, scalars such as a learnable temperature;</li>
 *   <li>names ending in {@code .bias} (or equal to {@code bias});</li>
 *   <li>names containing {@code norm} in any case ({@code norm1}, {@code LayerNorm}, {@code embeddings.LayerNorm});</li>
 *   <li>names with a dotted segment starting with {@code ln} ({@code ln_1}, {@code ln_f}, {@code ln_post}).</li>
 * </ul>
 * Everything else decays, including timm's {@code cls_token} and {@code pos_embed} (timm exempts those through
 * the model's {@code no_weight_decay()}); pass another predicate to the full constructor to change the rule.
 */
public final class AdamW extends Optimizer {
    // The update below is written with tensor ops (about a dozen temporaries per parameter): correct first.
    // A fused adamw kernel (one pass over p, g, m, v; DESIGN.md 4) is the later fast path; it must match this.
    private final double beta1, beta2, eps, weightDecay;
    private final Map<String, State> state = new HashMap<>();

    private static final class State {
        int t;        // steps this parameter took
        Tensor m, v;  // first and second moments, shape and dtype of the parameter
    }

    /** AdamW with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01, {@link #defaultNoDecay}. */
    public AdamW(Map<String, Variable> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0.01);
    }

    /** AdamW with the {@link #defaultNoDecay} grouping. */
    public AdamW(Map<String, Variable> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this(params, lr, beta1, beta2, eps, weightDecay, AdamW::defaultNoDecay);
    }

    /**
     * @param noDecay true for the parameters (by name and variable) that get no weight decay; null: all decay
     */
    public AdamW(Map<String, Variable> params, double lr, double beta1, double beta2, double eps, double weightDecay,
                 BiPredicate<String, Variable> noDecay) {
        super(params, lr, noDecay);
        check(beta1 >= 0 && beta1 < 1, "AdamW", "beta1 must be in [0, 1), got " + beta1);
        check(beta2 >= 0 && beta2 < 1, "AdamW", "beta2 must be in [0, 1), got " + beta2);
        check(eps >= 0, "AdamW", "eps must be >= 0, got " + eps);
        check(weightDecay >= 0, "AdamW", "weight decay must be >= 0, got " + weightDecay);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** The default no-decay rule (see the class notes). */
    public static boolean defaultNoDecay(String name, Variable p) {
        if (p.ndim() < 2) return true;
        if (name.equals("bias") || name.endsWith(".bias")) return true;
        if (name.toLowerCase(Locale.ROOT).contains("norm")) return true;
        for (String seg : name.split("\\.")) {
            if (seg.startsWith("ln")) return true;
        }
        return false;
    }

    @Override
    public void step() {
        for (Map.Entry<String, Variable> e : params.entrySet()) {
            Variable p = e.getValue();
            Tensor g = gradOf(p);
            if (g == null) continue;
            State s = state.computeIfAbsent(e.getKey(), k -> {
                State n = new State();
                n.m = Tensor.full(p.value().dtype(), p.value().device(), 0, p.shape());
                n.v = Tensor.full(p.value().dtype(), p.value().device(), 0, p.shape());
                return n;
            });
            s.t++;
            Tensor x = p.value();
            if (weightDecay != 0 && decays(e.getKey())) x = x.mul(1 - lr * weightDecay);
            // m.lerp_(g, 1 - beta1) in PyTorch: for a weight below 0.5 it computes m + w * (g - m)
            s.m = s.m.add(g.sub(s.m).mul(1 - beta1));
            s.v = s.v.mul(beta2).add(g.mul(g).mul(1 - beta2));
            double bc1 = 1 - Math.pow(beta1, s.t);
            double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, s.t));
            double stepSize = lr / bc1;
            Tensor denom = s.v.sqrt().div(bc2Sqrt).add(eps);
            x = x.add(s.m.div(denom).mul(-stepSize));
            p.assign(x);
        }
        steps++;
    }

    @Override
    protected List<String> stateKinds() {
        return List.of("step", "exp_avg", "exp_avg_sq");
    }

    @Override
    protected Map<String, Tensor> paramState(String name) {
        State s = state.get(name);
        if (s == null) return null;
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("step", Tensor.scalar(s.t, DType.I32, Device.CPU));
        out.put("exp_avg", s.m);
        out.put("exp_avg_sq", s.v);
        return out;
    }

    @Override
    protected void setParamState(String name, Map<String, Tensor> st) {
        State s = new State();
        s.t = (int) st.get("step").item();
        s.m = st.get("exp_avg");
        s.v = st.get("exp_avg_sq");
        state.put(name, s);
    }

    @Override
    protected void clearState() {
        state.clear();
    }
}
