package mlip.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CheXpert 5x200 zero-shot evaluation split: 200 images per class, each positive for exactly one of
 * Atelectasis, Cardiomegaly, Consolidation, Edema, Pleural Effusion. Reads SynthCXR's
 * {@code synthcxr-5x200.csv} (Path, the 5 class columns, dicom_id) and the CSV that the field uses for real
 * CheXpert (Path plus label columns — the 5 classes among others; extra columns are ignored).
 *
 * <p>A row must have exactly one of the 5 class columns equal to 1 (1, 1.0); otherwise a
 * {@link DataFileException} names the file and line. Missing image files are skipped and counted.
 * I/O failures are {@link java.io.UncheckedIOException}s.
 *
 * <pre>{@code
 * Chexpert5x200 ev = Chexpert5x200.load(root.resolve("synthcxr-5x200.csv"));
 * for (Chexpert5x200.Item it : ev.items()) { float[] img = MimicCxrJpg.readImage(it.image(), 96); int y = it.label(); }
 * }</pre>
 */
public final class Chexpert5x200 {

    /** Class names, in class-index order. */
    public static final List<String> CLASSES = List.of("Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Pleural Effusion");

    /**
     * One evaluation image.
     *
     * @param label index into {@link #CLASSES}
     * @param id    the dicom_id column when present, else the Path cell
     */
    public record Item(Path image, int label, String id) {
        public String className() {
            return CLASSES.get(label);
        }
    }

    private final List<Item> items;
    private final int skipped;

    private Chexpert5x200(List<Item> items, int skipped) {
        this.items = items;
        this.skipped = skipped;
    }

    /** Loads a 5x200 CSV whose Path cells are relative to the CSV's folder. */
    public static Chexpert5x200 load(Path csv) {
        Path dir = csv.toAbsolutePath().getParent();
        return load(csv, dir);
    }

    /** Loads a 5x200 CSV whose Path cells are relative to {@code imageRoot}. */
    public static Chexpert5x200 load(Path csv, Path imageRoot) {
        Csv.Table t = Csv.read(csv);
        int cPath = t.column("Path");
        int[] cls = new int[CLASSES.size()];
        for (int k = 0; k < cls.length; k++) {
            cls[k] = t.column(CLASSES.get(k));
        }
        int cId = t.columnOrMinus1("dicom_id");
        List<Item> items = new ArrayList<>();
        int skipped = 0;
        for (Csv.Row r : t.rows()) {
            int label = -1;
            for (int k = 0; k < cls.length; k++) {
                float v = ChexpertLabels.parse(r.get(cls[k]), csv, r.line(), CLASSES.get(k));
                if (v == 1f) {
                    if (label >= 0) {
                        throw new DataFileException(csv, r.line(), "positive for both " + CLASSES.get(label) + " and " + CLASSES.get(k)
                                + "; a 5x200 row must have exactly one of " + CLASSES);
                    }
                    label = k;
                }
            }
            if (label < 0) {
                throw new DataFileException(csv, r.line(), "positive for none of " + CLASSES);
            }
            String path = r.get(cPath).trim();
            if (path.isEmpty()) {
                throw new DataFileException(csv, r.line(), "empty Path");
            }
            Path image = imageRoot.resolve(path);
            if (!Files.isRegularFile(image)) {
                skipped++;
                continue;
            }
            items.add(new Item(image, label, cId >= 0 ? r.get(cId) : path));
        }
        return new Chexpert5x200(List.copyOf(items), skipped);
    }

    /** The images, in file order. */
    public List<Item> items() {
        return items;
    }

    /** Rows whose image file was missing. */
    public int skipped() {
        return skipped;
    }

    /** Number of items per class. */
    public int[] classCounts() {
        int[] c = new int[CLASSES.size()];
        items.forEach(it -> c[it.label()]++);
        return c;
    }
}
