package mlip.autograd;

import java.util.function.Function;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/**
 * Numerical gradient check in F64 by central differences (DESIGN.md 5): for a function of several
 * inputs, the analytic gradient of {@code sum(f(x) * w)} (w a fixed random projection, so every output
 * element counts) must match {@code (L(x + eps) - L(x - eps)) / 2eps} element by element within
 * {@code atol + rtol * |numeric|}.
 *
 * <pre>{@code
 * String err = GradCheck.check(v -> v[0].matmul(v[1]).tanh(), a, b);   // null when all agree
 * }</pre>
 */
public final class GradCheck {
    public static final double EPS = 1e-6, ATOL = 1e-5, RTOL = 1e-3;

    private GradCheck() {
    }

    /** Null when every input's gradient matches, else a message naming the input, element and both values. */
    public static String check(Function<Variable[], Variable> f, Tensor... inputs) {
        return check(f, f, inputs);
    }

    /**
     * The analytic gradient of {@code f} against central differences of {@code oracle}, a function equal to
     * {@code f} at the inputs whose derivative is the one {@code f}'s rule means to give — for ops that hold part
     * of their computation constant on purpose (the OT plan of {@code patchSentenceOtScores}: the oracle
     * recomputes the scores with the plan frozen at the inputs). The values of both must agree at the inputs.
     */
    public static String check(Function<Variable[], Variable> f, Function<Variable[], Variable> oracle, Tensor... inputs) {
        Variable[] params = new Variable[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i].dtype() != DType.F64) throw new IllegalArgumentException("gradcheck: input " + i + " must be F64, got " + inputs[i].dtype());
            params[i] = Variable.param(inputs[i]);
        }
        Variable out = f.apply(params);
        Tensor w = Tensor.random(new Generator(1234), mlip.tensor.Distribution.NORMAL, DType.F64, out.value().device(), out.shape());
        if (oracle != f) {
            double lf = out.value().mul(w).sum().item(), lo = loss(oracle, inputs, -1, null, w);
            if (!(Math.abs(lf - lo) <= ATOL + RTOL * Math.abs(lo))) return String.format("gradcheck: f %.10g and oracle %.10g differ at the inputs", lf, lo);
        }
        out.mul(Variable.of(w)).sum().backward();
        for (int i = 0; i < inputs.length; i++) {
            Tensor analytic = params[i].grad();
            double[] x = inputs[i].toDoubleArray();
            double[] ga = analytic == null ? new double[x.length] : analytic.toDoubleArray();
            for (int j = 0; j < x.length; j++) {
                double keep = x[j];
                x[j] = keep + EPS;
                double lp = loss(oracle, inputs, i, x, w);
                x[j] = keep - EPS;
                double lm = loss(oracle, inputs, i, x, w);
                x[j] = keep;
                double numeric = (lp - lm) / (2 * EPS);
                if (!(Math.abs(ga[j] - numeric) <= ATOL + RTOL * Math.abs(numeric))) {
                    return String.format("gradcheck: input %d element %d: analytic %.10g vs numeric %.10g", i, j, ga[j], numeric);
                }
            }
        }
        return null;
    }

    private static double loss(Function<Variable[], Variable> f, Tensor[] inputs, int which, double[] x, Tensor w) {
        Variable[] vs = new Variable[inputs.length];
        for (int i = 0; i < inputs.length; i++) vs[i] = Variable.of(i == which ? Tensor.of(x, inputs[i].shape()) : inputs[i]);
        try (var ignored = GradMode.noGrad()) {
            return f.apply(vs).value().mul(w).sum().item();
        }
    }
}
