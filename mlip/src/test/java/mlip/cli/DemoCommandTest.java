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

        // The global-only baseline is one flag away and lands in its own run directory.
        rc = Main.commandLine().execute("demo", "--out", tmp.toString(), "--config", "src/test/resources/tiny.yaml", "--steps", "2",
                "--ablate", "local,mask,mim");
        assertEquals(0, rc);
        assertTrue(Files.exists(tmp.resolve("ablate-local-mask-mim/checkpoints/latest")));
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
