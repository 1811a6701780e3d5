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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The RSNA Pneumonia loader and the DICOM reader on a miniature stage-2 tree with hand-written DICOMs. */
class RsnaPneumoniaTest {

    static final String HEADER = "patientId,x,y,width,height,Target";

    @TempDir
    Path dir;

    private Path root() throws IOException {
        Path root = dir.resolve("rsna");
        Files.createDirectories(root.resolve(RsnaPneumonia.IMAGES_DIR));
        return root;
    }

    private static void dcm(Path root, String id, int w, int h) throws IOException {
        int[] px = new int[w * h];
        for (int i = 0; i < px.length; i++) {
            px[i] = (i * 37) % 4096;
        }
        TinyDicom.write(root.resolve(RsnaPneumonia.IMAGES_DIR).resolve(id + ".dcm"), w, h, 16, px, "MONOCHROME2");
    }

    @Test
    void dicomPixelsRoundTripFor8And16BitAndMonochrome1() throws IOException {
        int[] p8 = {0, 51, 102, 255, 7, 200};
        Path f8 = dir.resolve("a8.dcm");
        TinyDicom.write(f8, 3, 2, 8, p8, "MONOCHROME2");
        Images.Gray g = Dicom.read(f8);
        assertEquals(3, g.width());
        assertEquals(2, g.height());
        for (int i = 0; i < 6; i++) {
            assertEquals(p8[i] / 255f, g.pixels()[i], 1e-6f);
        }
        TinyDicom.write(f8, 3, 2, 8, p8, "MONOCHROME1");
        g = Dicom.read(f8);
        for (int i = 0; i < 6; i++) {
            assertEquals(1f - p8[i] / 255f, g.pixels()[i], 1e-6f);
        }
        // 16-bit (12 bits used): min-max normalised, so (p - 100) / (4000 - 100)
        int[] p16 = {100, 1000, 4000, 2050, 300, 3900, 100, 4000};
        Path f16 = dir.resolve("a16.dcm");
        TinyDicom.write(f16, 4, 2, 16, p16, "MONOCHROME2");
        g = Dicom.read(f16);
        assertEquals(4, g.width());
        for (int i = 0; i < 8; i++) {
            assertEquals((p16[i] - 100) / 3900f, g.pixels()[i], 1e-6f);
        }
        TinyDicom.write(f16, 4, 2, 16, p16, "MONOCHROME1");
        g = Dicom.read(f16);
        for (int i = 0; i < 8; i++) {
            assertEquals(1f - (p16[i] - 100) / 3900f, g.pixels()[i], 1e-6f);
        }
    }

    @Test
    void encapsulatedJpegBaselineDicomIsDecoded() throws IOException {
        float[] px = new float[16 * 8];
        for (int i = 0; i < px.length; i++) {
            px[i] = (i % 16) / 15f;
        }
        Path f = dir.resolve("jpeg.dcm");
        TinyDicom.writeJpeg(f, 16, 8, px, "MONOCHROME2");
        Images.Gray g = Dicom.read(f);
        assertEquals(16, g.width());
        assertEquals(8, g.height());
        assertArrayEquals(px, g.pixels(), 0.04f);
        TinyDicom.writeJpeg(f, 16, 8, px, "MONOCHROME1");
        g = Dicom.read(f);
        for (int i = 0; i < px.length; i++) {
            assertEquals(1f - px[i], g.pixels()[i], 0.04f);
        }
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 40)); // fragment cut short: its length runs past the end
        IOException e = assertThrows(IOException.class, () -> Dicom.read(f));
        assertTrue(e.getMessage().contains("jpeg.dcm") && e.getMessage().contains("past the end"), e.getMessage());
    }

    @Test
    void boxesBecomeMasksAtTheImageResolutionAndFollowTheCrop() throws IOException {
        Path root = root();
        dcm(root, "p1", 16, 8); // 16 wide, 8 high: at size 8 it is not resized, columns 4..11 are kept
        dcm(root, "p0", 8, 8);
        Files.writeString(root.resolve(RsnaPneumonia.LABELS_CSV), HEADER + "\n"
                + "p1,6.0,1.0,3.0,2.0,1\n"     // columns 6..8, rows 1..2
                + "p0,,,,,0\n"
                + "p1,0.0,6.0,5.0,2.0,1\n");   // columns 0..4, rows 6..7: only column 4 survives the crop
        RsnaPneumonia rsna = RsnaPneumonia.load(root);
        assertEquals(2, rsna.items().size());
        RsnaPneumonia.Item p1 = rsna.items().get(0);
        assertEquals("p1", p1.id());
        assertEquals(1, p1.label());
        assertEquals(List.of(new RsnaPneumonia.Box(6, 1, 3, 2), new RsnaPneumonia.Box(0, 6, 5, 2)), p1.boxes());
        float[] full = RsnaPneumonia.boxMask(p1.boxes(), 16, 8);
        float[] expectFull = new float[16 * 8];
        for (int y = 1; y <= 2; y++) {
            for (int x = 6; x <= 8; x++) {
                expectFull[y * 16 + x] = 1;
            }
        }
        for (int y = 6; y <= 7; y++) {
            for (int x = 0; x <= 4; x++) {
                expectFull[y * 16 + x] = 1;
            }
        }
        assertArrayEquals(expectFull, full, 0f);
        float[] m = rsna.readMask(p1, 8);
        float[] expect = new float[64];
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                expect[y * 8 + x] = expectFull[y * 16 + x + 4];
            }
        }
        assertArrayEquals(expect, m, 0f);
        // at size 4 the image halves to 8x4 and columns 2..5 are kept: output (row i, col j) averages source rows
        // 2i..2i+1, columns 4+2j..5+2j; box 1 covers half of (0,1) and (1,1), box 2 half of (3,0), a quarter of (0,2)
        assertArrayEquals(new float[] {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, rsna.readMask(p1, 4), 0f);
        float[] image = rsna.readImage(p1, 4);
        assertEquals(16, image.length);
        assertArrayEquals(new float[64], rsna.readMask(rsna.items().get(1), 8), 0f);
        List<RsnaPneumonia.Sample> all = rsna.readAll(rsna.items(), 8);
        assertArrayEquals(expect, all.get(0).mask(), 0f);
        assertArrayEquals(rsna.readImage(p1, 8), all.get(0).image(), 0f);
    }

    @Test
    void splitIsSeededSeventyFifteenFifteenAndDisjointByPatient() throws IOException {
        Path root = root();
        StringBuilder csv = new StringBuilder(HEADER + "\n");
        for (int i = 0; i < 120; i++) {
            String id = "pat-" + i;
            dcm(root, id, 4, 4);
            if (i % 3 == 0) {
                csv.append(id).append(",1,1,2,2,1\n").append(id).append(",0,0,1,1,1\n"); // two boxes
            } else {
                csv.append(id).append(",,,,,0\n");
            }
        }
        Files.writeString(root.resolve(RsnaPneumonia.LABELS_CSV), csv);
        RsnaPneumonia a = RsnaPneumonia.load(root, 5L);
        assertEquals("rsna: 120 images (84 train, 18 valid, 18 test; 40 pneumonia), 0 skipped", a.summary());
        Map<String, String> where = new HashMap<>();
        for (RsnaPneumonia.Item it : a.items()) {
            assertEquals(null, where.put(it.id(), it.split()), "patient listed twice: " + it.id());
            assertEquals(Integer.parseInt(it.id().substring(4)) % 3 == 0 ? 2 : 0, it.boxes().size());
        }
        assertEquals(a.items(), RsnaPneumonia.load(root, 5L).items());
        RsnaPneumonia b = RsnaPneumonia.load(root, 6L);
        assertNotEquals(a.split("test"), b.split("test"));
        assertEquals(18, b.split("test").size());
        List<String> inTrain = new ArrayList<>(a.split("train").stream().map(RsnaPneumonia.Item::id).toList());
        inTrain.retainAll(a.split("test").stream().map(RsnaPneumonia.Item::id).toList());
        assertTrue(inTrain.isEmpty());
    }

    @Test
    void missingAndCorruptDicomsAreSkippedAndCounted() throws IOException {
        Path root = root();
        StringBuilder csv = new StringBuilder(HEADER + "\n");
        for (int i = 0; i < 6; i++) {
            dcm(root, "p" + i, 4, 4);
            csv.append("p").append(i).append(",,,,,0\n");
        }
        Files.writeString(root.resolve(RsnaPneumonia.LABELS_CSV), csv);
        Path images = root.resolve(RsnaPneumonia.IMAGES_DIR);
        Files.delete(images.resolve("p0.dcm"));
        Files.writeString(images.resolve("p1.dcm"), "garbage bytes, no DICM preamble at all");
        byte[] ok = Files.readAllBytes(images.resolve("p2.dcm"));
        Files.write(images.resolve("p2.dcm"), java.util.Arrays.copyOf(ok, ok.length - 6)); // truncated pixel data
        RsnaPneumonia rsna = RsnaPneumonia.load(root);
        assertEquals(5, rsna.items().size());
        assertEquals(1, rsna.skipped());
        assertTrue(rsna.summary().endsWith("1 skipped (missing image)"), rsna.summary());
        List<RsnaPneumonia.Sample> s = rsna.readAll(rsna.items(), 4);
        assertEquals(3, s.size());
        assertEquals(3, rsna.skipped());
        assertTrue(rsna.summary().endsWith("3 skipped (2 corrupt image, 1 missing image)"), rsna.summary());
        assertTrue(rsna.skippedReasons().stream().anyMatch(r -> r.contains("p2.dcm") && r.contains("truncated")), rsna.skippedReasons().toString());
        CorruptImageException e = assertThrows(CorruptImageException.class, () -> rsna.readImage(rsna.items().get(0), 4));
        assertTrue(e.getMessage().contains("p1.dcm") && e.getMessage().contains("DICM"), e.getMessage());
    }

    @Test
    void malformedRowsNameFileAndLine() throws IOException {
        Path root = root();
        Path csv = root.resolve(RsnaPneumonia.LABELS_CSV);
        Files.writeString(csv, HEADER + "\np0,,,,,0\np1,1,1,2,2,2\n");
        DataFileException e = assertThrows(DataFileException.class, () -> RsnaPneumonia.load(root));
        assertEquals("stage_2_train_labels.csv line 3: column 'Target': expected 0 or 1, got '2'", e.getMessage());
        Files.writeString(csv, HEADER + "\np0,,,,,0\np1,1,,2,2,1\n");
        e = assertThrows(DataFileException.class, () -> RsnaPneumonia.load(root));
        assertTrue(e.getMessage().startsWith("stage_2_train_labels.csv line 3: column 'y': a Target 1 row needs a box"), e.getMessage());
        Files.writeString(csv, HEADER + "\np1,1,1,2,2,1\np1,,,,,0\n");
        e = assertThrows(DataFileException.class, () -> RsnaPneumonia.load(root));
        assertEquals("stage_2_train_labels.csv line 3: patient p1 has both Target 0 and Target 1 rows", e.getMessage());
        Files.writeString(csv, HEADER + "\np1,1,1,2,1\n");
        e = assertThrows(DataFileException.class, () -> RsnaPneumonia.load(root));
        assertEquals("stage_2_train_labels.csv line 2: expected 6 columns, got 5", e.getMessage());
        Files.delete(csv);
        UncheckedIOException io = assertThrows(UncheckedIOException.class, () -> RsnaPneumonia.load(root));
        assertTrue(io.getMessage().contains("missing stage_2_train_labels.csv"), io.getMessage());
    }
}
