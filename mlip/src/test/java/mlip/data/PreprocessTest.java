package mlip.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resize-shorter-side + centre-crop, on images small enough to compute by hand. */
class PreprocessTest {

    @TempDir
    Path dir;

    @Test
    void shrinksTheShorterSideByAreaThenCropsTheCentre() {
        // 8 wide x 4 high, value = 10*x + y; shorter side 4 -> 2 halves both axes: 4 x 2, then crop columns 1..2
        float[] src = new float[8 * 4];
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 8; x++) {
                src[y * 8 + x] = 10 * x + y;
            }
        }
        assertArrayEquals(new int[] {4, 2}, Preprocess.resizedShape(8, 4, 2));
        float[] out = Preprocess.image(src, 8, 4, 2);
        // resized column 1 averages x = 2,3 (mean 25), column 2 x = 4,5 (45); row 0 averages y = 0,1, row 1 y = 2,3
        assertArrayEquals(new float[] {25.5f, 45.5f, 27.5f, 47.5f}, out, 1e-4f);
    }

    @Test
    void tallImagesCropRowsAndSquareImagesAtSizeAreUnchanged() {
        float[] tall = new float[2 * 6]; // 2 wide, 6 high: size 2 keeps 2x6, crop rows 2..3
        for (int i = 0; i < tall.length; i++) {
            tall[i] = i;
        }
        assertArrayEquals(new float[] {4, 5, 6, 7}, Preprocess.image(tall, 2, 6, 2), 0f);
        float[] sq = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        assertArrayEquals(sq, Preprocess.image(sq, 3, 3, 3), 0f);
    }

    @Test
    void enlargesBilinearlyWithAlignedCentres() {
        float[] up = Preprocess.image(new float[] {0, 1, 0, 1}, 2, 2, 4);
        assertArrayEquals(new float[] {0, 0.25f, 0.75f, 1}, java.util.Arrays.copyOfRange(up, 0, 4), 1e-6f);
        assertArrayEquals(new float[] {0, 0.25f, 0.75f, 1}, java.util.Arrays.copyOfRange(up, 12, 16), 1e-6f);
    }

    @Test
    void masksFollowTheSameGeometryAndStayBinary() {
        // 4x4 mask with the left 3 columns set: at size 2 the left output column is fully covered (1), the right
        // one half covered (0.5 -> 1); with only the left column set, the left output is 0.5 -> 1, the right 0
        float[] m = new float[16];
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 3; x++) {
                m[y * 4 + x] = 1;
            }
        }
        assertArrayEquals(new float[] {1, 1, 1, 1}, Preprocess.mask(m, 4, 4, 2), 0f);
        float[] left = new float[16];
        for (int y = 0; y < 4; y++) {
            left[y * 4] = 1;
        }
        assertArrayEquals(new float[] {1, 0, 1, 0}, Preprocess.mask(left, 4, 4, 2), 0f);
    }

    @Test
    void readsPngAtTheRequestedSizeAndRejectsBadInput() throws IOException {
        float[] px = new float[12 * 6];
        for (int i = 0; i < px.length; i++) {
            px[i] = (i % 12) / 11f;
        }
        Path png = dir.resolve("a.png");
        Files.write(png, Images.encodePng(px, 12, 6));
        float[] out = Preprocess.read(png, 3); // 12x6 -> 6x3, crop columns 1..3 = source columns 2..7
        assertEquals(9, out.length);
        assertEquals((2 + 3) / 2f / 11f, out[0], 0.01);
        assertEquals((6 + 7) / 2f / 11f, out[2], 0.01);
        assertThrows(IllegalArgumentException.class, () -> Preprocess.image(new float[5], 2, 2, 2));
        Files.writeString(dir.resolve("b.png"), "not a png");
        assertThrows(IOException.class, () -> Preprocess.read(dir.resolve("b.png"), 3));
    }
}
