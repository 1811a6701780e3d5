package mlip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo end to end on a tiny config: data, training, both evaluation lines in their exact format. */
class DemoCommandTest {
    @TempDir
    Path tmp;

    @Test
    void demoPrintsTheZeroShotPointingAndDoneLines() throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            rc = Main.commandLine().execute("demo", "--out", tmp.toString(), "--config", "src/test/resources/tiny.yaml", "--steps", "4");
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, out);
        assertTrue(out.lines().anyMatch(l -> l.matches("zeroshot synthcxr-5x200 acc=\\d\\.\\d{3} f1=\\d\\.\\d{3} chance=0\\.200")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("pointing synthcxr acc=\\d\\.\\d{3} chance=\\d\\.\\d{3}")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("demo done in \\d+ s")), out);
        assertTrue(Files.exists(tmp.resolve("mlip/checkpoints/latest")));
        // the full evaluation: eval.json, pictures, and the report naming every table
        assertTrue(out.lines().anyMatch(l -> l.startsWith("report ")), out);
        String md = Files.readString(tmp.resolve("report.md"));
        for (String h : new String[]{"## Zero-shot", "## Few-shot linear probe", "## Few-shot segmentation", "## Retrieval", "## Grounding", "## Pictures"}) {
            assertTrue(md.contains(h), h + " missing from\n" + md);
        }
        assertTrue(Files.readString(tmp.resolve("report.html")).contains("<table>"));
        for (String png : new String[]{"curves.png", "confusion.png"}) assertTrue(Files.size(tmp.resolve("mlip/pictures/" + png)) > 1000, png);

        // The global-only baseline is one flag away and lands in its own run directory.
        rc = Main.commandLine().execute("demo", "--out", tmp.toString(), "--config", "src/test/resources/tiny.yaml", "--steps", "2",
                "--ablate", "local,mask,mim");
        assertEquals(0, rc);
        assertTrue(Files.exists(tmp.resolve("ablate-local-mask-mim/checkpoints/latest")));
        // ... and the report now has both runs side by side
        String both = Files.readString(tmp.resolve("report.md"));
        assertTrue(both.contains("| | ablate-local-mask-mim | mlip |"), both);

        // every evaluation command runs on the trained run and prints its lines
        String run = tmp.resolve("mlip").toString(), data = tmp.resolve("synthcxr").toString();
        assertLines(run(new String[]{"zeroshot", "--ckpt", run, "--data", data}), "zeroshot (ensemble|simple|learned)/(global|local|both) acc=\\d\\.\\d{3} f1=\\d\\.\\d{3} auc=\\d\\.\\d{3} chance=0\\.200", 5);
        assertLines(run(new String[]{"probe", "--ckpt", run, "--data", data, "--seeds", "2", "--fractions", "0.5,1"}), "probe (50|100)% n=\\d+ acc=\\d\\.\\d{3}±\\d\\.\\d{3} auc=\\d\\.\\d{3}±\\d\\.\\d{3}", 2);
        assertLines(run(new String[]{"segment", "--ckpt", run, "--data", data, "--fractions", "1"}), "segment 100% n=\\d+ dice=\\d\\.\\d{3}±\\d\\.\\d{3}", 1);
        assertLines(run(new String[]{"retrieve", "--ckpt", run, "--data", data}), "retrieve (image->report|report->image)_R@(1|5|10)=\\d\\.\\d{3}", 6);
        assertTrue(run(new String[]{"ground", "--ckpt", run, "--data", data}).lines().anyMatch(l -> l.startsWith("grounding ot pointing=")));
        String firstEval = Files.readAllLines(tmp.resolve("synthcxr/synthcxr-5x200.csv")).get(1).split(",")[6];
        String vis = run(new String[]{"visualize", "--ckpt", run, "--data", data, "--study", firstEval, "--out", tmp.resolve("pics").toString()});
        assertEquals(4, vis.lines().filter(l -> l.startsWith("wrote ")).count(), vis);
        assertTrue(Files.size(tmp.resolve("pics/" + firstEval.substring(0, 8) + "-ot.png")) > 1000);
    }

    private static String run(String[] args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            assertEquals(0, Main.commandLine().execute(args), String.join(" ", args));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    private static void assertLines(String out, String regex, int count) {
        assertEquals(count, out.lines().filter(l -> l.matches(regex)).count(), out);
    }

    @Test
    void aBadConfigIsOneLineNamingTheProblemNotAStackTrace() throws Exception {
        Path cfg = tmp.resolve("bad.yaml");
        Files.writeString(cfg, Files.readString(Path.of("src/test/resources/tiny.yaml")).replace("warmupSteps: 2", "warmupSteps: 60"));
        var cl = Main.commandLine();
        var err = new java.io.StringWriter();
        cl.setErr(new java.io.PrintWriter(err, true));
        int rc = cl.execute("demo", "--out", tmp.toString(), "--config", cfg.toString());
        assertEquals(1, rc, err.toString());
        assertEquals("demo: optim.warmupSteps 60 must be in [0, optim.steps 6]", err.toString().strip());

        err.getBuffer().setLength(0);
        rc = cl.execute("pretrain", "--config", tmp.resolve("missing.yaml").toString(), "--data", "synth", "--out", tmp.resolve("r").toString());
        assertEquals(1, rc, err.toString());
        assertTrue(err.toString().startsWith("pretrain: config '") && err.toString().contains("no such file and not a preset"), err.toString());
    }
}
