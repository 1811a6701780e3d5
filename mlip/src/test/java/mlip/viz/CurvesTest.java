package mlip.viz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CurvesTest {
    @TempDir
    Path tmp;

    static final String THREE = """
            {"step":10,"global":3.51,"local":3.50,"loss":7.02,"lr":1.0e-3,"grad_norm":7.8,"ms":491.9}
            {"step":20,"global":3.20,"local":3.41,"loss":6.61,"lr":9.0e-4,"grad_norm":5.1,"ms":480.2}
            {"step":30,"global":2.90,"local":3.30,"loss":6.20,"lr":8.0e-4,"grad_norm":4.0,"ms":478.0}
            """;

    Path file(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        return p;
    }

    /** Pixels that are neither white nor gray-ish: the coloured curves. */
    static int coloured(BufferedImage img) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++)
            for (int x = 0; x < img.getWidth(); x++) {
                int c = img.getRGB(x, y), r = (c >> 16) & 0xff, g = (c >> 8) & 0xff, b = c & 0xff;
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) n++;
            }
        return n;
    }

    @Test
    void threeLinesGiveLossAndLrCharts() throws IOException {
        Path png = tmp.resolve("out/loss.png");
        Curves.fromMetricsJsonl(file("run/metrics.jsonl", THREE), png);
        BufferedImage back = ImageIO.read(png.toFile());
        assertEquals(Curves.WIDTH, back.getWidth());
        assertEquals(Curves.LOSS_HEIGHT + Curves.LR_HEIGHT, back.getHeight());
        assertTrue(coloured(back) > 500, "curves drawn: " + coloured(back) + " coloured pixels");

        Path noLr = tmp.resolve("out/nolr.png");
        Curves.fromMetricsJsonl(file("run2/metrics.jsonl", "{\"step\":1,\"mim\":0.5,\"loss\":0.5}\n\n{\"step\":2,\"mim\":0.4,\"loss\":0.4}\n"), noLr);
        assertEquals(Curves.LOSS_HEIGHT, ImageIO.read(noLr.toFile()).getHeight(), "no lr, no lr chart");
    }

    @Test
    void readFindsTheLossTermsAndKeepsTheLastLineOfARepeatedStep() throws IOException {
        Curves.Metrics m = Curves.read(file("metrics.jsonl", THREE
                + "{\"step\":20,\"global\":3.0,\"local\":3.4,\"label\":0.9,\"loss\":7.3,\"lr\":9.0e-4,\"note\":\"resumed\"}\n"));
        assertEquals(List.of("global", "local", "label", "loss"), m.lossTerms());
        assertArrayEquals(new double[]{10, 20, 30}, m.steps().get("global"));
        assertArrayEquals(new double[]{3.51, 3.0, 2.90}, m.values().get("global"));
        assertArrayEquals(new double[]{20}, m.steps().get("label"));
        assertFalse(m.values().containsKey("note"), "non-numeric values are not series");
    }

    @Test
    void malformedLineNamesFileAndLine() throws IOException {
        Path bad = file("bad/metrics.jsonl", """
                {"step":10,"global":3.51,"loss":3.51}
                {"step":20,"global":3.2
                {"step":30,"global":2.9,"loss":2.9}
                """);
        Path png = tmp.resolve("never.png");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Curves.fromMetricsJsonl(bad, png));
        assertTrue(e.getMessage().startsWith(bad + " line 2: not valid JSON"), e.getMessage());
        assertFalse(Files.exists(png));

        e = assertThrows(IllegalArgumentException.class, () -> Curves.read(file("b2.jsonl", "{\"global\":1}\n")));
        assertTrue(e.getMessage().contains("b2.jsonl line 1: no numeric \"step\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Curves.read(file("b3.jsonl", "{\"step\":1,\"loss\":1}\n[1,2]\n")));
        assertTrue(e.getMessage().contains("b3.jsonl line 2: expected a JSON object"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Curves.read(file("b4.jsonl", "\n\n")));
        assertTrue(e.getMessage().contains("b4.jsonl: no metrics lines"), e.getMessage());
    }

    @Test
    void compareDrawsOneKeyOfSeveralRuns() throws IOException {
        Map<String, Path> runs = new LinkedHashMap<>();
        runs.put("mlip", file("a/metrics.jsonl", THREE));
        runs.put("no-local", file("b/metrics.jsonl", THREE.replace("\"global\":3.", "\"global\":4.")));
        Path png = tmp.resolve("cmp/global.png");
        Curves.compare(runs, "global", png);
        BufferedImage back = ImageIO.read(png.toFile());
        assertEquals(Curves.WIDTH, back.getWidth());
        assertEquals(Curves.LOSS_HEIGHT, back.getHeight());
        assertTrue(coloured(back) > 300, "curves drawn");

        runs.put("mim-only", file("c/metrics.jsonl", "{\"step\":1,\"mim\":0.5,\"loss\":0.5}\n"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Curves.compare(runs, "global", png));
        assertTrue(e.getMessage().contains("run 'mim-only' has no \"global\" values"), e.getMessage());
    }
}
