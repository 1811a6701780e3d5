package mlip.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PatchMaskPictureTest {
    @TempDir
    Path tmp;

    static final int SIZE = 48, GRID = 6, N = GRID * GRID, SIDE = 288, PATCH = SIDE / GRID;   // scale 6, 48-pixel patches

    @Test
    void greysExactlyTheMaskedPatchesAndOutlinesTheKeptOnes() throws IOException {
        float[] image = HeatmapTest.randomImage(11, SIZE);                      // (48*48)
        float[] scores = HeatmapTest.randomScores(12, N);                       // (36)
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < N; i++) order.add(i);
        Collections.shuffle(order, new Random(13));
        int[] keep = order.subList(0, 15).stream().mapToInt(Integer::intValue).toArray();   // (K=15)
        boolean[] kept = new boolean[N];
        for (int k : keep) kept[k] = true;

        BufferedImage back = HeatmapTest.roundTrip(PatchMaskPicture.of(image, SIZE, GRID, scores, keep), tmp.resolve("mask.png"));
        assertEquals(2 * SIDE + Heatmap.GAP, back.getWidth());
        assertTrue(back.getHeight() > SIDE, "title strips above the panels: " + back.getHeight());
        int rx = back.getWidth() - SIDE, ry = back.getHeight() - SIDE;            // right panel's origin

        double[] gray = Pixels.displayGray(image, SIZE, SIDE);                  // (288*288) what a kept pixel shows
        int margin = PatchMaskPicture.outlineWidth(SIDE, GRID) + 1;
        for (int p = 0; p < N; p++) {
            int x0 = (p % GRID) * PATCH, y0 = (p / GRID) * PATCH, same = 0, total = 0;
            for (int y = y0 + margin; y < y0 + PATCH - margin; y++)
                for (int x = x0 + margin; x < x0 + PATCH - margin; x++) {
                    total++;
                    if ((back.getRGB(rx + x, ry + y) & 0xffffff) == Pixels.gray(gray[y * SIDE + x])) same++;
                }
            if (kept[p]) {
                assertEquals(total, same, "kept patch " + p + " shows the image unchanged");
                assertEquals(PatchMaskPicture.OUTLINE_RGB, back.getRGB(rx + x0, ry + y0 + PATCH / 2) & 0xffffff, "kept patch " + p + " outlined");
            } else {
                assertTrue(same < total / 20, "masked patch " + p + " greyed: " + same + " of " + total + " pixels unchanged");
                int x = x0 + PATCH / 2, y = y0 + PATCH / 2 + ((x0 + PATCH / 2 + y0 + PATCH / 2) % 8 < 2 ? 3 : 0);   // off the hatching
                double expect = PatchMaskPicture.MASK_TRACE * gray[y * SIDE + x] + (1 - PatchMaskPicture.MASK_TRACE) * PatchMaskPicture.MASK_GRAY;
                assertEquals(Pixels.gray(expect), back.getRGB(rx + x, ry + y) & 0xffffff, "masked patch " + p);
                assertNotEquals(PatchMaskPicture.OUTLINE_RGB, back.getRGB(rx + x0, ry + y0 + PATCH / 2) & 0xffffff, "masked patch " + p + " not outlined");
            }
        }

        int hot = HeatmapTest.argmax(scores), cold = HeatmapTest.argmin(scores);   // left panel: hot vs cold scores
        int hotRgb = back.getRGB((hot % GRID) * PATCH + PATCH / 2, ry + (hot / GRID) * PATCH + PATCH / 2);
        int coldRgb = back.getRGB((cold % GRID) * PATCH + PATCH / 2, ry + (cold / GRID) * PATCH + PATCH / 2);
        assertTrue(HeatmapTest.redMinusBlue(hotRgb) > 60, "hot score red: " + Integer.toHexString(hotRgb));
        assertTrue(HeatmapTest.redMinusBlue(coldRgb) < -60, "cold score blue: " + Integer.toHexString(coldRgb));
    }

    @Test
    void noneAndAllKept() {
        float[] image = HeatmapTest.randomImage(1, SIZE), scores = HeatmapTest.randomScores(1, N);
        int[] all = new int[N];
        for (int i = 0; i < N; i++) all[i] = i;
        BufferedImage none = PatchMaskPicture.of(image, SIZE, GRID, scores, new int[0]);
        BufferedImage every = PatchMaskPicture.of(image, SIZE, GRID, scores, all);
        int rx = none.getWidth() - SIDE, ry = none.getHeight() - SIDE, x = 100, y = 101;   // (x + y) % 8 = 1: on a hatch line
        assertEquals(Pixels.gray(PatchMaskPicture.HATCH_GRAY), none.getRGB(rx + x, ry + y) & 0xffffff);
        assertEquals(Pixels.gray(Pixels.displayGray(image, SIZE, SIDE)[y * SIDE + x]), every.getRGB(rx + x, ry + y) & 0xffffff);
    }

    @Test
    void badKeptIndicesAreRejected() {
        float[] image = HeatmapTest.randomImage(1, SIZE), scores = HeatmapTest.randomScores(1, N);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PatchMaskPicture.of(image, SIZE, GRID, scores, new int[]{3, 36}));
        assertTrue(e.getMessage().contains("kept index 36 outside [0, 36)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PatchMaskPicture.of(image, SIZE, GRID, scores, new int[]{5, 5}));
        assertTrue(e.getMessage().contains("kept index 5 appears twice"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PatchMaskPicture.of(image, SIZE, GRID, new float[N - 1], new int[0]));
        assertTrue(e.getMessage().contains("scores has 35 values"), e.getMessage());
    }
}
