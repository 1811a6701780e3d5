package mlip.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import mlip.data.synth.SynthCxr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Error handling of the MIMIC-CXR-JPG loader and its CSV/image helpers, on small trees in a temp dir. */
class MimicCxrJpgTest {

    @TempDir
    Path dir;

    private Path smallLayout() throws IOException {
        SynthCxr.write(dir, SynthCxr.Options.defaults().withStudies(12).withSize(32).withSeed(5L).withEvalPerClass(1).withValidateFraction(0).withProgress(false));
        return dir;
    }

    @Test
    void malformedSplitLineNamesFileAndLine() throws IOException {
        Path root = smallLayout();
        Path split = root.resolve(MimicCxrJpg.SPLIT_CSV);
        List<String> lines = Files.readAllLines(split);
        lines.set(5, lines.get(5).substring(0, lines.get(5).lastIndexOf(','))); // drop the split column
        Files.write(split, lines);
        DataFileException e = assertThrows(DataFileException.class, () -> MimicCxrJpg.load(root));
        assertEquals("mimic-cxr-2.0.0-split.csv line 6: expected 4 columns, got 3", e.getMessage());
        assertEquals(6, e.line());
    }

    @Test
    void badLabelAndBadIdNameFileAndLine() throws IOException {
        Path root = smallLayout();
        Path chex = root.resolve(MimicCxrJpg.CHEXPERT_CSV);
        List<String> lines = Files.readAllLines(chex);
        lines.set(3, lines.get(3).replaceFirst(",,", ",maybe,"));
        Files.write(chex, lines);
        DataFileException e = assertThrows(DataFileException.class, () -> MimicCxrJpg.load(root));
        assertTrue(e.getMessage().startsWith("mimic-cxr-2.0.0-chexpert.csv line 4: column '"), e.getMessage());
        assertTrue(e.getMessage().contains("got 'maybe'"), e.getMessage());

        lines.set(3, lines.get(3).replace(",maybe,", ",,"));
        Files.write(chex, lines);
        Path split = root.resolve(MimicCxrJpg.SPLIT_CSV);
        List<String> s = Files.readAllLines(split);
        String[] cells = s.get(2).split(",");
        s.set(2, cells[0] + ",abc," + cells[2] + "," + cells[3]);
        Files.write(split, s);
        e = assertThrows(DataFileException.class, () -> MimicCxrJpg.load(root));
        assertEquals("mimic-cxr-2.0.0-split.csv line 3: column 'study_id': expected an 8-digit id, got 'abc'", e.getMessage());
    }

    @Test
    void missingColumnAndMissingFileAreClear() throws IOException {
        Path root = smallLayout();
        Path split = root.resolve(MimicCxrJpg.SPLIT_CSV);
        List<String> lines = Files.readAllLines(split);
        lines.set(0, "dicom_id,study,subject_id,split");
        Files.write(split, lines);
        DataFileException e = assertThrows(DataFileException.class, () -> MimicCxrJpg.load(root));
        assertTrue(e.getMessage().startsWith("mimic-cxr-2.0.0-split.csv line 1: missing column 'study_id'"), e.getMessage());
        Files.delete(split);
        java.io.UncheckedIOException io = assertThrows(java.io.UncheckedIOException.class, () -> MimicCxrJpg.load(root));
        assertTrue(io.getMessage().contains("missing mimic-cxr-2.0.0-split.csv"), io.getMessage());
    }

    @Test
    void corruptOrTruncatedJpegIsSkippedAndCounted() throws IOException {
        Path root = smallLayout();
        MimicCxrJpg data = MimicCxrJpg.load(root);
        int n = data.studies().size();
        List<Study> st = data.studies();
        Files.write(st.get(2).image(), "this is not a JPEG".getBytes());
        byte[] jpg = Files.readAllBytes(st.get(4).image());
        Files.write(st.get(4).image(), Arrays.copyOf(jpg, jpg.length / 2)); // truncated
        Files.write(st.get(6).report(), new byte[] {(byte) 0xff, (byte) 0xfe, 0x41}); // not UTF-8
        List<MimicCxrJpg.Sample> samples = data.readAll(32);
        assertEquals(n - 3, samples.size());
        assertEquals(3, data.skipped());
        assertEquals(3, data.skippedReasons().size());
        assertTrue(data.skippedReasons().stream().anyMatch(r -> r.contains("corrupt image") && r.contains(st.get(2).dicomId())));
        assertThrows(java.io.UncheckedIOException.class, () -> MimicCxrJpg.readImage(st.get(2).image(), 32));
    }

    @Test
    void missingImageOrReportIsSkippedAtLoad() throws IOException {
        Path root = smallLayout();
        List<Study> st = MimicCxrJpg.load(root).studies();
        Files.delete(st.get(0).image());
        Files.delete(st.get(1).report());
        MimicCxrJpg data = MimicCxrJpg.load(root);
        assertEquals(st.size() - 2, data.studies().size());
        assertEquals(2, data.skipped());
    }

    @Test
    void gzippedCsvsAndRealMimicColumnsLoad() throws IOException {
        // a miniature of the real layout: gzipped CSVs, extra metadata columns, an uncertain label, a lateral view
        Path root = dir.resolve("mimic");
        String dicomPa = "02aa804e-bde0afdd-112c0b34-7bc16630-4e384014";
        String dicomLat = "174413ec-4ec4c1f7-34ea26b7-c5f994f8-79ef1962";
        Path study = root.resolve("files/p10/p10000032/s50414267");
        Files.createDirectories(study);
        float[] px = new float[40 * 30];
        for (int i = 0; i < px.length; i++) {
            px[i] = (i % 40) / 39f;
        }
        Files.write(study.resolve(dicomPa + ".jpg"), Images.encodeJpeg(px, 40, 30, 0.95f));
        Files.write(study.resolve(dicomLat + ".jpg"), Images.encodeJpeg(px, 40, 30, 0.95f));
        Files.writeString(root.resolve("files/p10/p10000032/s50414267.txt"), "FINDINGS: No acute process.\n");
        gz(root.resolve("mimic-cxr-2.0.0-split.csv.gz"), "dicom_id,study_id,subject_id,split\n"
                + dicomPa + ",50414267,10000032,train\n" + dicomLat + ",50414267,10000032,train\n");
        gz(root.resolve("mimic-cxr-2.0.0-chexpert.csv.gz"), "subject_id,study_id," + String.join(",", ChexpertLabels.MIMIC_CSV_ORDER) + "\n"
                + "10000032,50414267,,,,-1.0,,,,,1.0,,,,0.0,\n");
        gz(root.resolve("mimic-cxr-2.0.0-metadata.csv.gz"), "dicom_id,subject_id,study_id,PerformedProcedureStepDescription,ViewPosition,Rows,Columns\n"
                + dicomPa + ",10000032,50414267,\"CHEST (PA AND LAT)\",PA,30,40\n"
                + dicomLat + ",10000032,50414267,\"CHEST (PA AND LAT)\",LATERAL,30,40\n");
        MimicCxrJpg all = MimicCxrJpg.load(root);
        assertEquals(2, all.studies().size());
        MimicCxrJpg pa = MimicCxrJpg.load(root, root, java.util.Set.of("PA", "AP"));
        assertEquals(1, pa.studies().size());
        Study s = pa.studies().get(0);
        assertEquals(dicomPa, s.dicomId());
        assertEquals(-1f, s.labels14()[ChexpertLabels.EDEMA]);
        assertEquals(1f, s.labels14()[ChexpertLabels.NO_FINDING]);
        assertEquals(0f, s.labels14()[ChexpertLabels.PNEUMOTHORAX]);
        assertTrue(Float.isNaN(s.labels14()[ChexpertLabels.ATELECTASIS]));
        // 40x30 center-cropped to 30x30 (columns 5..34), then area-resized to 15x15
        float[] img = MimicCxrJpg.readImage(s.image(), 15);
        assertEquals((5 + 6) / 2f / 39f, img[0], 0.02);
        assertEquals((33 + 34) / 2f / 39f, img[14], 0.02);
    }

    private static void gz(Path file, String text) throws IOException {
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    @Test
    void csvHandlesQuotesNewlinesAndReportsLines() throws IOException {
        Path f = dir.resolve("q.csv");
        Files.writeString(f, "a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n\n2,\"two\nlines\",z\n3,4\n");
        DataFileException e = assertThrows(DataFileException.class, () -> Csv.read(f));
        assertEquals("q.csv line 6: expected 3 columns, got 2", e.getMessage());
        Files.writeString(f, "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"two\nlines\",z\r\n");
        Csv.Table t = Csv.read(f);
        assertEquals(List.of("a", "b", "c"), t.header());
        assertArrayEquals(new String[] {"1", "x, y", "say \"hi\""}, t.rows().get(0).cells());
        assertArrayEquals(new String[] {"2", "two\nlines", "z"}, t.rows().get(1).cells());
        assertEquals(3, t.rows().get(1).line());
        assertEquals("\"x, y\"", Csv.quote("x, y"));
    }

    @Test
    void squareResizeAveragesAreasAndEnlargesBilinearly() {
        float[] src = new float[6 * 4]; // 6 wide, 4 high: crop columns 1..4
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 6; x++) {
                src[y * 6 + x] = x * 10 + y;
            }
        }
        float[] half = Images.squareResize(src, 6, 4, 2);
        assertArrayEquals(new float[] {15.5f, 35.5f, 17.5f, 37.5f}, half, 1e-4f);
        float[] same = Images.squareResize(src, 6, 4, 4);
        assertEquals(10f, same[0]);
        assertEquals(43f, same[15]);
        float[] third = Images.squareResize(new float[] {0, 3, 6, 0, 3, 6, 0, 3, 6}, 3, 3, 2); // 1.5 input px per output
        assertEquals((0 + 3 * 0.5) / 1.5, third[0], 1e-5);
        float[] up = Images.squareResize(new float[] {0, 1, 0, 1}, 2, 2, 4);
        assertArrayEquals(new float[] {0, 0.25f, 0.75f, 1}, Arrays.copyOfRange(up, 0, 4), 1e-6f);
    }
}
