package mlip.autograd;

import java.util.function.Function;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Distribution;
import mlip.tensor.Generator;
import mlip.tensor.Reduction;
import mlip.tensor.Tensor;
import mlip.tensor.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * Each fused op with its own backward (softmax, log_softmax, layer_norm, gelu, cross_entropy, attention, the MLIP
 * OT scores and top-k gather)
 * against the same function composed from primitive ops: equal values and equal gradients, in F64.
 */
class FusedVsCompositeTest {
    private static final Generator G = new Generator(11);

    private static Tensor r(int... shape) {
        return Tensor.random(G, Distribution.NORMAL, DType.F64, Device.CPU, shape);
    }

    /** Compares f and g (values, and gradients of sum(out * probe) for every input). */
    private static void same(String what, Function<Variable[], Variable> fused, Function<Variable[], Variable> composite, Tensor... inputs) {
        Variable[] a = new Variable[inputs.length], b = new Variable[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            a[i] = Variable.param(inputs[i]);
            b[i] = Variable.param(inputs[i]);
        }
        Variable fa = fused.apply(a), fb = composite.apply(b);
        Tolerance.assertClose(what + " value", fa.value(), fb.value());
        Tensor probe = r(fa.shape());
        fa.mul(Variable.of(probe)).sum().backward();
        fb.mul(Variable.of(probe)).sum().backward();
        for (int i = 0; i < inputs.length; i++) Tolerance.assertClose(what + " grad " + i, a[i].grad(), b[i].grad());
    }

    private static Variable compositeLogSoftmax(Variable x, int dim) {
        Variable shifted = x.sub(x.max(dim, true).detach());
        return shifted.sub(shifted.exp().sum(dim, true).log());
    }

    @Test
    void softmax() {
        same("softmax", v -> v[0].softmax(1), v -> compositeLogSoftmax(v[0], 1).exp(), r(3, 5, 2));
    }

    @Test
    void logSoftmax() {
        same("logSoftmax", v -> v[0].logSoftmax(-1), v -> compositeLogSoftmax(v[0], -1), r(4, 6));
    }

    @Test
    void biasGelu() {
        same("biasGelu erf", v -> v[0].biasGelu(v[1], false), v -> v[0].add(v[1]).gelu(false), r(2, 3, 7), r(7));
        same("biasGelu tanh", v -> v[0].biasGelu(v[1], true), v -> v[0].add(v[1]).gelu(true), r(5, 4), r(4));
    }

    /** Both results of the fused residual + norm, through a loss that uses both (as the pre-LN block does). */
    @Test
    void addLayerNorm() {
        same("addLayerNorm", v -> {
            Variable.AddLayerNorm h = v[0].addLayerNorm(v[1], v[2], v[3], 1e-5);
            return h.sum().add(h.out().tanh());
        }, v -> {
            Variable sum = v[0].add(v[1]);
            return sum.add(sum.layerNorm(v[2], v[3], 1e-5).tanh());
        }, r(2, 3, 7), r(2, 3, 7), r(7), r(7));
    }

    @Test
    void layerNorm() {
        same("layerNorm", v -> v[0].layerNorm(v[1], v[2], 1e-5), v -> {
            Variable c = v[0].sub(v[0].mean(-1, true));
            return c.mul(c.square().mean(-1, true).add(1e-5).rsqrt()).mul(v[1]).add(v[2]);
        }, r(2, 3, 7), r(7), r(7));
    }

    @Test
    void gelu() {
        same("gelu tanh", v -> v[0].gelu(true),
                v -> v[0].mul(0.5).mul(v[0].add(v[0].pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI)).tanh().add(1)), r(3, 4));
        same("gelu erf", v -> v[0].gelu(false), v -> v[0].mul(0.5).mul(v[0].mul(1 / Math.sqrt(2)).erf().add(1)), r(3, 4));
    }

    @Test
    void crossEntropyWithIgnoreAndSmoothing() {
        Tensor target = Tensor.of(new int[]{2, -100, 0, 4}, 4);
        Tensor keep = Tensor.of(new double[]{1, 0, 1, 1}, 4, 1);
        Tensor onehot = Tensor.of(new double[]{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 4, 5);
        double e = 0.1;
        Tensor dist = onehot.mul(1 - e).add(e / 5).mul(keep);
        same("crossEntropy", v -> v[0].crossEntropy(target, -100, e, Reduction.MEAN),
                v -> compositeLogSoftmax(v[0], 1).mul(Variable.of(dist)).sum().neg().div(3), r(4, 5));
    }

    @Test
    void patchSentenceOtScoresWithThePlanDetached() {
        // the composite: cosines through differentiable ops, the plan recomputed from their values as a constant
        Tensor pm = Tensor.of(new double[]{1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0}, 3, 5);       // full, 2 patches, 1 patch
        Tensor sm = Tensor.of(new double[]{1, 0, 0, 0, 1, 1, 1, 1}, 2, 4);                         // 1 sentence, full
        same("patchSentenceOtScores", v -> Variable.patchSentenceOtScores(v[0], pm, v[1], sm, 0.1, 20), v -> {
            Variable cos = v[0].unsqueeze(1).matmul(v[1].transpose(1, 2).unsqueeze(0));            // (B1, B2, N, M)
            Tensor plan = mlip.tensor.Composite.sinkhornPlan(cos.value().neg().add(1), pm.unsqueeze(1), sm.unsqueeze(0), 0.1, 20);
            return cos.mul(Variable.of(plan)).sum(new int[]{2, 3}, false);
        }, unit(3, 5, 6), unit(2, 4, 6));
    }

    @Test
    void patchSentenceOtScoresBackwardUsesTheForwardsScalingsF32AndF64() {
        // the node keeps u, v of its forward; its gradient is the composite backward (plan = u K v, no Sinkhorn) fed the
        // composite forward's own scalings. Batch: full / 2 / 1 patches; a 1-sentence and a full report.
        Tensor pm = Tensor.of(new double[]{1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0}, 3, 5);
        Tensor sm = Tensor.of(new double[]{1, 0, 0, 0, 1, 1, 1, 1}, 2, 4);
        for (DType dt : new DType[]{DType.F32, DType.F64}) {
            Tensor p = unit(3, 5, 6).to(dt), s = unit(2, 4, 6).to(dt), g = r(3, 2).to(dt), pmd = pm.to(dt), smd = sm.to(dt);
            Variable vp = Variable.param(p), vs = Variable.param(s);
            Variable out = Variable.patchSentenceOtScores(vp, pmd, vs, smd, 0.1, 20);
            out.mul(Variable.of(g)).sum().backward();
            Tensor[] ot = mlip.tensor.Composite.patchSentenceOt(p, pmd, s, smd, 0.1, 20);                    // scores, u, v
            Tensor[] grads = mlip.tensor.Composite.patchSentenceOtScoresBackward(g, p, pmd, s, smd, ot[1], ot[2], 0.1);
            Tolerance.assertClose("OT value " + dt, out.value(), ot[0]);
            Tolerance.assertClose("OT dPatches " + dt, vp.grad(), grads[0]);
            Tolerance.assertClose("OT dSentences " + dt, vs.grad(), grads[1]);
        }
    }

    @Test
    void topkGatherIsAGatherOfTheTopkRows() {
        Tensor scores = r(2, 7);
        same("topkGather", v -> v[0].topkGather(scores, 4).values(), v -> {
            Tensor idx = scores.topk(4, 1, true).indices().topk(4, 1, false).values().unsqueeze(-1).expand(2, 4, 3);   // kept set, ascending
            return v[0].gather(1, idx);
        }, r(2, 7, 3));
    }

    private static Tensor unit(int... shape) {
        Tensor x = r(shape);
        return x.div(x.square().sum(-1, true).sqrt());
    }

    @Test
    void attentionWithKeyPadding() {
        Tensor pad = Tensor.of(new int[]{0, 0, 0, 1, 0, 1, 0, 0}, 2, 4);
        same("attention", v -> Variable.attention(v[0], v[1], v[2], pad), v -> {
            Variable s = v[0].matmul(v[1].transpose(-2, -1)).mul(1 / Math.sqrt(3)).maskedFill(pad.reshape(2, 1, 1, 4), -1e30);
            return s.softmax(-1).matmul(v[2]);
        }, r(2, 2, 3, 3), r(2, 2, 4, 3), r(2, 2, 4, 3));
    }
}
