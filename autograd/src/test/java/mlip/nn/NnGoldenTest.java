package mlip.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import mlip.autograd.Variable;
import mlip.io.Safetensors;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import mlip.tensor.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * Whole layers against PyTorch (tools/reference/make_nn_golden.py): each Java module loads the torch
 * weights by name — so the parameter names must be exactly timm's / Hugging Face's — and must reproduce
 * the forward output and every gradient of {@code sum(out * probe)}.
 *
 * <p>Tolerance: the plain F32 policy of {@link Tolerance}; no override was needed.
 */
class NnGoldenTest {

    private static Map<String, Tensor> golden(String name) throws Exception {
        return Safetensors.read(Path.of("src", "test", "resources", "golden", name + ".safetensors"));
    }

    /** Loads every "param.*" into the module and checks the name sets are equal. */
    private static void load(Module m, Map<String, Tensor> g) {
        TreeSet<String> file = new TreeSet<>();
        g.keySet().stream().filter(k -> k.startsWith("param.")).forEach(k -> file.add(k.substring(6)));
        assertEquals(file, new TreeSet<>(m.namedParameters().keySet()), "parameter names differ from PyTorch's");
        m.namedParameters().forEach((k, v) -> v.assign(g.get("param." + k)));
    }

    /** Runs forward, checks out, backprops sum(out * probe), checks every parameter gradient and the listed input gradients. */
    private static void check(String what, Module m, Map<String, Tensor> g, Function<Map<String, Variable>, Variable> forward, String... gradInputs) {
        load(m, g);
        m.train(false);
        Map<String, Variable> in = new java.util.HashMap<>();
        g.forEach((k, v) -> {
            if (k.startsWith("input.")) {
                String n = k.substring(6);
                in.put(n, java.util.Arrays.asList(gradInputs).contains(n) ? Variable.param(v) : Variable.of(v));
            }
        });
        Variable out = forward.apply(in);
        Tolerance.assertClose(what + " forward", out.value(), g.get("out"));
        out.mul(Variable.of(g.get("probe"))).sum().backward();
        m.namedParameters().forEach((k, v) -> {
            assertNotNull(v.grad(), what + ": no gradient reached " + k);
            Tolerance.assertClose(what + " grad " + k, v.grad(), g.get("grad." + k));
        });
        for (String n : gradInputs) Tolerance.assertClose(what + " grad input " + n, in.get(n).grad(), g.get("grad.input." + n));
    }

    static final class Stack extends Module {
        final Linear fc = child("fc", new Linear(8, 16, true, new Generator(0)));
        final LayerNorm ln = child("ln", new LayerNorm(16, 1e-5));

        Variable forward(Variable x) {
            Variable h = fc.forward(x);
            return ln.forward(h.gelu(false).add(h.gelu(true)));
        }
    }

    @Test
    void linearGeluLayerNorm() throws Exception {
        Stack s = new Stack();
        check("stack", s, golden("stack"), in -> s.forward(in.get("x")), "x");
    }

    @Test
    void multiHeadAttentionWithKeyPadding() throws Exception {
        MultiHeadAttention m = new MultiHeadAttention(12, 3, new Generator(0), mlip.tensor.DType.F32);
        check("mha", m, golden("mha"), in -> m.forward(in.get("x"), in.get("pad").value()), "x");
    }

    @Test
    void preLnTransformerBlock() throws Exception {
        TransformerBlock b = new TransformerBlock(12, 3, 24, true, 1e-6, new Generator(0), mlip.tensor.DType.F32);
        check("block", b, golden("block"), in -> b.forward(in.get("x"), null), "x");
    }

    @Test
    void tinyVit() throws Exception {
        VisionTransformer v = new VisionTransformer(8, 4, 1, 12, 2, 3, 24, new Generator(0), mlip.tensor.DType.F32);
        check("vit", v, golden("vit"), in -> v.forward(in.get("images").value()));
    }

    @Test
    void tinyVitEncodingAPatchSubset() throws Exception {
        VisionTransformer v = new VisionTransformer(8, 4, 1, 12, 2, 3, 24, new Generator(0), mlip.tensor.DType.F32);
        check("vit_keep", v, golden("vit_keep"), in -> v.forward(in.get("images").value(), in.get("keep").value()));
    }

    @Test
    void tinyBert() throws Exception {
        TextTransformer t = new TextTransformer(20, 16, 2, 12, 2, 3, 24, 0.0, new Generator(0), mlip.tensor.DType.F32);
        check("bert", t, golden("bert"), in -> t.forward(in.get("ids").value(), in.get("mask").value()));
    }
}
