package mlip.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import mlip.io.Safetensors;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code text.pretrained} and {@code vision.pretrained} in a config: read, kept through JSON, loaded by {@link MlipModel#loadPretrained}. */
class MlipConfigPretrainedTest {
    static final Path BERT = PretrainedWeightsTest.BERT, VIT = PretrainedWeightsTest.VIT;

    @TempDir
    Path tmp;

    /** A config whose encoders have the tiny golden checkpoints' shapes. */
    static String tinyYaml(String textExtra, String visionExtra) {
        return "seed: 1\n"
                + "vision: {imageSize: 16, patch: 4, dim: 16, depth: 2, heads: 2, mlp: 32" + visionExtra + "}\n"
                + "text: {vocab: 60, maxLen: 32, dim: 16, depth: 2, heads: 2, mlp: 32" + textExtra + "}\n"
                + "loss: {projDim: 8, decoderDim: 8, decoderHeads: 2, promptContext: 2}\n";
    }

    @Test
    void pretrainedKeysLoadIntoTheModelsEncoders() throws Exception {
        Path yaml = tmp.resolve("c.yaml");
        Files.writeString(yaml, tinyYaml(", pretrained: " + BERT, ", pretrained: " + VIT));
        MlipConfig c = MlipConfig.load(yaml.toString());
        assertEquals(BERT.toString(), c.text.pretrained);
        assertEquals(VIT.toString(), c.vision.pretrained);
        MlipConfig back = MlipConfig.fromJson(c.toJson());
        assertEquals(c.text.pretrained, back.text.pretrained);
        assertEquals(c.vision.pretrained, back.vision.pretrained);

        MlipModel m = new MlipModel(c, new Generator(1));
        Map<String, Tensor> bert = Safetensors.read(BERT.resolve("model.safetensors")), vit = Safetensors.read(VIT);
        float[] words = bert.get("bert.embeddings.word_embeddings.weight").toFloatArray();
        assertFalse(Arrays.equals(words, m.text.wordEmbeddings.weight.value().toFloatArray()), "the constructor does not load");

        List<PretrainedWeights.Report> reports = m.loadPretrained();
        assertEquals(2, reports.size());
        assertArrayEquals(words, m.text.wordEmbeddings.weight.value().toFloatArray());
        assertArrayEquals(bert.get("bert.encoder.layer.1.output.LayerNorm.bias").toFloatArray(),
                m.namedParameters().get("text.encoder.layer.1.output.LayerNorm.bias").value().toFloatArray());
        assertArrayEquals(vit.get("blocks.1.mlp.fc2.weight").toFloatArray(), m.namedParameters().get("vision.blocks.1.mlp.fc2.weight").value().toFloatArray());
        float[] rgb = vit.get("patch_embed.proj.weight").toFloatArray(), gray = m.vision.patchWeight.value().toFloatArray();   // (16, 3, 4, 4), (16, 1, 4, 4)
        for (int o = 0; o < 16; o++) {
            for (int k = 0; k < 16; k++) assertEquals(rgb[(o * 3) * 16 + k] + rgb[(o * 3 + 1) * 16 + k] + rgb[(o * 3 + 2) * 16 + k], gray[o * 16 + k], 1e-6);
        }
    }

    @Test
    void withoutThemNothingLoadsAndAMisspelledKeyIsAnError() throws Exception {
        Path plain = tmp.resolve("plain.yaml");
        Files.writeString(plain, tinyYaml("", ""));
        MlipConfig c = MlipConfig.load(plain.toString());
        assertNull(c.text.pretrained);
        assertNull(c.vision.pretrained);
        assertTrue(new MlipModel(c, new Generator(1)).loadPretrained().isEmpty());

        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, tinyYaml(", pretrainedDir: " + BERT, ""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MlipConfig.load(bad.toString()));
        assertTrue(e.getMessage().contains("pretrainedDir"), e.getMessage());
    }

    @Test
    void aModelThatDoesNotFitTheCheckpointFailsNamingTheKey() throws Exception {
        Path yaml = tmp.resolve("wide.yaml");
        Files.writeString(yaml, tinyYaml(", pretrained: " + BERT, "").replace("text: {vocab: 60, maxLen: 32, dim: 16", "text: {vocab: 60, maxLen: 32, dim: 32"));
        MlipModel m = new MlipModel(MlipConfig.load(yaml.toString()), new Generator(1));
        String msg = assertThrows(IllegalArgumentException.class, m::loadPretrained).getMessage();
        assertTrue(msg.contains("hidden_size is 16 in the file, 32 in the encoder"), msg);
    }
}
