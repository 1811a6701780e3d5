package mlip.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import mlip.tensor.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * AdamW and SGD against an independent reference: plain double loops of the formulas as PyTorch's documentation
 * writes them (bias-corrected moments m̂, v̂ for Adam, rather than the step-size form the optimizer uses), plus a
 * few numbers worked out by hand.
 */
class OptimizerReferenceTest {

    // ---------------------------------------------------------------- hand-computed numbers

    @Test
    void adamwFirstStepByHand() {
        // t=1: m = 0.1 g, v = 0.001 g^2, m̂ = g, v̂ = g^2, so p = p (1 - lr wd) - lr g / (|g| + eps)
        // p = 1, g = 0.5, lr = 0.1, wd = 0.01: 0.999 - 0.1 * 0.5 / 0.50000001 = 0.89900000199999996
        Variable w = Variable.param(Tensor.of(new double[]{1, 1}, 1, 2));
        AdamW opt = new AdamW(Map.of("w", w), 0.1, 0.9, 0.999, 1e-8, 0.01);
        w.setGrad(Tensor.of(new double[]{0.5, -0.5}, 1, 2));
        opt.step();
        assertEquals(0.899000002, w.value().get(0, 0), 1e-15);
        assertEquals(0.999 + 0.1 * 0.5 / 0.50000001, w.value().get(0, 1), 1e-15);
    }

    @Test
    void sgdMomentumAndNesterovByHand() {
        Variable a = Variable.param(Tensor.of(new double[]{1}, 1));
        Variable b = Variable.param(Tensor.of(new double[]{1}, 1));
        Sgd plain = new Sgd(Map.of("a", a), 0.1, 0.9, 0);
        Sgd nest = new Sgd(Map.of("b", b), 0.1, 0.9, 0, true);
        for (int i = 0; i < 2; i++) {
            a.setGrad(Tensor.of(new double[]{0.5}, 1));
            b.setGrad(Tensor.of(new double[]{0.5}, 1));
            plain.step();
            nest.step();
        }
        // plain: buf 0.5 -> p 0.95; buf 0.9*0.5+0.5 = 0.95 -> p 0.855
        assertEquals(0.855, a.value().item(), 1e-15);
        // nesterov: d = 0.5 + 0.9*0.5 = 0.95 -> p 0.905; buf 0.95, d = 0.5 + 0.855 = 1.355 -> p 0.7695
        assertEquals(0.7695, b.value().item(), 1e-15);
    }

    // ---------------------------------------------------------------- reference trajectories

    /** Fixed per-step gradients: {@code grads[step][param]}, null where a parameter has no gradient at that step. */
    private static double[][][] gradients(Generator g, int[] sizes, int steps) {
        double[][][] out = new double[steps][sizes.length][];
        for (int s = 0; s < steps; s++) {
            for (int p = 0; p < sizes.length; p++) {
                out[s][p] = Tensor.randn(g, sizes[p]).to(DType.F64).mul(s + 1.0).toDoubleArray();
            }
        }
        return out;
    }

    private static LinkedHashMap<String, Variable> params(Generator g, DType dtype) {
        LinkedHashMap<String, Variable> p = new LinkedHashMap<>();
        p.put("fc.weight", Variable.param(Tensor.randn(g, 2, 3).to(dtype)));   // decays
        p.put("fc.bias", Variable.param(Tensor.randn(g, 3).to(dtype)));        // no decay (1-d, .bias)
        p.put("ln_f.weight", Variable.param(Tensor.randn(g, 2, 2).to(dtype))); // no decay (name), 2-d on purpose
        return p;
    }

    @Test
    void adamwMatchesTheReferenceForThreeStepsInF64() {
        for (double eps : new double[]{1e-8, 0.1}) {
            checkAdamw(DType.F64, eps, Tolerance.F64_ATOL, Tolerance.F64_RTOL);
        }
    }

    @Test
    void adamwInF32StaysWithinF32ToleranceOfTheF64Reference() {
        checkAdamw(DType.F32, 1e-8, Tolerance.F32_ATOL, Tolerance.F32_RTOL);
    }

    private static void checkAdamw(DType dtype, double eps, double atol, double rtol) {
        Generator g = new Generator(11);
        LinkedHashMap<String, Variable> p = params(g, dtype);
        String[] names = p.keySet().toArray(new String[0]);
        int[] sizes = p.values().stream().mapToInt(v -> v.value().numel()).toArray();
        double[][][] grads = gradients(g, sizes, 3);
        grads[1][1] = null;                                   // fc.bias has no gradient at step 2: skipped, its t lags
        double[] lrs = {0.1, 0.05, 0.02};
        double b1 = 0.9, b2 = 0.98, wd = 0.1;

        double[][] ref = new double[names.length][], m = new double[names.length][], v = new double[names.length][];
        int[] t = new int[names.length];
        for (int i = 0; i < names.length; i++) {
            ref[i] = p.get(names[i]).value().toDoubleArray();
            m[i] = new double[sizes[i]];
            v[i] = new double[sizes[i]];
        }
        boolean[] decay = {true, false, false};

        AdamW opt = new AdamW(p, 1.0, b1, b2, eps, wd);
        for (int i = 0; i < names.length; i++) assertEquals(decay[i], opt.decays(names[i]), names[i]);
        for (int s = 0; s < 3; s++) {
            opt.setLr(lrs[s]);
            for (int i = 0; i < names.length; i++) {
                Variable x = p.get(names[i]);
                x.setGrad(grads[s][i] == null ? null : Tensor.of(grads[s][i], x.shape()).to(dtype));
            }
            opt.step();
            for (int i = 0; i < names.length; i++) {
                double[] gr = grads[s][i];
                if (gr == null) continue;
                t[i]++;
                for (int k = 0; k < sizes[i]; k++) {
                    if (decay[i]) ref[i][k] *= 1 - lrs[s] * wd;
                    m[i][k] = b1 * m[i][k] + (1 - b1) * gr[k];
                    v[i][k] = b2 * v[i][k] + (1 - b2) * gr[k] * gr[k];
                    double mHat = m[i][k] / (1 - Math.pow(b1, t[i]));
                    double vHat = v[i][k] / (1 - Math.pow(b2, t[i]));
                    ref[i][k] -= lrs[s] * mHat / (Math.sqrt(vHat) + eps);
                }
            }
            for (int i = 0; i < names.length; i++) {
                Variable x = p.get(names[i]);
                Tolerance.assertClose("AdamW " + dtype + " eps=" + eps + " step " + (s + 1) + " " + names[i], x.value(),
                        Tensor.of(ref[i], x.shape()).to(dtype), atol, rtol);
            }
        }
        assertEquals(3, opt.stepCount());
        assertEquals(2, (int) opt.stateDict().get("step.fc.bias").item(), "a skipped step does not count for that parameter");
        assertEquals(3, (int) opt.stateDict().get("step.fc.weight").item());
    }

    @Test
    void sgdMatchesTheReferenceForThreeSteps() {
        for (boolean nesterov : new boolean[]{false, true}) {
            for (double wd : new double[]{0, 0.05}) {
                Generator g = new Generator(5);
                LinkedHashMap<String, Variable> p = params(g, DType.F64);
                String[] names = p.keySet().toArray(new String[0]);
                int[] sizes = p.values().stream().mapToInt(v -> v.value().numel()).toArray();
                double[][][] grads = gradients(g, sizes, 3);
                grads[0][2] = null;                                    // no gradient at the first step: buffer starts at step 2
                double[] lrs = {0.1, 0.05, 0.02};
                double mom = 0.9;
                double[][] ref = new double[names.length][], buf = new double[names.length][];
                for (int i = 0; i < names.length; i++) ref[i] = p.get(names[i]).value().toDoubleArray();

                Sgd opt = new Sgd(p, 1.0, mom, wd, nesterov);
                for (int s = 0; s < 3; s++) {
                    opt.setLr(lrs[s]);
                    for (int i = 0; i < names.length; i++) {
                        Variable x = p.get(names[i]);
                        x.setGrad(grads[s][i] == null ? null : Tensor.of(grads[s][i], x.shape()));
                    }
                    opt.step();
                    for (int i = 0; i < names.length; i++) {
                        double[] gr = grads[s][i];
                        if (gr == null) continue;
                        boolean first = buf[i] == null;
                        if (first) buf[i] = new double[sizes[i]];
                        for (int k = 0; k < sizes[i]; k++) {
                            double d = gr[k] + wd * ref[i][k];          // SGD's decay is coupled, for every parameter by default
                            buf[i][k] = first ? d : mom * buf[i][k] + d;
                            double u = nesterov ? d + mom * buf[i][k] : buf[i][k];
                            ref[i][k] -= lrs[s] * u;
                        }
                    }
                    for (int i = 0; i < names.length; i++) {
                        Variable x = p.get(names[i]);
                        Tolerance.assertClose("SGD nesterov=" + nesterov + " wd=" + wd + " step " + (s + 1) + " " + names[i], x.value(),
                                Tensor.of(ref[i], x.shape()));
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- groups, zeroGrad, arguments

    @Test
    void defaultNoDecayRule() {
        Map<String, int[]> noDecay = new LinkedHashMap<>();
        noDecay.put("fc.bias", new int[]{4});
        noDecay.put("bias", new int[]{4});
        noDecay.put("vision.blocks.0.norm1.weight", new int[]{8});
        noDecay.put("encoder.layer.0.attention.output.LayerNorm.weight", new int[]{8});
        noDecay.put("embeddings.LayerNorm.weight", new int[]{8});
        noDecay.put("text.ln_f.weight", new int[]{8});
        noDecay.put("ln_post.proj", new int[]{8, 4});         // by name, though 2-d
        noDecay.put("model.norm.scale", new int[]{2, 2});
        noDecay.put("logit_scale", new int[0]);               // 0-d
        noDecay.put("some.odd.bias", new int[]{2, 2});        // by name, though 2-d
        Map<String, int[]> decay = new LinkedHashMap<>();
        decay.put("fc.weight", new int[]{4, 8});
        decay.put("vision.cls_token", new int[]{1, 1, 8});
        decay.put("vision.pos_embed", new int[]{1, 5, 8});
        decay.put("embeddings.word_embeddings.weight", new int[]{30, 8});
        decay.put("blocks.0.attn.qkv.weight", new int[]{24, 8});
        decay.put("kiln.weight", new int[]{2, 2});            // "ln" inside a word is not a layer norm
        for (Map.Entry<String, int[]> e : noDecay.entrySet()) {
            assertTrue(AdamW.defaultNoDecay(e.getKey(), Variable.param(Tensor.zeros(e.getValue()))), e.getKey());
        }
        for (Map.Entry<String, int[]> e : decay.entrySet()) {
            assertFalse(AdamW.defaultNoDecay(e.getKey(), Variable.param(Tensor.zeros(e.getValue()))), e.getKey());
        }
    }

    @Test
    void theNoDecayRuleCanBeReplaced() {
        Variable w = Variable.param(Tensor.ones(DType.F64, 2, 2));
        Variable tok = Variable.param(Tensor.ones(DType.F64, 1, 1, 2));
        Map<String, Variable> p = new LinkedHashMap<>(Map.of("w", w, "cls_token", tok));
        AdamW opt = new AdamW(p, 0.1, 0.9, 0.999, 1e-8, 0.5, (name, v) -> name.equals("cls_token"));
        assertTrue(opt.decays("w"));
        assertFalse(opt.decays("cls_token"));
        w.setGrad(Tensor.zeros(DType.F64, 2, 2));              // zero gradient: only the decay moves the values
        tok.setGrad(Tensor.zeros(DType.F64, 1, 1, 2));
        opt.step();
        assertEquals(0.95, w.value().get(0, 0), 1e-15);
        assertEquals(1.0, tok.value().get(0, 0, 1), 1e-15);
        AdamW all = new AdamW(p, 0.1, 0.9, 0.999, 1e-8, 0.5, null);
        assertTrue(all.decays("cls_token"));
    }

    @Test
    void zeroGradClearsEveryGradientAndParamsWithoutGradientsStayPut() {
        Variable a = Variable.param(Tensor.ones(2, 2));
        Variable b = Variable.param(Tensor.ones(2, 2));
        AdamW opt = new AdamW(new LinkedHashMap<>(Map.of("a", a, "b", b)), 0.1);
        a.setGrad(Tensor.ones(2, 2));
        opt.step();
        assertArrayEqualsF(new float[]{1, 1, 1, 1}, b.value().toFloatArray());
        assertTrue(a.value().get(0, 0) < 1);
        assertFalse(opt.stateDict().containsKey("exp_avg.b"), "no state for a parameter that never had a gradient");
        opt.zeroGrad();
        assertNull(a.grad());
        assertNull(b.grad());
    }

    @Test
    void invalidArgumentsAreRejected() {
        Map<String, Variable> p = Map.of("w", Variable.param(Tensor.ones(2)));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(Map.of(), 0.1));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(p, -1));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(p, 0.1, 1.0, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(p, 0.1, 0.9, 0.999, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(p, 0.1, 0, 0, true));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(Map.of("x", Variable.of(Tensor.ones(2))), 0.1, 0, 0));
        Variable shared = Variable.param(Tensor.ones(2));
        Map<String, Variable> tied = new LinkedHashMap<>();
        tied.put("embeddings.word_embeddings.weight", shared);
        tied.put("cls.predictions.decoder.weight", shared);
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> new AdamW(tied, 0.1));
        assertTrue(twice.getMessage().contains("two names"), twice.getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AdamW(p, 0.1).setLr(Double.NaN));
        assertTrue(e.getMessage().contains("learning rate"), e.getMessage());
    }

    private static void assertArrayEqualsF(float[] a, float[] b) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(a, b);
    }
}
