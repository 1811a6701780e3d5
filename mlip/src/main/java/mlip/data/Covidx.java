package mlip.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Loader for COVIDx (COVID-Net's chest X-ray set), in its published layout:
 * <pre>
 * ROOT/train.txt    patient_id filename class [source]     (space-separated, no header)
 * ROOT/test.txt     same
 * ROOT/train/&lt;filename&gt;   ROOT/test/&lt;filename&gt;     (PNG or JPEG)
 * </pre>
 * Class is one of {@code normal}, {@code pneumonia}, {@code COVID-19} ({@link #CLASSES}, matched ignoring case).
 * Older releases have three columns (no source), newer ones four; both are read. The class is found from the end
 * of the line (last or second-to-last token) and the filename is everything between the patient id and the class,
 * so a filename with a space in it still parses.
 *
 * <p>Errors follow {@link MimicCxrJpg}: a malformed line is a {@link DataFileException} naming the file and line, a
 * missing index file an {@link UncheckedIOException}; a missing image is skipped and counted at load, a corrupt
 * one in {@link #readAll} ({@link #readImage} throws {@link CorruptImageException}).
 *
 * <pre>{@code
 * Covidx cx = Covidx.load(Path.of("data/covidx"));
 * System.err.println(cx.summary());   // covidx: 15951 images (15551 train, 400 test; 8085 normal, 5555 pneumonia, 2311 COVID-19), 0 skipped
 * }</pre>
 */
public final class Covidx extends ImageSet<Covidx.Item> {

    /** Class names, in label-index order. */
    public static final List<String> CLASSES = List.of("normal", "pneumonia", "COVID-19");

    /**
     * One image.
     *
     * @param patient  the patient_id column
     * @param filename the filename column
     * @param label    index into {@link #CLASSES}
     * @param split    "train" or "test" (which file it came from)
     * @param source   the source column ("" in three-column releases)
     */
    public record Item(String patient, String filename, Path image, int label, String split, String source) implements ImageSet.Item {
        public String className() {
            return CLASSES.get(label);
        }
    }

    /** A decoded image: (size*size) in [0,1] after {@link Preprocess}. */
    public record Sample(Item item, float[] image) {
    }


    private Covidx(Path root, List<Item> items, Skips skips) {
        super(root, items, skips);
    }

    /**
     * Reads {@code train.txt} and {@code test.txt} (not the images).
     *
     * @throws DataFileException    for a malformed line, naming file and line
     * @throws UncheckedIOException when an index file is missing or unreadable
     */
    public static Covidx load(Path root) {
        Skips skips = new Skips();
        List<Item> items = new ArrayList<>();
        for (String split : List.of("train", "test")) {
            Path txt = root.resolve(split + ".txt");
            if (!Files.isRegularFile(txt)) {
                throw new UncheckedIOException(new IOException(root + ": missing " + txt.getFileName() + "; is this a COVIDx folder?"));
            }
            try (BufferedReader r = Files.newBufferedReader(txt, StandardCharsets.UTF_8)) {
                int lineNo = 0;
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lineNo++;
                    if (line.isBlank()) {
                        continue;
                    }
                    Item it = parse(line, txt, lineNo, root.resolve(split), split);
                    if (!Files.isRegularFile(it.image())) {
                        skips.skip("missing image", it.image().toString());
                        continue;
                    }
                    items.add(it);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(txt + ": " + e.getMessage(), e);
            }
        }
        return new Covidx(root, Collections.unmodifiableList(items), skips);
    }

    private static Item parse(String line, Path file, int lineNo, Path dir, String split) {
        String[] t = line.trim().split("\\s+");
        int n = t.length;
        int cls;
        if (n >= 4 && classIndex(t[n - 2]) >= 0) {
            cls = n - 2; // patient_id filename class source
        } else if (n >= 3 && classIndex(t[n - 1]) >= 0) {
            cls = n - 1; // patient_id filename class
        } else {
            throw new DataFileException(file, lineNo, "expected 'patient_id filename class [source]' with class one of " + CLASSES
                    + ", got '" + line.trim() + "'");
        }
        String filename = String.join(" ", Arrays.copyOfRange(t, 1, cls));
        return new Item(t[0], filename, dir.resolve(filename), classIndex(t[cls]), split, cls == n - 2 ? t[n - 1] : "");
    }

    private static int classIndex(String s) {
        for (int k = 0; k < CLASSES.size(); k++) {
            if (CLASSES.get(k).equalsIgnoreCase(s)) {
                return k;
            }
        }
        return -1;
    }

    /** Number of items per class, in {@link #CLASSES} order. */
    public int[] classCounts() {
        int[] c = new int[CLASSES.size()];
        items.forEach(it -> c[it.label()]++);
        return c;
    }

    /** e.g. {@code covidx: 30 images (24 train, 6 test; 10 normal, 10 pneumonia, 10 COVID-19), 1 skipped (missing image)}. */
    public String summary() {
        int[] c = classCounts();
        List<String> cls = new ArrayList<>();
        for (int k = 0; k < c.length; k++) {
            cls.add(c[k] + " " + CLASSES.get(k));
        }
        return summaryLine("covidx", String.join(", ", cls), "train", "test");
    }

    /** The image after {@link Preprocess} at (size x size). @throws CorruptImageException when it cannot be decoded */
    public float[] readImage(Item item, int size) {
        return readEncoded(item.image(), size);
    }

    /** Decodes images in parallel; corrupt ones are skipped and counted. Result order = input order. */
    public List<Sample> readAll(List<Item> which, int size) {
        return skips.readAll(which, it -> new Sample(it, readImage(it, size)));
    }
}
