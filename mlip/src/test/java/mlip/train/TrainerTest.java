package mlip.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import mlip.data.synth.SynthCxr;
import mlip.model.MlipConfig;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer on a tiny config: exact resume, checkpoints, the NaN stop. */
class TrainerTest {
    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void writeData() {
        data = synth(tmp.resolve("synth"), 40);
    }

    /** A tiny SynthCXR tree of {@code studies} 32-px studies in {@code dir}. */
    static Path synth(Path dir, int studies) {
        SynthCxr.write(dir, SynthCxr.Options.defaults().withStudies(studies).withSize(32).withEvalPerClass(2).withValidateFraction(0.05));
        return dir;
    }

    static MlipConfig tiny() {
        return MlipConfig.load(Path.of("src/test/resources/tiny.yaml").toString());
    }

    private static Map<String, Tensor> train(Path run, boolean resume) {
        Pretrain.Run r = Pretrain.prepare(tiny(), data, run, resume);
        r.trainer().quiet().run();
        return r.model().stateDict();
    }

    @Test
    void stepsStraightAndStepsWithResumeGiveBitIdenticalWeights() throws Exception {
        Map<String, Tensor> straight = train(tmp.resolve("straight"), false);

        // k = 3 steps of the same 6-step run, interrupted; then everything is rebuilt from disk and resumed.
        Path split = tmp.resolve("split");
        Pretrain.Run a = Pretrain.prepare(tiny(), data, split, false);
        a.trainer().quiet().runUntil(3);
        assertEquals(3, Checkpoint.loadLatest(split).step());
        Map<String, Tensor> resumed = train(split, true);

        assertEquals(straight.keySet(), resumed.keySet());
        for (String k : straight.keySet()) {
            assertArrayEquals(straight.get(k).toDoubleArray(), resumed.get(k).toDoubleArray(), k + " differs after resume");
        }
        assertTrue(Files.exists(split.resolve("metrics.jsonl")));
        assertEquals(6, Checkpoint.loadLatest(split).step());
    }

    @Test
    void aNonFiniteLossStopsNamingTheStepAndTheTermAndKeepsTheCheckpoint() {
        Path run = tmp.resolve("nan");
        Pretrain.Run r = Pretrain.prepare(tiny(), data, run, false);
        r.trainer().quiet().runUntil(3);
        Path good = Checkpoint.loadLatest(run).dir();

        Pretrain.Run again = Pretrain.prepare(tiny(), data, run, true);
        again.model().logitScale.assign(Tensor.scalar(Double.NaN));
        Trainer.Diverged e = assertThrows(Trainer.Diverged.class, () -> again.trainer().quiet().run());
        assertTrue(e.getMessage().contains("step 4") && e.getMessage().contains("'global'"), e.getMessage());
        assertEquals(good, Checkpoint.loadLatest(run).dir(), "the last good checkpoint stays");
    }
}
