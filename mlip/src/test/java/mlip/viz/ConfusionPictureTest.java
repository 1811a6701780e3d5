package mlip.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfusionPictureTest {
    @TempDir
    Path tmp;

    static final List<String> NAMES = List.of("Atelectasis", "Cardiomegaly", "Edema", "Pleural Effusion");

    /** Ramp position of cell (i, j), sampled 4 pixels in from its top-left corner (away from the count). */
    static double heat(BufferedImage pic, ConfusionPicture.Layout l, int i, int j) {
        return Colormap.INFERNO.position(pic.getRGB(l.x0() + j * l.cell() + 4, l.y0() + i * l.cell() + 4) & 0xffffff);
    }

    @Test
    void diagonalOfADiagonalMatrixIsHottest() throws IOException {
        int[][] c = {{50, 0, 0, 0}, {0, 7, 0, 0}, {0, 0, 200, 0}, {0, 0, 0, 1}};
        String title = "zero-shot synthcxr (acc 1.000)";
        BufferedImage back = HeatmapTest.roundTrip(ConfusionPicture.of(c, NAMES, title), tmp.resolve("confusion.png"));
        ConfusionPicture.Layout l = ConfusionPicture.layout(c, NAMES, title);
        assertEquals(l.width(), back.getWidth());
        assertEquals(l.height(), back.getHeight());
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                double h = heat(back, l, i, j);
                if (i == j) assertTrue(h > 0.99, "diagonal cell " + i + " hottest: " + h);
                else assertTrue(h < 0.01, "off-diagonal cell " + i + "," + j + " cold: " + h);
            }
    }

    @Test
    void cellColourIsTheRowShareAndTheCountIsWritten() {
        int[][] c = {{60, 30, 10, 0}, {0, 0, 0, 0}, {25, 25, 25, 25}, {1, 2, 3, 4}};
        BufferedImage pic = ConfusionPicture.of(c, NAMES, null);
        ConfusionPicture.Layout l = ConfusionPicture.layout(c, NAMES, null);
        assertEquals(0, l.titleH(), "no title strip");
        for (int i = 0; i < 4; i++) {
            int total = 0;
            for (int v : c[i]) total += v;
            for (int j = 0; j < 4; j++) {
                double share = total == 0 ? 0 : (double) c[i][j] / total;
                assertEquals(share, heat(pic, l, i, j), 1.5 / 255, "cell " + i + "," + j);
                int fill = pic.getRGB(l.x0() + j * l.cell() + 4, l.y0() + i * l.cell() + 4), differs = 0;
                for (int y = l.y0() + i * l.cell() + l.cell() / 3; y < l.y0() + (i + 1) * l.cell() - l.cell() / 3; y++)
                    for (int x = l.x0() + j * l.cell() + l.cell() / 4; x < l.x0() + (j + 1) * l.cell() - l.cell() / 4; x++)
                        if (pic.getRGB(x, y) != fill) differs++;
                assertTrue(differs > 10, "count drawn in cell " + i + "," + j + ": " + differs + " text pixels");
            }
        }
    }

    @Test
    void badMatricesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfusionPicture.of(new int[][]{{1, 2}, {3}}, List.of("a", "b"), null));
        assertTrue(e.getMessage().contains("row 1 has 1 columns, expected 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConfusionPicture.of(new int[][]{{1}}, List.of("a", "b"), null));
        assertTrue(e.getMessage().contains("1 matrix rows but 2 class names"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConfusionPicture.of(new int[][]{{1, -1}, {0, 0}}, List.of("a", "b"), null));
        assertTrue(e.getMessage().contains("count [0][1] is -1"), e.getMessage());
    }
}
