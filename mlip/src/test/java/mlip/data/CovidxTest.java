package mlip.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The COVIDx loader on a miniature tree: 4- and 3-column index lines, PNG and JPEG images. */
class CovidxTest {

    @TempDir
    Path dir;

    private Path root() throws IOException {
        Path root = dir.resolve("covidx");
        Files.createDirectories(root.resolve("train"));
        Files.createDirectories(root.resolve("test"));
        return root;
    }

    private static void png(Path file, float value) throws IOException {
        float[] px = new float[8 * 6];
        java.util.Arrays.fill(px, value);
        Files.write(file, file.toString().endsWith(".png") ? Images.encodePng(px, 8, 6) : Images.encodeJpeg(px, 8, 6, 0.95f));
    }

    @Test
    void readsFourAndThreeColumnLinesAndBothImageFormats() throws IOException {
        Path root = root();
        png(root.resolve("train/a.png"), 0.2f);
        png(root.resolve("train/b.jpg"), 0.4f);
        png(root.resolve("train/c d.jpeg"), 0.6f);
        png(root.resolve("test/e.png"), 0.8f);
        Files.writeString(root.resolve("train.txt"), "3 a.png normal rsna\n"
                + "ANON5 b.jpg COVID-19 cohen\n"
                + "\n"
                + "7 c d.jpeg pneumonia sirm\n");
        Files.writeString(root.resolve("test.txt"), "9 e.png COVID-19\n"); // an older three-column release
        Covidx cx = Covidx.load(root);
        assertEquals("covidx: 4 images (3 train, 1 test; 1 normal, 1 pneumonia, 2 COVID-19), 0 skipped", cx.summary());
        Covidx.Item b = cx.items().get(1);
        assertEquals("ANON5", b.patient());
        assertEquals("COVID-19", b.className());
        assertEquals("cohen", b.source());
        assertEquals(root.resolve("train/b.jpg"), b.image());
        assertEquals("c d.jpeg", cx.items().get(2).filename());
        Covidx.Item e = cx.split("test").get(0);
        assertEquals("", e.source());
        assertEquals(2, e.label());
        assertArrayEquals(new int[] {1, 1, 2}, cx.classCounts());
        List<Covidx.Sample> s = cx.readAll(cx.items(), 3);
        assertEquals(4, s.size());
        float[] expect = {0.2f, 0.4f, 0.6f, 0.8f};
        for (int i = 0; i < 4; i++) {
            assertEquals(9, s.get(i).image().length);
            assertEquals(expect[i], s.get(i).image()[4], 0.02f);
        }
    }

    @Test
    void malformedLinesNameFileAndLine() throws IOException {
        Path root = root();
        png(root.resolve("train/a.png"), 0.2f);
        Files.writeString(root.resolve("test.txt"), "");
        Files.writeString(root.resolve("train.txt"), "3 a.png normal rsna\n4 b.png viral rsna\n");
        DataFileException e = assertThrows(DataFileException.class, () -> Covidx.load(root));
        assertTrue(e.getMessage().startsWith("train.txt line 2: expected 'patient_id filename class [source]'"), e.getMessage());
        assertTrue(e.getMessage().endsWith("got '4 b.png viral rsna'"), e.getMessage());
        Files.writeString(root.resolve("train.txt"), "3 a.png normal rsna\n\n5 normal\n");
        e = assertThrows(DataFileException.class, () -> Covidx.load(root));
        assertTrue(e.getMessage().startsWith("train.txt line 3: "), e.getMessage());
        Files.writeString(root.resolve("train.txt"), "3 a.png normal rsna\n");
        assertEquals(1, Covidx.load(root).items().size());
        Files.delete(root.resolve("test.txt"));
        UncheckedIOException io = assertThrows(UncheckedIOException.class, () -> Covidx.load(root));
        assertTrue(io.getMessage().contains("missing test.txt"), io.getMessage());
    }

    @Test
    void missingAndCorruptImagesAreSkippedAndCounted() throws IOException {
        Path root = root();
        png(root.resolve("train/a.png"), 0.2f);
        png(root.resolve("test/c.jpg"), 0.2f);
        byte[] jpg = Files.readAllBytes(root.resolve("test/c.jpg"));
        Files.write(root.resolve("test/c.jpg"), java.util.Arrays.copyOf(jpg, jpg.length / 2)); // truncated JPEG
        Files.writeString(root.resolve("train.txt"), "1 a.png normal x\n2 gone.png pneumonia x\n");
        Files.writeString(root.resolve("test.txt"), "3 c.jpg normal x\n");
        Covidx cx = Covidx.load(root);
        assertEquals("covidx: 2 images (1 train, 1 test; 2 normal, 0 pneumonia, 0 COVID-19), 1 skipped (missing image)", cx.summary());
        assertEquals(1, cx.readAll(cx.items(), 4).size());
        assertEquals(2, cx.skipped());
        assertTrue(cx.skippedReasons().get(1).contains("c.jpg"), cx.skippedReasons().toString());
        assertThrows(CorruptImageException.class, () -> cx.readImage(cx.split("test").get(0), 4));
    }
}
