package mlip.autograd;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Distribution;
import mlip.tensor.Generator;
import mlip.tensor.Reduction;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every entry of the derivative table gradchecked in F64 on several shapes, with broadcast and
 * non-contiguous inputs. {@link #everyOpHasAGradcheck} enumerates {@link Op}: a new op without a case here
 * fails the build.
 */
class GradcheckTest {

    /** {@code oracle}: the function whose central differences the analytic gradient of f must match (f itself, except for OT). */
    record Case(Op op, String name, Function<Variable[], Variable> f, Function<Variable[], Variable> oracle, Tensor[] inputs) {
        Case(Op op, String name, Function<Variable[], Variable> f, Tensor[] inputs) {
            this(op, name, f, f, inputs);
        }

        @Override
        public String toString() {
            return op + " " + name;
        }
    }

    private static final Generator G = new Generator(7);

    private static Tensor r(int... shape) {
        return Tensor.random(G, Distribution.NORMAL, DType.F64, Device.CPU, shape);
    }

    /** Values away from 0 (for log, sqrt, division, kinks). */
    private static Tensor pos(int... shape) {
        return r(shape).abs().add(0.5);
    }

    /** Values away from kinks at 0 but with both signs. */
    private static Tensor signed(int... shape) {
        Tensor x = r(shape);
        return x.add(x.sign().mul(0.3));
    }

    private static Tensor idx(int[] values, int... shape) {
        return Tensor.of(values, shape);
    }

    private static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case(Op.ADD, "broadcast (3,4)+(4)", v -> v[0].add(v[1]), new Tensor[]{r(3, 4), r(4)}));
        c.add(new Case(Op.ADD, "same shape", v -> v[0].add(v[1]), new Tensor[]{r(2, 3), r(2, 3)}));
        c.add(new Case(Op.SUB, "broadcast (2,3,4)-(3,1)", v -> v[0].sub(v[1]), new Tensor[]{r(2, 3, 4), r(3, 1)}));
        c.add(new Case(Op.MUL, "broadcast, transposed", v -> v[0].transpose(0, 1).mul(v[1]), new Tensor[]{r(4, 3), r(1, 4)}));
        c.add(new Case(Op.DIV, "broadcast", v -> v[0].div(v[1]), new Tensor[]{r(3, 4), pos(4)}));
        c.add(new Case(Op.MAXIMUM, "distinct", v -> v[0].maximum(v[1]), new Tensor[]{r(3, 4), r(3, 4).add(0.05)}));
        c.add(new Case(Op.MINIMUM, "distinct", v -> v[0].minimum(v[1]), new Tensor[]{r(3, 4), r(3, 4).add(0.05)}));
        c.add(new Case(Op.NEG, "", v -> v[0].neg(), new Tensor[]{r(5)}));
        c.add(new Case(Op.EXP, "", v -> v[0].exp(), new Tensor[]{r(2, 3)}));
        c.add(new Case(Op.LOG, "", v -> v[0].log(), new Tensor[]{pos(2, 3)}));
        c.add(new Case(Op.SQRT, "", v -> v[0].sqrt(), new Tensor[]{pos(2, 3)}));
        c.add(new Case(Op.RSQRT, "", v -> v[0].rsqrt(), new Tensor[]{pos(2, 3)}));
        c.add(new Case(Op.RECIP, "", v -> v[0].reciprocal(), new Tensor[]{signed(2, 3)}));
        c.add(new Case(Op.SQUARE, "", v -> v[0].square(), new Tensor[]{r(2, 3)}));
        c.add(new Case(Op.ABS, "", v -> v[0].abs(), new Tensor[]{signed(2, 3)}));
        c.add(new Case(Op.TANH, "", v -> v[0].tanh(), new Tensor[]{r(2, 3)}));
        c.add(new Case(Op.SIGMOID, "", v -> v[0].sigmoid(), new Tensor[]{r(2, 3)}));
        c.add(new Case(Op.RELU, "", v -> v[0].relu(), new Tensor[]{signed(2, 3)}));
        c.add(new Case(Op.ERF, "", v -> v[0].erf(), new Tensor[]{r(2, 3).mul(2)}));
        c.add(new Case(Op.GELU_TANH, "", v -> v[0].gelu(true), new Tensor[]{r(2, 3).mul(2)}));
        c.add(new Case(Op.GELU_ERF, "", v -> v[0].gelu(false), new Tensor[]{r(2, 3).mul(2)}));
        c.add(new Case(Op.POW_SCALAR, "p=2.5", v -> v[0].pow(2.5), new Tensor[]{pos(2, 3)}));
        c.add(new Case(Op.SUM, "dims {0,2}", v -> v[0].sum(new int[]{0, 2}, false), new Tensor[]{r(2, 3, 4)}));
        c.add(new Case(Op.SUM, "keepdim, all", v -> v[0].sum(-1, true).sum(), new Tensor[]{r(2, 3)}));
        c.add(new Case(Op.MEAN, "dim 1 of a transposed view", v -> v[0].transpose(0, 1).mean(1, false), new Tensor[]{r(4, 3)}));
        c.add(new Case(Op.MEAN, "all", v -> v[0].mean(), new Tensor[]{r(2, 3)}));
        c.add(new Case(Op.MAX, "dim 1", v -> v[0].max(1, false), new Tensor[]{r(3, 5)}));
        c.add(new Case(Op.MAX, "dim 0 keepdim", v -> v[0].max(0, true), new Tensor[]{r(3, 5)}));
        c.add(new Case(Op.RESHAPE, "of a transposed view", v -> v[0].transpose(0, 1).reshape(-1), new Tensor[]{r(3, 4)}));
        c.add(new Case(Op.RESHAPE, "unsqueeze/squeeze", v -> v[0].unsqueeze(1).mul(v[0].unsqueeze(0)).squeeze(0), new Tensor[]{r(1, 3)}));
        c.add(new Case(Op.PERMUTE, "", v -> v[0].permute(2, 0, 1).mul(v[1]), new Tensor[]{r(2, 3, 4), r(4, 2, 3)}));
        c.add(new Case(Op.NARROW, "", v -> v[0].narrow(1, 1, 2), new Tensor[]{r(3, 4)}));
        c.add(new Case(Op.SELECT, "", v -> v[0].select(0, 1), new Tensor[]{r(3, 4)}));
        c.add(new Case(Op.EXPAND, "", v -> v[0].expand(2, 3, 4), new Tensor[]{r(3, 1)}));
        c.add(new Case(Op.CAT, "dim 1", v -> Variable.cat(1, v[0], v[1].transpose(0, 1)), new Tensor[]{r(2, 3), r(4, 2)}));
        c.add(new Case(Op.CAT, "stack", v -> Variable.stack(0, v[0], v[1]), new Tensor[]{r(2, 3), r(2, 3)}));
        c.add(new Case(Op.GATHER, "repeated", v -> v[0].gather(1, idx(new int[]{0, 0, 2, 1, 3, 3}, 2, 3)), new Tensor[]{r(2, 4)}));
        c.add(new Case(Op.INDEX_SELECT, "repeated rows", v -> v[0].indexSelect(0, idx(new int[]{2, 0, 2}, 3)), new Tensor[]{r(4, 3)}));
        c.add(new Case(Op.INDEX_SELECT, "embedding", v -> Variable.embedding(v[0], idx(new int[]{1, 3, 1, 0}, 2, 2)), new Tensor[]{r(5, 3)}));
        c.add(new Case(Op.SCATTER_ADD, "repeated", v -> v[0].scatterAdd(1, idx(new int[]{0, 0, 2, 1}, 2, 2), v[1]), new Tensor[]{r(2, 3), r(2, 2)}));
        c.add(new Case(Op.WHERE, "broadcast", v -> Variable.where(Tensor.of(new int[]{1, 0, 1}, 3), v[0], v[1]), new Tensor[]{r(2, 3), r(1, 3)}));
        c.add(new Case(Op.WHERE, "maskedFill", v -> v[0].maskedFill(Tensor.of(new int[]{0, 1}, 2, 1), -2.0), new Tensor[]{r(2, 3)}));
        c.add(new Case(Op.MATMUL, "2-d", v -> v[0].matmul(v[1]), new Tensor[]{r(3, 4), r(4, 2)}));
        c.add(new Case(Op.MATMUL, "batched broadcast, transposed", v -> v[0].matmul(v[1].transpose(0, 1)), new Tensor[]{r(2, 3, 4), r(5, 4)}));
        c.add(new Case(Op.SOFTMAX, "dim 0", v -> v[0].softmax(0), new Tensor[]{r(3, 4)}));
        c.add(new Case(Op.SOFTMAX, "last", v -> v[0].softmax(-1), new Tensor[]{r(2, 3, 4)}));
        c.add(new Case(Op.LOG_SOFTMAX, "", v -> v[0].logSoftmax(1), new Tensor[]{r(3, 4)}));
        c.add(new Case(Op.LAYER_NORM, "affine", v -> v[0].layerNorm(v[1], v[2], 1e-5), new Tensor[]{r(2, 3, 5), r(5), r(5)}));
        c.add(new Case(Op.LAYER_NORM, "plain", v -> v[0].layerNorm(null, null, 1e-5), new Tensor[]{r(4, 6)}));
        c.add(new Case(Op.BIAS_GELU, "erf, (2,3,5) + (5)", v -> v[0].biasGelu(v[1], false), new Tensor[]{r(2, 3, 5).mul(2), r(5)}));
        c.add(new Case(Op.BIAS_GELU, "tanh, transposed x", v -> v[0].transpose(0, 1).biasGelu(v[1], true), new Tensor[]{r(4, 3).mul(2), r(4)}));
        c.add(new Case(Op.CROSS_ENTROPY, "mean, ignore, smoothing", v -> v[0].crossEntropy(idx(new int[]{1, -100, 3, 0}, 4), -100, 0.1, Reduction.MEAN),
                new Tensor[]{r(4, 5)}));
        c.add(new Case(Op.CROSS_ENTROPY, "none", v -> v[0].crossEntropy(idx(new int[]{1, 2, 0}, 3), -100, 0, Reduction.NONE), new Tensor[]{r(3, 4)}));
        c.add(new Case(Op.CROSS_ENTROPY, "sum", v -> v[0].crossEntropy(idx(new int[]{1, 2, 0}, 3), -100, 0.2, Reduction.SUM), new Tensor[]{r(3, 4)}));
        c.add(new Case(Op.ATTENTION, "key padding", v -> Variable.attention(v[0], v[1], v[2], Tensor.of(new int[]{0, 0, 1, 0, 0, 0}, 2, 3)),
                new Tensor[]{r(2, 2, 4, 3), r(2, 2, 3, 3), r(2, 2, 3, 3)}));
        c.add(new Case(Op.ATTENTION, "no padding, Tq != Tk, transposed q", v -> Variable.attention(v[0].transpose(2, 3), v[1], v[2], null),
                new Tensor[]{r(1, 3, 2, 5), r(1, 3, 4, 2), r(1, 3, 4, 2)}));
        c.add(otCase("masks: full, 1 of 4 patches; 1 sentence, full", Tensor.of(new double[]{1, 1, 1, 1, 1, 0, 0, 0}, 2, 4),
                Tensor.of(new double[]{1, 0, 0, 1, 1, 1, 1, 1, 0}, 3, 3)));
        c.add(otCase("no masks", null, null));
        c.add(new Case(Op.TOPK_GATHER, "k=3 of 5, non-contiguous", v -> v[0].transpose(0, 1).topkGather(
                Tensor.of(new double[]{0.3, -1, 2, 0.7, 1.5, 4, 3, 2, 1, 0}, 2, 5), 3).values(), new Tensor[]{r(5, 2, 3)}));
        return c;
    }

    /**
     * patchSentenceOtScores holds the Sinkhorn plan constant for the gradient (DESIGN.md 7.2), so its analytic
     * gradient is not the derivative of the scores (the plan moves with the inputs). The finite-difference
     * oracle is the derivative it means: S_ij = sum T^ij * P_i S_j^T with T frozen at the base inputs (computed
     * once here by the composite), bilinear in P and S. At the base point the oracle equals the op.
     */
    private static Case otCase(String name, Tensor patchMask, Tensor sentenceMask) {
        Tensor p = r(2, 4, 3), s = r(3, 3, 3);                                         // (B1, N, D), (B2, M, D)
        double eps = 0.5;
        int iters = 30;
        Tensor cos = p.unsqueeze(1).matmul(s.transpose(1, 2).unsqueeze(0));             // (B1, B2, N, M)
        Tensor plan = mlip.tensor.Composite.sinkhornPlan(cos.neg().add(1), patchMask == null ? null : patchMask.unsqueeze(1),
                sentenceMask == null ? null : sentenceMask.unsqueeze(0), eps, iters);   // frozen at the base point
        Function<Variable[], Variable> frozen = v -> v[0].unsqueeze(1).matmul(v[1].transpose(1, 2).unsqueeze(0))
                .mul(Variable.of(plan)).sum(new int[]{2, 3}, false);
        return new Case(Op.PATCH_SENTENCE_OT, name, v -> Variable.patchSentenceOtScores(v[0], patchMask, v[1], sentenceMask, eps, iters),
                frozen, new Tensor[]{p, s});
    }

    static Stream<Case> allCases() {
        return cases().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allCases")
    void gradcheck(Case c) {
        assertNull(GradCheck.check(c.f(), c.oracle(), c.inputs()), c.toString());
    }

    @Test
    void everyOpHasAGradcheck() {
        Set<Op> missing = EnumSet.allOf(Op.class);
        for (Case c : cases()) missing.remove(c.op());
        assertTrue(missing.isEmpty(), "ops in the derivative table without a gradcheck case: " + missing);
    }

    @Test
    void otGradientIsNotTheDerivativeThroughThePlan() {
        // the plan-constant rule differs from the full derivative: checked against the op's own forward it must fail
        Case c = otCase("against itself", null, null);
        assertTrue(GradCheck.check(c.f(), c.inputs()) != null, "the OT gradient matched the derivative through the plan");
    }

    @Test
    void gradcheckCatchesAWrongRule() {
        // a function whose recorded rule is wrong on purpose: claims d(x^2)/dx = x (via a detached factor)
        Function<Variable[], Variable> wrong = v -> v[0].mul(v[0].detach());
        assertTrue(GradCheck.check(wrong, r(3)) != null, "gradcheck accepted a wrong gradient");
    }
}
