package mlip.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import mlip.autograd.Variable;
import mlip.io.Safetensors;
import mlip.io.StateDicts;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoint and resume: 5 steps, save weights and optimizer state through safetensors, 5 more steps; against a
 * fresh model and optimizer that load the checkpoint and take the same 5 steps. Parameters must be bit-identical.
 */
class ResumeTest {
    @TempDir
    Path dir;

    private static final LrSchedule SCHEDULE = new WarmupCosine(0.05, 3, 10, 1e-3);

    private static LinkedHashMap<String, Variable> model(long seed) {
        Generator g = new Generator(seed);
        LinkedHashMap<String, Variable> p = new LinkedHashMap<>();
        p.put("fc.weight", Variable.param(Tensor.randn(g, 4, 3)));
        p.put("fc.bias", Variable.param(Tensor.randn(g, 3)));
        p.put("extra.weight", Variable.param(Tensor.randn(g, 2, 2)));  // gets a gradient only at even steps
        return p;
    }

    /** One training step of a least-squares fit, clipped, with the schedule's lr for the optimizer's step count. */
    private static void trainStep(Map<String, Variable> p, Optimizer opt) {
        Generator g = new Generator(100 + opt.stepCount());           // the batch depends on the step only
        Variable x = Variable.of(Tensor.randn(g, 8, 4));
        Variable y = Variable.of(Tensor.randn(g, 8, 3));
        Variable loss = x.matmul(p.get("fc.weight")).add(p.get("fc.bias")).sub(y).square().mean();
        if (opt.stepCount() % 2 == 0) loss = loss.add(p.get("extra.weight").square().sum().mul(0.1));
        loss.backward();
        GradClip.clipGlobalNorm(p.values(), 0.5);
        opt.setLr(SCHEDULE.lr(opt.stepCount()));
        opt.step();
        opt.zeroGrad();
    }

    @Test
    void adamwResumesBitIdentically() throws IOException {
        resume(p -> new AdamW(p, 1e-3, 0.9, 0.95, 1e-8, 0.1));
    }

    @Test
    void sgdResumesBitIdentically() throws IOException {
        resume(p -> new Sgd(p, 1e-3, 0.9, 1e-2, true));
    }

    private void resume(Function<Map<String, Variable>, Optimizer> make) throws IOException {
        LinkedHashMap<String, Variable> a = model(1);
        Optimizer optA = make.apply(a);
        for (int i = 0; i < 5; i++) trainStep(a, optA);
        Path weights = dir.resolve("model.safetensors"), state = dir.resolve("optimizer.safetensors");
        Safetensors.write(weights, StateDicts.values(a));
        Safetensors.write(state, optA.stateDict());
        for (int i = 0; i < 5; i++) trainStep(a, optA);

        LinkedHashMap<String, Variable> b = model(2);                 // different initial values, overwritten by the load
        StateDicts.load(b, Safetensors.read(weights), true);
        Optimizer optB = make.apply(b);
        optB.setLr(0.123);                                            // restored from the state
        optB.loadStateDict(Safetensors.read(state));
        assertEquals(5, optB.stepCount());
        assertEquals(SCHEDULE.lr(4), optB.lr());
        for (int i = 0; i < 5; i++) trainStep(b, optB);

        for (String k : a.keySet()) {
            int[] bitsA = bits(a.get(k).value()), bitsB = bits(b.get(k).value());
            assertTrue(Arrays.equals(bitsA, bitsB), k + " differs after resume");
        }
        assertEquals(optA.stateDict().keySet(), optB.stateDict().keySet());

        // And the check has teeth: resuming without the optimizer state does not reproduce the run.
        LinkedHashMap<String, Variable> c = model(3);
        StateDicts.load(c, Safetensors.read(weights), true);
        Optimizer optC = make.apply(c);
        for (int i = 0; i < 5; i++) trainStep(c, optC);
        assertNotEquals(Arrays.toString(bits(a.get("fc.weight").value())), Arrays.toString(bits(c.get("fc.weight").value())));
    }

    private static int[] bits(Tensor t) {
        float[] f = t.toFloatArray();
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) out[i] = Float.floatToRawIntBits(f[i]);
        return out;
    }

    @Test
    void stateDictLayoutAndBadStateErrors() {
        LinkedHashMap<String, Variable> p = model(1);
        AdamW opt = new AdamW(p, 0.01);
        trainStep(p, opt);
        Map<String, Tensor> st = opt.stateDict();
        assertEquals(DType.I32, st.get("step").dtype());
        assertEquals(0, st.get("step").ndim());
        assertEquals(DType.F64, st.get("lr").dtype());
        assertTrue(st.containsKey("exp_avg.fc.weight") && st.containsKey("exp_avg_sq.fc.bias") && st.containsKey("step.extra.weight"), st.keySet().toString());

        Map<String, Tensor> bad = new LinkedHashMap<>(st);
        bad.put("exp_avg.fc.weight", Tensor.zeros(3, 4));               // transposed
        bad.put("momentum_buffer.fc.bias", Tensor.zeros(3));            // an SGD key
        bad.put("exp_avg.head.weight", Tensor.zeros(3));                // no such parameter
        bad.remove("exp_avg_sq.extra.weight");                          // incomplete
        bad.remove("lr");
        AdamW fresh = new AdamW(model(2), 0.01);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fresh.loadStateDict(bad));
        String m = e.getMessage();
        assertTrue(m.contains("'exp_avg.fc.weight' has shape [3, 4], expected [4, 3]"), m);
        assertTrue(m.contains("unexpected key 'momentum_buffer.fc.bias'"), m);
        assertTrue(m.contains("'exp_avg.head.weight' names no parameter"), m);
        assertTrue(m.contains("'extra.weight' has incomplete state: missing [exp_avg_sq]"), m);
        assertTrue(m.contains("missing key 'lr'"), m);
        assertEquals(0, fresh.stepCount(), "a failed load changes nothing");
    }
}
