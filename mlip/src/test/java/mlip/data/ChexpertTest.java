package mlip.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CheXpert loader and its 5x200 builder on a miniature CheXpert-v1.0-small tree written here. */
class ChexpertTest {

    static final String HEADER = "Path,Sex,Age,Frontal/Lateral,AP/PA," + String.join(",", ChexpertLabels.LABELS);

    @TempDir
    Path dir;

    /** One CSV row and its image: labels given as label-name=value pairs, the rest blank. */
    private static String row(Path root, String path, String view, String... labels) throws IOException {
        String[] cells = new String[ChexpertLabels.COUNT];
        java.util.Arrays.fill(cells, "");
        for (String l : labels) {
            String[] kv = l.split("=");
            cells[ChexpertLabels.index(kv[0])] = kv[1];
        }
        Path image = Chexpert.resolve(root, path);
        Files.createDirectories(image.getParent());
        float[] px = new float[6 * 4];
        java.util.Arrays.fill(px, 0.5f);
        Files.write(image, Images.encodeJpeg(px, 6, 4, 0.9f));
        return path + ",Female,68," + view + "," + (view.equals("Frontal") ? "AP" : "") + "," + String.join(",", cells);
    }

    private Path tree(List<String> train, List<String> valid) throws IOException {
        Path root = dir.resolve("CheXpert-v1.0-small");
        Files.createDirectories(root);
        Files.writeString(root.resolve("train.csv"), HEADER + "\n" + String.join("\n", train) + "\n");
        Files.writeString(root.resolve("valid.csv"), HEADER + "\n" + String.join("\n", valid) + "\n");
        return root;
    }

    @Test
    void readsBothPathStylesLabelsAndViews() throws IOException {
        Path root = dir.resolve("CheXpert-v1.0-small");
        List<String> train = List.of(
                row(root, "CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg", "Frontal", "Edema=1.0", "Cardiomegaly=-1.0", "Fracture=0.0"),
                row(root, "CheXpert-v1.0-small/train/patient00001/study1/view2_lateral.jpg", "Lateral", "Edema=1.0"),
                row(root, "train/patient00002/study1/view1_frontal.jpg", "Frontal", "No Finding=1.0"));
        List<String> valid = List.of(row(root, "CheXpert-v1.0-small/valid/patient64541/study1/view1_frontal.jpg", "Frontal", "Atelectasis=1.0"));
        tree(train, valid);
        Chexpert all = Chexpert.load(root);
        assertEquals(4, all.items().size());
        assertEquals("chexpert: 4 images (3 train, 1 valid), 0 skipped", all.summary());
        Chexpert.Item first = all.items().get(0);
        assertEquals(root.resolve("train/patient00001/study1/view1_frontal.jpg"), first.image());
        assertEquals(dir.resolve("CheXpert-v1.0-small/train/patient00002/study1/view1_frontal.jpg"), all.items().get(2).image());
        assertEquals("patient00001", first.patient());
        assertEquals(68, first.age());
        assertEquals("AP", first.view());
        assertTrue(first.frontal());
        assertFalse(all.items().get(1).frontal());
        assertEquals(1f, first.labels14()[ChexpertLabels.EDEMA]);
        assertEquals(0f, first.labels14()[ChexpertLabels.index("Fracture")]);
        assertEquals(-1f, first.raw14()[ChexpertLabels.CARDIOMEGALY]);
        assertTrue(Float.isNaN(first.labels14()[ChexpertLabels.ATELECTASIS])); // blank
        assertEquals(List.of("valid"), all.split("valid").stream().map(Chexpert.Item::split).toList());
        assertEquals(3, Chexpert.load(root, Chexpert.UncertainPolicy.IGNORE, true).items().size());
        // the same tree loads under a renamed folder: the leading CheXpert-v1.0-small segment is dropped
        Path renamed = dir.resolve("chexpert");
        Files.move(root, renamed);
        assertEquals(4, Chexpert.load(renamed).items().size());
        assertEquals(0, Chexpert.load(renamed).skipped());
    }

    @Test
    void uncertainPoliciesMapMinusOneOnly() throws IOException {
        Path root = dir.resolve("CheXpert-v1.0-small");
        tree(List.of(row(root, "CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg", "Frontal",
                "Edema=-1.0", "Cardiomegaly=1.0", "Fracture=0.0")), List.of());
        int e = ChexpertLabels.EDEMA;
        int c = ChexpertLabels.CARDIOMEGALY;
        int f = ChexpertLabels.index("Fracture");
        int a = ChexpertLabels.ATELECTASIS; // blank
        for (Chexpert.UncertainPolicy p : Chexpert.UncertainPolicy.values()) {
            Chexpert.Item it = Chexpert.load(root, p, false).items().get(0);
            float expect = switch (p) {
                case ZEROS -> 0f;
                case ONES -> 1f;
                case IGNORE -> Float.NaN;
            };
            assertEquals(expect, it.labels14()[e], p.name());
            assertEquals(1f, it.labels14()[c], p.name());
            assertEquals(0f, it.labels14()[f], p.name());
            assertTrue(Float.isNaN(it.labels14()[a]), p.name());
            assertEquals(-1f, it.raw14()[e], p.name());
        }
    }

    @Test
    void malformedRowsNameFileAndLineAndMissingCsvIsNamed() throws IOException {
        Path root = dir.resolve("CheXpert-v1.0-small");
        String good = row(root, "CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg", "Frontal", "Edema=1.0");
        tree(List.of(good, good.replace(",1.0,", ",yes,")), List.of());
        DataFileException ex = assertThrows(DataFileException.class, () -> Chexpert.load(root));
        assertTrue(ex.getMessage().startsWith("train.csv line 3: column 'Edema'"), ex.getMessage());
        tree(List.of(good, good.replace("Frontal", "Sideways")), List.of());
        ex = assertThrows(DataFileException.class, () -> Chexpert.load(root));
        assertTrue(ex.getMessage().startsWith("train.csv line 3: column 'Frontal/Lateral'"), ex.getMessage());
        tree(List.of(good), List.of(good.substring(0, good.lastIndexOf(','))));
        ex = assertThrows(DataFileException.class, () -> Chexpert.load(root));
        assertEquals("valid.csv line 2: expected 19 columns, got 18", ex.getMessage());
        Files.delete(root.resolve("valid.csv"));
        UncheckedIOException io = assertThrows(UncheckedIOException.class, () -> Chexpert.load(root));
        assertTrue(io.getMessage().contains("missing valid.csv"), io.getMessage());
    }

    @Test
    void missingImageAtLoadAndCorruptImageAtReadAreSkippedAndCounted() throws IOException {
        Path root = dir.resolve("CheXpert-v1.0-small");
        List<String> train = new ArrayList<>();
        for (int p = 1; p <= 4; p++) {
            train.add(row(root, "CheXpert-v1.0-small/train/patient0000" + p + "/study1/view1_frontal.jpg", "Frontal", "Edema=1.0"));
        }
        tree(train, List.of());
        Files.delete(root.resolve("train/patient00002/study1/view1_frontal.jpg"));
        Files.writeString(root.resolve("train/patient00003/study1/view1_frontal.jpg"), "garbage, not a JPEG");
        Chexpert cx = Chexpert.load(root);
        assertEquals(3, cx.items().size());
        assertEquals("chexpert: 3 images (3 train, 0 valid), 1 skipped (missing image)", cx.summary());
        List<Chexpert.Sample> s = cx.readAll(cx.items(), 4);
        assertEquals(2, s.size());
        assertEquals(16, s.get(0).image().length);
        assertEquals(0.5f, s.get(0).image()[5], 0.03f);
        assertEquals(2, cx.skipped());
        assertEquals("chexpert: 3 images (3 train, 0 valid), 2 skipped (1 corrupt image, 1 missing image)", cx.summary());
        assertTrue(cx.skippedReasons().get(1).startsWith("corrupt image ") && cx.skippedReasons().get(1).contains("patient00003"), cx.skippedReasons().toString());
        CorruptImageException e = assertThrows(CorruptImageException.class, () -> cx.readImage(cx.items().get(1), 4));
        assertEquals(root.resolve("train/patient00003/study1/view1_frontal.jpg"), e.file());
    }

    /** A train.csv with 4 single-positive frontal candidates per class and distractors that must never be chosen. */
    private Path fiveClassTree() throws IOException {
        Path root = dir.resolve("CheXpert-v1.0-small");
        List<String> train = new ArrayList<>();
        int p = 0;
        for (String cls : Chexpert5x200.CLASSES) {
            for (int k = 0; k < 4; k++) {
                // another 5-class label uncertain or negative, and a non-5-class positive, do not disqualify
                train.add(row(root, String.format("CheXpert-v1.0-small/train/patient%05d/study1/view1_frontal.jpg", ++p), "Frontal",
                        cls + "=1.0", (cls.equals("Edema") ? "Atelectasis" : "Edema") + "=" + (k % 2 == 0 ? "-1.0" : "0.0"), "Support Devices=1.0"));
            }
        }
        train.add(row(root, "CheXpert-v1.0-small/train/patient09001/study1/view1_frontal.jpg", "Frontal", "Edema=1.0", "Atelectasis=1.0"));
        train.add(row(root, "CheXpert-v1.0-small/train/patient09002/study1/view2_lateral.jpg", "Lateral", "Edema=1.0"));
        train.add(row(root, "CheXpert-v1.0-small/train/patient09003/study1/view1_frontal.jpg", "Frontal", "Edema=-1.0"));
        train.add(row(root, "CheXpert-v1.0-small/train/patient09004/study1/view1_frontal.jpg", "Frontal", "Pneumonia=1.0"));
        List<String> valid = List.of(row(root, "CheXpert-v1.0-small/valid/patient64541/study1/view1_frontal.jpg", "Frontal", "Edema=1.0"));
        return tree(train, valid);
    }

    @Test
    void fiveByNBuilderPicksSingleFrontalPositivesSeeded() throws IOException {
        Path root = fiveClassTree();
        Chexpert cx = Chexpert.load(root, Chexpert.UncertainPolicy.ONES, false); // the policy must not matter
        List<Chexpert.Item> a = cx.select5x200(3, 7L);
        assertEquals(15, a.size());
        Set<String> distinct = new HashSet<>();
        for (int i = 0; i < a.size(); i++) {
            Chexpert.Item it = a.get(i);
            assertTrue(it.frontal() && it.split().equals("train"), it.id());
            assertTrue(Integer.parseInt(it.patient().substring(7)) <= 20, "a distractor was chosen: " + it.id());
            int cls = ChexpertLabels.index(Chexpert5x200.CLASSES.get(i / 3));
            assertEquals(1f, it.raw14()[cls], it.id());
            distinct.add(it.id());
        }
        assertEquals(15, distinct.size());
        assertEquals(a, cx.select5x200(3, 7L));
        assertNotEquals(a, cx.select5x200(3, 8L));

        Path csv = cx.write5x200(dir.resolve("out/chexpert_5x3.csv"), 3, 7L);
        Chexpert5x200 ev = Chexpert5x200.load(csv, root);
        assertEquals(0, ev.skipped());
        assertArrayEquals(new int[] {3, 3, 3, 3, 3}, ev.classCounts());
        for (int i = 0; i < 15; i++) {
            assertEquals(a.get(i).image(), ev.items().get(i).image());
            assertEquals(i / 3, ev.items().get(i).label());
        }
    }

    @Test
    void fiveByNBuilderSaysWhichClassIsShort() throws IOException {
        Chexpert cx = Chexpert.load(fiveClassTree());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cx.select5x200(5, 0L));
        assertTrue(e.getMessage().contains("class Atelectasis has only 4"), e.getMessage());
        assertTrue(e.getMessage().contains("5 requested"), e.getMessage());
        assertTrue(e.getMessage().contains("[4, 4, 4, 4, 4]"), e.getMessage());
    }
}
