package mlip.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import mlip.io.Safetensors;
import mlip.model.MlipConfig;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code text.pretrained} / {@code vision.pretrained} through {@link Pretrain}: a fresh run starts from the
 * tiny golden checkpoints with the BERT directory's vocabulary and casing; a resumed run takes its checkpoint.
 */
class PretrainedWeightsPretrainTest {
    static final Path G = Path.of("src", "test", "resources", "golden", "pretrained");

    @TempDir
    Path tmp;

    /** tiny.yaml with encoders of the golden checkpoints' shapes; 32 px images make an 8x8 grid from the file's 4x4. */
    static MlipConfig config() {
        MlipConfig c = MlipConfig.load(Path.of("src/test/resources/tiny.yaml").toString());
        c.vision.patch = 4;
        c.vision.dim = 16;
        c.vision.depth = 2;
        c.vision.heads = 2;
        c.vision.mlp = 32;
        c.vision.pretrained = G.resolve("vit/model.safetensors").toString();
        c.text.maxLen = 32;
        c.text.dim = 16;
        c.text.depth = 2;
        c.text.heads = 2;
        c.text.mlp = 32;
        c.text.pretrained = G.resolve("bert").toString();
        c.optim.steps = 2;
        c.optim.warmupSteps = 1;
        c.optim.checkpointEvery = 2;
        return c;
    }

    @Test
    void aFreshRunStartsFromThePretrainedEncodersAndAResumedOneFromItsCheckpoint() throws Exception {
        Path data = TrainerTest.synth(tmp.resolve("synth"), 24);
        Path run = tmp.resolve("run");
        Map<String, Tensor> bert = Safetensors.read(G.resolve("bert/model.safetensors")), vit = Safetensors.read(G.resolve("vit/model.safetensors"));
        float[] words = bert.get("bert.embeddings.word_embeddings.weight").toFloatArray(), fc2 = vit.get("blocks.0.mlp.fc2.weight").toFloatArray();

        MlipConfig cfg = config();
        assertTrue(cfg.text.lowercase, "tiny.yaml is uncased");
        Pretrain.Run r = Pretrain.prepare(cfg, data, run, true);   // resume asked, but there is no checkpoint yet: fresh
        assertFalse(r.resumed());
        assertFalse(cfg.text.lowercase, "the directory's tokenizer_config.json says cased");
        assertEquals(60, r.tokenizer().vocabSize());
        assertEquals(Files.readAllLines(G.resolve("bert/vocab.txt")), Files.readAllLines(run.resolve("vocab.txt")));
        assertArrayEquals(words, r.model().text.wordEmbeddings.weight.value().toFloatArray());
        assertArrayEquals(fc2, r.model().namedParameters().get("vision.blocks.0.mlp.fc2.weight").value().toFloatArray());
        r.trainer().quiet().run();
        float[] trained = r.model().text.wordEmbeddings.weight.value().toFloatArray();
        assertFalse(Arrays.equals(words, trained), "training moved the weights");

        Pretrain.Run again = Pretrain.prepare(config(), data, run, true);
        assertTrue(again.resumed());
        assertArrayEquals(trained, again.model().text.wordEmbeddings.weight.value().toFloatArray(), "the checkpoint wins on resume");

        Pretrained p = Pretrained.load(run);   // evaluation finds the run's vocab.txt and the cased setting
        assertFalse(p.cfg().text.lowercase);
        assertFalse(p.tokenizer().lowercase());
        assertArrayEquals(trained, p.model().text.wordEmbeddings.weight.value().toFloatArray());
    }
}
