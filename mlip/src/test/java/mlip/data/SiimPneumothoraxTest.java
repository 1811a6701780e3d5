package mlip.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SIIM-ACR loader on a miniature tree (nested DICOM folders, the real "ImageId, EncodedPixels" header). */
class SiimPneumothoraxTest {

    static final String HEADER = "ImageId, EncodedPixels";

    @TempDir
    Path dir;

    /** Writes a w x h 8-bit DICOM at dicom-images-train/&lt;study&gt;/&lt;series&gt;/&lt;id&gt;.dcm. */
    private static void dcm(Path root, String id, int w, int h) throws IOException {
        Path folder = root.resolve(SiimPneumothorax.IMAGES_DIR).resolve("1.2.276.0." + id.hashCode()).resolve("1.2.276.0.1." + id.length());
        Files.createDirectories(folder);
        int[] px = new int[w * h];
        for (int i = 0; i < px.length; i++) {
            px[i] = (i * 11) % 256;
        }
        TinyDicom.write(folder.resolve(id + ".dcm"), w, h, 8, px, "MONOCHROME2");
    }

    @Test
    void rleDecodesWithRelativeStartsInColumnMajorOrder() {
        // 4 wide x 3 high, pixels numbered down the columns: p -> (x = p / 3, y = p % 3).
        // Run 1: start 1, length 2 -> pixels 1, 2. Run 2: start 3 after the end (3) -> pixel 6, length 4 -> 6..9.
        float[] m = SiimPneumothorax.decodeRle(new int[] {1, 2, 3, 4}, 4, 3);
        assertArrayEquals(new float[] {
            0, 0, 1, 1,   // y = 0: pixels 0, 3, 6, 9
            1, 0, 1, 0,   // y = 1: pixels 1, 4, 7, 10
            1, 0, 1, 0},  // y = 2: pixels 2, 5, 8, 11
            m, 0f);
        // a zero relative start continues right after the previous run
        assertArrayEquals(SiimPneumothorax.decodeRle(new int[] {0, 5}, 4, 3), SiimPneumothorax.decodeRle(new int[] {0, 2, 0, 3}, 4, 3), 0f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SiimPneumothorax.decodeRle(new int[] {10, 3}, 4, 3));
        assertTrue(e.getMessage().contains("past the 4x3 image"), e.getMessage());
    }

    @Test
    void severalRowsUnionAndMasksUseTheDicomSize() throws IOException {
        Path root = dir.resolve("siim");
        dcm(root, "1.2.276.0.7230010.3.1.4.8323329.1", 4, 4);
        dcm(root, "1.2.276.0.7230010.3.1.4.8323329.2", 4, 4);
        Files.writeString(root.resolve(SiimPneumothorax.RLE_CSV), HEADER + "\n"
                + "1.2.276.0.7230010.3.1.4.8323329.1, 0 2\n"          // column 0, rows 0..1
                + "1.2.276.0.7230010.3.1.4.8323329.2, -1\n"
                + "1.2.276.0.7230010.3.1.4.8323329.1, 13 3\n");       // pixels 13..15: column 3, rows 1..3
        SiimPneumothorax siim = SiimPneumothorax.load(root, false, 0L);
        assertEquals(2, siim.items().size());
        SiimPneumothorax.Item pos = siim.items().get(0);
        assertEquals(1, pos.label());
        assertEquals(2, pos.masks().size());
        assertEquals(0, siim.items().get(1).label());
        assertTrue(pos.image().toString().contains("1.2.276.0."), pos.image().toString());
        assertArrayEquals(new float[] {
            1, 0, 0, 0,
            1, 0, 0, 1,
            0, 0, 0, 1,
            0, 0, 0, 1}, siim.readMask(pos, 4), 0f);
        assertArrayEquals(new float[16], siim.readMask(siim.items().get(1), 4), 0f);
        float[] img = siim.readImage(pos, 4);
        assertEquals(11 / 255f, img[1], 1e-6f);
        List<SiimPneumothorax.Sample> s = siim.readAll(siim.items(), 2);
        assertArrayEquals(new float[] {1, 0, 0, 1}, s.get(0).mask(), 0f); // 2x2 blocks covered 2/4, 1/4, 0, 2/4
    }

    @Test
    void balancedSelectionKeepsAllPositivesAndIsSeeded() throws IOException {
        Path root = dir.resolve("siim");
        StringBuilder csv = new StringBuilder(HEADER + "\n");
        for (int i = 0; i < 30; i++) {
            String id = "img" + i;
            dcm(root, id, 4, 4);
            csv.append(id).append(i < 10 ? ", 1 2" : ", -1").append('\n');
        }
        Files.writeString(root.resolve(SiimPneumothorax.RLE_CSV), csv);
        SiimPneumothorax a = SiimPneumothorax.load(root, true, 3L);
        assertEquals(20, a.items().size());
        assertEquals(10, a.items().stream().filter(it -> it.label() == 1).count());
        assertEquals("siim: 20 images (14 train, 3 valid, 3 test; 10 pneumothorax), 0 skipped", a.summary());
        Set<String> ids = new HashSet<>();
        a.items().forEach(it -> assertTrue(ids.add(it.id())));
        assertEquals(idsAndSplits(a), idsAndSplits(SiimPneumothorax.load(root, true, 3L)));
        SiimPneumothorax b = SiimPneumothorax.load(root, true, 4L);
        assertNotEquals(a.items().stream().filter(it -> it.label() == 0).map(SiimPneumothorax.Item::id).toList(),
                b.items().stream().filter(it -> it.label() == 0).map(SiimPneumothorax.Item::id).toList());
        assertNotEquals(idsAndSplits(SiimPneumothorax.load(root, false, 3L)), idsAndSplits(SiimPneumothorax.load(root, false, 4L)));
        SiimPneumothorax all = SiimPneumothorax.load(root, false, 3L);
        assertEquals(30, all.items().size());
        assertEquals(21, all.split("train").size());
    }

    private static List<String> idsAndSplits(SiimPneumothorax s) {
        return s.items().stream().map(it -> it.id() + "/" + it.split()).toList();
    }

    @Test
    void missingAndCorruptImagesAreSkippedAndCounted() throws IOException {
        Path root = dir.resolve("siim");
        dcm(root, "a", 4, 4);
        dcm(root, "b", 4, 4);
        Files.writeString(root.resolve(SiimPneumothorax.RLE_CSV), HEADER + "\na, -1\nb, 0 3\ngone, 1 1\n");
        try (var s = Files.walk(root)) {
            Path b = s.filter(p -> p.getFileName().toString().equals("b.dcm")).findFirst().orElseThrow();
            Files.write(b, new byte[300]); // zeros: no DICM at offset 128
        }
        SiimPneumothorax siim = SiimPneumothorax.load(root, false, 0L);
        assertEquals(2, siim.items().size());
        assertTrue(siim.summary().endsWith("1 skipped (missing image)"), siim.summary());
        assertTrue(siim.skippedReasons().get(0).contains("gone.dcm"), siim.skippedReasons().toString());
        assertEquals(1, siim.readAll(siim.items(), 4).size());
        assertEquals(2, siim.skipped());
        assertTrue(siim.summary().endsWith("2 skipped (1 corrupt image, 1 missing image)"), siim.summary());
    }

    @Test
    void malformedRowsNameFileAndLine() throws IOException {
        Path root = dir.resolve("siim");
        dcm(root, "a", 4, 4);
        Path csv = root.resolve(SiimPneumothorax.RLE_CSV);
        Files.writeString(csv, HEADER + "\na, -1\na, 5 2 7\n");
        DataFileException e = assertThrows(DataFileException.class, () -> SiimPneumothorax.load(root));
        assertEquals("train-rle.csv line 3: column 'EncodedPixels': expected (start, length) pairs or -1, got 3 numbers", e.getMessage());
        Files.writeString(csv, HEADER + "\na, 5 x\n");
        e = assertThrows(DataFileException.class, () -> SiimPneumothorax.load(root));
        assertTrue(e.getMessage().startsWith("train-rle.csv line 2: column 'EncodedPixels': bad run value 'x'"), e.getMessage());
        // syntactically fine but outside the 4x4 DICOM: found when the mask is read, still with file and line
        Files.writeString(csv, HEADER + "\na, -1\na, 10 9\n");
        SiimPneumothorax siim = SiimPneumothorax.load(root, false, 0L);
        e = assertThrows(DataFileException.class, () -> siim.readMask(siim.items().get(0), 4));
        assertTrue(e.getMessage().startsWith("train-rle.csv line 3: column 'EncodedPixels' of a: run 1 ends at pixel 19"), e.getMessage());
        Files.delete(csv);
        UncheckedIOException io = assertThrows(UncheckedIOException.class, () -> SiimPneumothorax.load(root));
        assertTrue(io.getMessage().contains("missing train-rle.csv"), io.getMessage());
    }
}
