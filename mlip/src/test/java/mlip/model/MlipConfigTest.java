package mlip.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MlipConfigTest {
    @TempDir
    Path tmp;

    @Test
    void presetsLoadAndBenchSmallHasTheIssuesShape() {
        for (String p : MlipConfig.PRESETS) assertEquals(p, MlipConfig.load(p).name);
        MlipConfig b = MlipConfig.load("bench-small");
        assertEquals(32, b.optim.batchSize);
        assertEquals(144, b.numPatches());
        assertEquals(192, b.vision.dim);
        assertEquals(6, b.vision.depth);
        assertEquals(2048, b.text.vocab);
        assertEquals(128, b.loss.projDim);
    }

    @Test
    void jsonAndYamlFilesLoadAndUnknownKeysFail() throws Exception {
        Path json = tmp.resolve("c.json");
        Files.writeString(json, "{\"seed\": 7, \"optim\": {\"steps\": 12}}");
        MlipConfig c = MlipConfig.load(json.toString());
        assertEquals(7, c.seed);
        assertEquals(12, c.optim.steps);
        Path yaml = tmp.resolve("c.yaml");
        Files.writeString(yaml, "seed: 9\nloss: {local: false}\n");
        assertFalse(MlipConfig.load(yaml.toString()).loss.local);
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, "optim: {stepz: 3}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MlipConfig.load(bad.toString()));
        assertTrue(e.getMessage().contains("stepz"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MlipConfig.load("no-such-preset"));
        assertEquals(c.toJson(), MlipConfig.fromJson(c.toJson()).toJson());
    }

    @Test
    void ablateSwitchesTermsOff() {
        MlipConfig c = MlipConfig.load("demo-tiny").ablate("local,mask,mim");
        assertTrue(c.loss.global);
        assertFalse(c.loss.local || c.loss.mask || c.loss.mim);
        assertEquals(c.numPatches(), c.keptPatches());
        assertThrows(IllegalArgumentException.class, () -> MlipConfig.load("demo-tiny").ablate("loca"));
        MlipConfig s = MlipConfig.load("demo-tiny");
        int w0 = s.optim.warmupSteps, n0 = s.optim.steps;
        s.optim.withSteps(n0 / 4);
        assertEquals(n0 / 4, s.optim.steps);
        assertEquals(Math.round(w0 / 4.0), s.optim.warmupSteps, 1);
    }
}
