package mlip.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import mlip.autograd.GradCheck;
import mlip.autograd.Variable;
import mlip.io.Safetensors;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Distribution;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layers not covered by the PyTorch golden files: post-LN blocks, dropout, names and state dict round trips. */
class NnTest {

    @Test
    void postLnBlockGradchecksInF64() {
        TransformerBlock b = new TransformerBlock(6, 2, 8, false, 1e-5, new Generator(1), DType.F64);
        Tensor x = Tensor.random(new Generator(2), Distribution.NORMAL, DType.F64, Device.CPU, 2, 3, 6);
        assertNull(GradCheck.check(v -> b.forward(v[0], Tensor.of(new int[]{0, 0, 1, 0, 0, 0}, 2, 3)), x));
    }

    @Test
    void dropoutKeepsExpectationAndIsIdentityInEval() {
        Dropout d = new Dropout(0.25, new Generator(9));
        Variable x = Variable.of(Tensor.ones(100_000));
        Tensor y = d.forward(x).value();
        double mean = y.mean().item();
        assertEquals(1.0, mean, 0.02, "inverted dropout keeps the mean");
        double zeros = y.eq(0).to(DType.F64).mean().item();
        assertEquals(0.25, zeros, 0.01);
        d.train(false);
        assertSame(x, d.forward(x));
        Dropout again = new Dropout(0.25, new Generator(9));
        assertArrayEquals(y.toFloatArray(), again.forward(x).value().toFloatArray(), "same seed, same mask");
    }

    @Test
    void vitAndBertUseTimmAndHuggingFaceNames() {
        VisionTransformer vit = new VisionTransformer(16, 8, 3, 12, 2, 3, 24, new Generator(0), DType.F32);
        Map<String, Variable> p = vit.namedParameters();
        assertArrayEquals(new int[]{12, 3, 8, 8}, p.get("patch_embed.proj.weight").shape());
        assertTrue(p.keySet().containsAll(java.util.List.of("cls_token", "pos_embed", "blocks.1.attn.qkv.weight", "blocks.0.mlp.fc2.bias", "norm.weight")), p.keySet().toString());
        TextTransformer bert = new TextTransformer(30, 8, 2, 12, 1, 3, 24, 0.1, new Generator(0), DType.F32);
        assertTrue(bert.namedParameters().keySet().containsAll(java.util.List.of("embeddings.word_embeddings.weight", "embeddings.LayerNorm.bias",
                "encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.output.LayerNorm.weight",
                "encoder.layer.0.intermediate.dense.weight", "encoder.layer.0.output.dense.bias")), bert.namedParameters().keySet().toString());
    }

    @Test
    void stateDictRoundTripsThroughSafetensors(@TempDir Path dir) throws Exception {
        VisionTransformer a = new VisionTransformer(16, 8, 1, 12, 1, 3, 24, new Generator(1), DType.F32);
        VisionTransformer b = new VisionTransformer(16, 8, 1, 12, 1, 3, 24, new Generator(2), DType.F32);
        Path f = dir.resolve("vit.safetensors");
        Safetensors.write(f, a.stateDict(), Map.of());
        assertTrue(Files.size(f) > 0);
        Map<String, Tensor> loaded = Safetensors.read(f);
        mlip.io.StateDicts.load(b.namedParameters(), loaded, true);
        Tensor img = Tensor.randn(new Generator(3), 2, 1, 16, 16);
        assertArrayEquals(a.forward(img).value().toFloatArray(), b.forward(img).value().toFloatArray());
    }
}
