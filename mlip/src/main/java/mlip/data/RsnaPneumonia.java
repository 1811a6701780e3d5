package mlip.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loader for the RSNA Pneumonia Detection Challenge (stage 2), in its published layout:
 * <pre>
 * ROOT/stage_2_train_labels.csv          patientId,x,y,width,height,Target
 * ROOT/stage_2_train_images/&lt;patientId&gt;.dcm
 * </pre>
 * One image per patientId. A patient with pneumonia has one row per box ({@code Target} 1, box in original-image
 * pixels, upper-left corner plus size); one without has a single row with {@code Target} 0 and empty box cells.
 * DICOMs are read by {@link Dicom} (ImageJ's reader; the JPEG-baseline files RSNA ships through javax.imageio).
 *
 * <p>The split has the proportions GLoRIA and MGCA use, 70/15/15 train/valid/test by patient: patients shuffled
 * with a seed and cut, so it is deterministic and disjoint by patient (the shuffle is ours, not scikit-learn's, so
 * the exact membership differs from theirs). {@link #readMask} rasterises the boxes at the image's own
 * resolution (pixel columns round(x) .. round(x+width)-1, likewise rows; boxes are unioned) and sends the mask through
 * the same {@link Preprocess} geometry as the image.
 *
 * <p>Errors follow {@link MimicCxrJpg}: a malformed row is a {@link DataFileException} naming the file and line; a
 * missing CSV an {@link UncheckedIOException}; a missing DICOM is skipped and counted at load, a corrupt one in
 * {@link #readAll} ({@link #readImage} throws {@link CorruptImageException}).
 *
 * <pre>{@code
 * RsnaPneumonia rsna = RsnaPneumonia.load(Path.of("data/rsna-pneumonia-detection-challenge"), 0L);
 * System.err.println(rsna.summary());   // rsna: 26684 images (18679 train, 4003 valid, 4002 test; 6012 pneumonia), 0 skipped
 * for (RsnaPneumonia.Sample s : rsna.readAll(rsna.split("test"), 224)) { ... s.image() ... s.mask() ... s.item().label() }
 * }</pre>
 */
public final class RsnaPneumonia extends ImageSet<RsnaPneumonia.Item> {

    public static final String LABELS_CSV = "stage_2_train_labels.csv";
    public static final String IMAGES_DIR = "stage_2_train_images";

    /** A box in original-image pixels: upper-left corner (x, y) and size. */
    public record Box(double x, double y, double width, double height) {
    }

    /**
     * One image.
     *
     * @param id    the patientId
     * @param label 1 pneumonia, 0 not
     * @param boxes the pneumonia boxes (empty when label is 0)
     * @param split "train", "valid" or "test"
     */
    public record Item(String id, Path image, int label, List<Box> boxes, String split) implements ImageSet.Item {
    }

    /** A decoded image and its box mask, both (size*size): image in [0,1], mask 0/1. */
    public record Sample(Item item, float[] image, float[] mask) {
    }


    private RsnaPneumonia(Path root, List<Item> items, Skips skips) {
        super(root, items, skips);
    }

    /** {@link #load(Path, long)} with seed 0. */
    public static RsnaPneumonia load(Path root) {
        return load(root, 0L);
    }

    /**
     * Reads the labels CSV (not the images) and splits the patients 70/15/15 with {@code seed}.
     *
     * @throws DataFileException    for a malformed row (bad Target, bad or missing box, a patient with both Target 0 and 1)
     * @throws UncheckedIOException when the CSV is missing or unreadable
     */
    public static RsnaPneumonia load(Path root, long seed) {
        Path csv = root.resolve(LABELS_CSV);
        if (!Files.isRegularFile(csv)) {
            throw new UncheckedIOException(new IOException(root + ": missing " + LABELS_CSV + "; is this the RSNA Pneumonia folder?"));
        }
        Csv.Table t = Csv.read(csv);
        int cId = t.column("patientId");
        int cX = t.column("x");
        int cY = t.column("y");
        int cW = t.column("width");
        int cH = t.column("height");
        int cT = t.column("Target");
        Map<String, Integer> labels = new LinkedHashMap<>(); // first-seen order
        Map<String, List<Box>> boxes = new LinkedHashMap<>();
        for (Csv.Row r : t.rows()) {
            String id = r.get(cId).trim();
            if (id.isEmpty()) {
                throw new DataFileException(csv, r.line(), "empty patientId");
            }
            String target = r.get(cT).trim();
            int label = switch (target) {
                case "0" -> 0;
                case "1" -> 1;
                default -> throw new DataFileException(csv, r.line(), "column 'Target': expected 0 or 1, got '" + target + "'");
            };
            Integer before = labels.putIfAbsent(id, label);
            if (before != null && before != label) {
                throw new DataFileException(csv, r.line(), "patient " + id + " has both Target 0 and Target 1 rows");
            }
            List<Box> list = boxes.computeIfAbsent(id, k -> new ArrayList<>());
            String[] cells = {r.get(cX).trim(), r.get(cY).trim(), r.get(cW).trim(), r.get(cH).trim()};
            if (label == 0) {
                if (!String.join("", cells).isEmpty()) {
                    throw new DataFileException(csv, r.line(), "a Target 0 row must have an empty box, got " + String.join(",", cells));
                }
                continue;
            }
            double[] v = new double[4];
            for (int k = 0; k < 4; k++) {
                try {
                    v[k] = Double.parseDouble(cells[k]);
                } catch (NumberFormatException e) {
                    v[k] = Double.NaN;
                }
                if (!Double.isFinite(v[k]) || v[k] < 0 || (k >= 2 && v[k] == 0)) {
                    throw new DataFileException(csv, r.line(), "column '" + t.header().get(new int[] {cX, cY, cW, cH}[k])
                            + "': a Target 1 row needs a box with x, y >= 0 and width, height > 0, got '" + cells[k] + "'");
                }
            }
            list.add(new Box(v[0], v[1], v[2], v[3]));
        }
        Map<String, String> split = Splits.trainValidTest(new ArrayList<>(labels.keySet()), seed);
        Skips skips = new Skips();
        List<Item> items = new ArrayList<>();
        Path dir = root.resolve(IMAGES_DIR);
        for (Map.Entry<String, Integer> e : labels.entrySet()) {
            Path image = dir.resolve(e.getKey() + ".dcm");
            if (!Files.isRegularFile(image)) {
                skips.skip("missing image", image.toString());
                continue;
            }
            items.add(new Item(e.getKey(), image, e.getValue(), List.copyOf(boxes.get(e.getKey())), split.get(e.getKey())));
        }
        return new RsnaPneumonia(root, Collections.unmodifiableList(items), skips);
    }

    /** e.g. {@code rsna: 120 images (84 train, 18 valid, 18 test; 40 pneumonia), 3 skipped (missing image)}. */
    public String summary() {
        long pos = items.stream().filter(it -> it.label() == 1).count();
        return summaryLine("rsna", pos + " pneumonia", "train", "valid", "test");
    }

    /** The image after {@link Preprocess} at (size x size). @throws CorruptImageException when it cannot be decoded */
    public float[] readImage(Item item, int size) {
        return Preprocess.image(decode(item), size);
    }

    /**
     * The box mask after the same resize and crop as the image (0/1). This decodes the DICOM for its size;
     * {@link #readAll} gets image and mask from one decode.
     *
     * @throws CorruptImageException as readImage
     */
    public float[] readMask(Item item, int size) {
        Images.Gray g = decode(item);
        return Preprocess.mask(boxMask(item.boxes(), g.width(), g.height()), g.width(), g.height(), size);
    }

    /** Image and mask from one decode, in parallel over {@code which}; corrupt images are skipped and counted. */
    public List<Sample> readAll(List<Item> which, int size) {
        return skips.readAll(which, it -> {
            Images.Gray g = decode(it);
            return new Sample(it, Preprocess.image(g, size), Preprocess.mask(boxMask(it.boxes(), g.width(), g.height()), g.width(), g.height(), size));
        });
    }

    /**
     * Boxes rasterised at (width x height): pixel (px, py) is 1 when round(x) <= px < round(x+w) and likewise for y,
     * for any box; clipped to the image.
     *
     * @return (height*width) row-major 0/1
     */
    public static float[] boxMask(List<Box> boxes, int width, int height) {
        float[] m = new float[width * height];
        for (Box b : boxes) {
            int x0 = (int) Math.max(0, Math.round(b.x()));
            int y0 = (int) Math.max(0, Math.round(b.y()));
            int x1 = (int) Math.min(width, Math.round(b.x() + b.width()));
            int y1 = (int) Math.min(height, Math.round(b.y() + b.height()));
            for (int y = y0; y < y1; y++) {
                java.util.Arrays.fill(m, y * width + x0, Math.max(y * width + x0, y * width + x1), 1f);
            }
        }
        return m;
    }

    private static Images.Gray decode(Item item) {
        try {
            return Dicom.read(item.image());
        } catch (IOException e) {
            throw new CorruptImageException(item.image(), e);
        }
    }
}
