package mlip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import mlip.data.MiniTrees;
import mlip.data.synth.SynthCxr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The smoke run of {@code mlip reproduce} on miniature trees of all five data sets (issue 8): a few pretraining
 * steps of the tiny config on a MIMIC-CXR-JPG-layout SynthCXR, then every evaluation, every figure line, and the
 * report's three tables filled.
 */
class ReproduceCommandTest {
    @TempDir
    Path tmp;

    @Test
    void smokeRunOnMiniatureTreesFillsEveryTable() throws Exception {
        Path mimic = tmp.resolve("mimic");
        SynthCxr.write(mimic, SynthCxr.Options.defaults().withStudies(40).withSize(32).withSeed(6L).withEvalPerClass(1).withProgress(false));
        Path chexpert = MiniTrees.chexpert(tmp, 2), rsna = MiniTrees.rsna(tmp, 40), siim = MiniTrees.siim(tmp, 40), covidx = MiniTrees.covidx(tmp, 30);
        Path out = tmp.resolve("paper");
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            rc = Main.commandLine().execute("reproduce", "--mimic", mimic.toString(), "--chexpert", chexpert.toString(), "--rsna", rsna.toString(),
                    "--siim", siim.toString(), "--covidx", covidx.toString(), "--out", out.toString(), "--config", "src/test/resources/tiny.yaml",
                    "--max-steps", "3", "--subset", "30", "--per-class", "2", "--seeds", "2");
        } finally {
            System.setOut(old);
        }
        String text = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, text);
        assertTrue(text.lines().anyMatch(l -> l.matches("pretrain \\S+ steps=3 time=\\d+ s")), text);
        for (String line : new String[]{"chexpert zeroshot_acc=", "chexpert probe_auc_100%=", "rsna zeroshot_auc=", "rsna probe_auc_1%=",
                "rsna segment_dice_10%=", "siim zeroshot_auc=", "siim segment_dice_100%=", "covidx probe_acc_100%="}) {
            assertTrue(text.lines().anyMatch(l -> l.startsWith(line) && l.matches(".*=\\d\\.\\d{3} ± \\d\\.\\d{3}")), line + " missing from\n" + text);
        }
        String md = Files.readString(out.resolve("report.md"));
        for (String h : new String[]{"## Zero-shot classification", "## Linear probe", "## Semantic segmentation", "| CheXpert 5x200 |", "| COVIDx | ACC |",
                "| SIIM | Dice |"}) {
            assertTrue(md.contains(h), h + " missing from\n" + md);
        }
        assertTrue(Files.readString(out.resolve("eval.json")).contains("\"RSNA\""));
        assertTrue(Files.exists(out.resolve("pretrain/checkpoints/latest")));

        // a second call continues the finished run instead of pretraining again
        buf.reset();
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            rc = Main.commandLine().execute("reproduce", "--mimic", mimic.toString(), "--covidx", covidx.toString(), "--out", out.toString(),
                    "--config", "src/test/resources/tiny.yaml", "--max-steps", "3", "--subset", "30", "--seeds", "1");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, rc, buf.toString(StandardCharsets.UTF_8));
        assertTrue(buf.toString(StandardCharsets.UTF_8).contains("covidx probe_acc_100%="));
    }
}
