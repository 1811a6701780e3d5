package mlip.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.net.URL;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mlip.autograd.Variable;
import mlip.io.Safetensors;
import mlip.tensor.DType;
import mlip.tensor.Tensor;
import mlip.tensor.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * AdamW, SGD and clipping against PyTorch's own trajectories (tools/reference/make_optim_io_golden.py, Debian's
 * python3-torch 1.13): same initial values, gradients and per-step learning rates; hyperparameters come from the
 * file's metadata. F64 runs match to the F64 tolerance, F32 runs to the F32 tolerance.
 */
class OptimizerGoldenTest {
    private static Safetensors.Contents golden;

    private static Safetensors.Contents golden() throws Exception {
        if (golden == null) {
            URL u = OptimizerGoldenTest.class.getResource("/golden/optim.safetensors");
            assertNotNull(u, "golden/optim.safetensors is missing from the test resources; run tools/reference/make_optim_io_golden.py");
            golden = Safetensors.readWithMetadata(Path.of(u.toURI()));
        }
        return golden;
    }

    private static double meta(String key) throws Exception {
        String v = golden().metadata().get(key);
        assertNotNull(v, "metadata " + key);
        return Double.parseDouble(v);
    }

    private interface Make {
        Optimizer make(Map<String, Variable> p) throws Exception;
    }

    private static void replay(String tag, String opt, int skipStep, Make make) throws Exception {
        Map<String, Tensor> t = golden().tensors();
        int steps = (int) meta("steps");
        double[] lrs = Arrays.stream(golden().metadata().get("lrs").split(",")).mapToDouble(Double::parseDouble).toArray();
        LinkedHashMap<String, Variable> p = new LinkedHashMap<>();
        for (String name : List.of("fc.weight", "fc.bias")) p.put(name, Variable.param(t.get(tag + ".init." + name)));
        DType dtype = p.get("fc.weight").value().dtype();
        Optimizer o = make.make(p);
        for (int s = 0; s < steps; s++) {
            o.setLr(lrs[s]);
            for (String name : p.keySet()) {
                boolean skip = s == skipStep && name.equals("fc.bias");
                p.get(name).setGrad(skip ? null : t.get(tag + ".grad." + s + "." + name));
            }
            o.step();
            for (String name : p.keySet()) {
                Tolerance.assertClose(opt + " " + tag + " step " + s + " " + name, p.get(name).value(), t.get(tag + "." + opt + "." + s + "." + name),
                        Tolerance.atol(dtype), Tolerance.rtol(dtype));
            }
        }
    }

    @Test
    void adamwFollowsTorchInF64AndF32() throws Exception {
        for (String tag : List.of("f64", "f32")) {
            // The default grouping puts fc.bias (1-d, .bias) in the no-decay group, as the script's param groups do.
            replay(tag, "adamw", 2, p -> new AdamW(p, 1.0, meta("adamw.beta1"), meta("adamw.beta2"), meta("adamw.eps"), meta("adamw.weight_decay")));
        }
    }

    @Test
    void sgdFollowsTorchInF64AndF32() throws Exception {
        assertEquals("True", golden().metadata().get("sgd.nesterov"));
        for (String tag : List.of("f64", "f32")) {
            replay(tag, "sgd", 0, p -> new Sgd(p, 1.0, meta("sgd.momentum"), meta("sgd.weight_decay"), true));
        }
    }

    @Test
    void clipFollowsTorch() throws Exception {
        Map<String, Tensor> t = golden().tensors();
        Variable a = Variable.param(Tensor.zeros(DType.F64, t.get("clip.in.a").shape()));
        Variable b = Variable.param(Tensor.zeros(DType.F64, t.get("clip.in.b").shape()));
        a.setGrad(t.get("clip.in.a"));
        b.setGrad(t.get("clip.in.b"));
        double norm = GradClip.clipGlobalNorm(List.of(a, b), meta("clip.max_norm"));
        assertEquals(t.get("clip.total_norm").item(), norm, 1e-12);
        Tolerance.assertClose("clipped a", a.grad(), t.get("clip.out.a"));
        Tolerance.assertClose("clipped b", b.grad(), t.get("clip.out.b"));
    }
}
