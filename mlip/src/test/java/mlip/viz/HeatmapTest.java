package mlip.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeatmapTest {
    @TempDir
    Path tmp;

    static float[] randomImage(long seed, int size) {
        Random r = new Random(seed);
        float[] img = new float[size * size];                                  // (size*size)
        for (int i = 0; i < img.length; i++) img[i] = r.nextFloat();
        return img;
    }

    static float[] randomScores(long seed, int n) {
        Random r = new Random(seed);
        float[] s = new float[n];
        for (int i = 0; i < n; i++) s[i] = (float) r.nextGaussian();
        return s;
    }

    static int argmax(float[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
        return b;
    }

    static int argmin(float[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) if (v[i] < v[b]) b = i;
        return b;
    }

    /** Red minus blue: the gray underneath cancels, leaving ALPHA * (jet red - jet blue). */
    static int redMinusBlue(int rgb) {
        return ((rgb >> 16) & 0xff) - (rgb & 0xff);
    }

    static BufferedImage roundTrip(BufferedImage img, Path png) throws IOException {
        Heatmap.write(img, png);
        BufferedImage back = ImageIO.read(png.toFile());
        assertEquals(img.getWidth(), back.getWidth());
        assertEquals(img.getHeight(), back.getHeight());
        return back;
    }

    @Test
    void hottestPatchIsRedColdestIsBlueAndCaptionStripIsBelow() throws IOException {
        int size = 32, grid = 4, side = 288, patch = side / grid;             // scale 9
        float[] scores = randomScores(7, grid * grid);
        BufferedImage back = roundTrip(Heatmap.overlay(randomImage(1, size), size, scores, grid,
                "Small left pleural effusion."), tmp.resolve("overlay.png"));
        assertEquals(side, back.getWidth());
        assertTrue(back.getHeight() > side, "caption strip under the image: height " + back.getHeight());
        int hot = argmax(scores), cold = argmin(scores);
        int hotRgb = back.getRGB((hot % grid) * patch + patch / 2, (hot / grid) * patch + patch / 2);
        int coldRgb = back.getRGB((cold % grid) * patch + patch / 2, (cold / grid) * patch + patch / 2);
        // jet(1) = (128, 0, 0), jet(0) = (0, 0, 128) at opacity 0.45: red - blue = +-58
        assertTrue(redMinusBlue(hotRgb) > 45, "hot patch red: " + Integer.toHexString(hotRgb));
        assertTrue(redMinusBlue(coldRgb) < -45, "cold patch blue: " + Integer.toHexString(coldRgb));
        int text = 0;                                                          // the caption drew dark pixels
        for (int y = side; y < back.getHeight(); y++)
            for (int x = 0; x < side; x++) if ((back.getRGB(x, y) & 0xff) < 128) text++;
        assertTrue(text > 50, "caption text pixels: " + text);
    }

    @Test
    void imageIsMinMaxScaledAndUpscaledToAtLeast288() {
        int size = 224;
        float[] img = new float[size * size];                                  // a dark left half, bright right half, values 10..20
        for (int y = 0; y < size; y++) for (int x = 0; x < size; x++) img[y * size + x] = x < size / 2 ? 10 : 20;
        float[] flat = new float[4];                                           // constant scores -> t = 0.5 everywhere
        BufferedImage pic = Heatmap.overlay(img, size, flat, 2, null);
        assertEquals(448, pic.getWidth());
        assertEquals(448, pic.getHeight(), "no caption, no strip");
        int left = pic.getRGB(10, 200) & 0xffffff, right = pic.getRGB(440, 200) & 0xffffff;
        int jetMid = Colormap.JET.rgb(0.5);
        assertEquals(Pixels.blend(0, jetMid, Heatmap.ALPHA), left);
        assertEquals(Pixels.blend(1, jetMid, Heatmap.ALPHA), right);
    }

    @Test
    void blocksGiveEachPatchOneColour() {
        int size = 48, grid = 6, patch = 48;                                   // side 288
        float[] img = new float[size * size];
        java.util.Arrays.fill(img, 0.3f);
        float[] scores = randomScores(3, grid * grid);
        BufferedImage pic = Heatmap.overlay(img, size, scores, grid, "", false);
        assertEquals(288, pic.getHeight(), "blank caption, no strip");
        for (int p = 0; p < grid * grid; p++) {
            int x0 = (p % grid) * patch, y0 = (p / grid) * patch;
            int c = pic.getRGB(x0 + patch / 2, y0 + patch / 2);
            assertEquals(c, pic.getRGB(x0, y0), "patch " + p);
            assertEquals(c, pic.getRGB(x0 + patch - 1, y0 + patch - 1), "patch " + p);
        }
        double tHot = Colormap.JET.position(unblend(pic.getRGB(argmax(scores) % grid * patch + 1, argmax(scores) / grid * patch + 1)));
        assertTrue(tHot > 0.95, "hot block at the top of the ramp: " + tHot);
    }

    /** Undoes the 0.45 blend over a uniform gray of 0.3 (image all 0.3 -> constant -> displayed as 0.5). */
    private static int unblend(int rgb) {
        double a = Heatmap.ALPHA, g = 0.5;
        double r = (((rgb >> 16) & 0xff) / 255.0 - (1 - a) * g) / a;
        double gg = (((rgb >> 8) & 0xff) / 255.0 - (1 - a) * g) / a;
        double b = ((rgb & 0xff) / 255.0 - (1 - a) * g) / a;
        return Colormap.pack(r, gg, b);
    }

    @Test
    void longCaptionWrapsToMoreLines() {
        float[] img = randomImage(2, 32);
        float[] s = randomScores(2, 16);
        String shortText = "No acute findings.";
        String longText = "There is a moderate right pleural effusion with adjacent compressive atelectasis of the right lower "
                + "lobe, and the cardiomediastinal silhouette is enlarged, unchanged from the prior examination; "
                + "supercalifragilisticexpialidociouspneumonoultramicroscopicsilicovolcanoconiosis.";
        int hShort = Heatmap.overlay(img, 32, s, 4, shortText).getHeight();
        int hLong = Heatmap.overlay(img, 32, s, 4, longText).getHeight();
        assertTrue(hShort > 288);
        assertTrue(hLong >= hShort + 3 * 13, "long caption wraps to several lines: " + hShort + " vs " + hLong);
    }

    @Test
    void rowPlacesPanelsSideBySide() throws IOException {
        BufferedImage a = Pixels.white(100, 50), b = new BufferedImage(60, 80, BufferedImage.TYPE_INT_RGB);
        b.setRGB(0, 0, 0x123456);
        BufferedImage back = roundTrip(Heatmap.row(List.of(a, b)), tmp.resolve("row.png"));
        assertEquals(100 + Heatmap.GAP + 60, back.getWidth());
        assertEquals(80, back.getHeight());
        assertEquals(0x123456, back.getRGB(100 + Heatmap.GAP, 0) & 0xffffff);
        assertEquals(0xffffff, back.getRGB(100, 79) & 0xffffff, "gap and below the short panel are white");
        assertThrows(IllegalArgumentException.class, () -> Heatmap.row(List.of()));
    }

    @Test
    void writeCreatesParentsReplacesAndLeavesNoTempFile() throws IOException {
        Path png = tmp.resolve("a/b/c.png");
        Heatmap.write(Pixels.white(5, 5), png);
        Heatmap.write(Pixels.white(7, 3), png);                                 // replaces
        assertEquals(7, ImageIO.read(png.toFile()).getWidth());
        try (Stream<Path> files = Files.list(png.getParent())) {
            assertEquals(List.of(png), files.toList());
        }
    }

    @Test
    void badArgumentsSayWhich() {
        float[] img = randomImage(1, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Heatmap.overlay(img, 16, new float[15], 4, null));
        assertTrue(e.getMessage().contains("patchScores has 15 values, expected grid*grid = 16"), e.getMessage());
        float[] nan = randomScores(1, 16);
        nan[3] = Float.NaN;
        e = assertThrows(IllegalArgumentException.class, () -> Heatmap.overlay(img, 16, nan, 4, null));
        assertTrue(e.getMessage().contains("patchScores[3] is NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Heatmap.overlay(img, 15, new float[16], 4, null));
        assertTrue(e.getMessage().contains("image has 256 values"), e.getMessage());
        assertFalse(e.getMessage().isBlank());
    }
}
