package mlip.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Loader for CheXpert (CheXpert-v1.0 and CheXpert-v1.0-small), in its published layout:
 * <pre>
 * ROOT/train.csv   Path,Sex,Age,Frontal/Lateral,AP/PA,&lt;14 CheXpert labels&gt;
 * ROOT/valid.csv   same columns
 * ROOT/train/patient00001/study1/view1_frontal.jpg ...
 * </pre>
 * Path cells read {@code CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg}: when the first
 * segment is ROOT's own folder name or starts with {@code CheXpert-v1.0}, it is dropped and the rest resolved
 * against ROOT (the same file as resolving the whole cell against ROOT's parent, but it also works when the
 * folder was renamed); otherwise the cell is resolved against ROOT. Columns are found by header name.
 *
 * <p>Labels: {@code 1.0} positive, {@code 0.0} negative, {@code -1.0} uncertain, empty = not mentioned (NaN). The
 * {@link UncertainPolicy} maps the uncertain ones as the CheXpert paper's U-Zeros, U-Ones and U-Ignore; the raw
 * values stay in {@link Item#raw14()}. Blanks stay NaN under every policy (callers that train on them usually
 * read NaN as negative).
 *
 * <p>The 5x200 zero-shot split is built "as the field builds it" (GLoRIA, MGCA): from the frontal training
 * images, those positive ({@code == 1}, raw) for exactly one of Atelectasis, Cardiomegaly, Consolidation, Edema,
 * Pleural Effusion; 200 per class drawn with a seeded RNG; written as a CSV that {@link Chexpert5x200#load(Path,
 * Path)} reads with ROOT as the image root. The draw is ours (not pandas'), so the images are not those of the CSV
 * GLoRIA published.
 *
 * <p>Errors follow {@link MimicCxrJpg}: a malformed row is a {@link DataFileException} naming the file and line, a
 * missing index file an {@link UncheckedIOException} naming it; a missing image is skipped and counted at load,
 * a corrupt one at read time in {@link #readAll} ({@link #readImage} throws {@link CorruptImageException}).
 *
 * <pre>{@code
 * Chexpert cx = Chexpert.load(Path.of("data/CheXpert-v1.0-small"), Chexpert.UncertainPolicy.ONES, true);
 * System.err.println(cx.summary());        // chexpert: 191229 images (191027 train, 202 valid), 0 skipped
 * Path csv = cx.write5x200(Path.of("runs/chexpert_5x200.csv"), 200, 0L);
 * Chexpert5x200 ev = Chexpert5x200.load(csv, cx.root());
 * }</pre>
 */
public final class Chexpert extends ImageSet<Chexpert.Item> {

    public static final String TRAIN_CSV = "train.csv";
    public static final String VALID_CSV = "valid.csv";

    /** How uncertain ({@code -1}) labels are mapped, after the CheXpert paper (Irvin et al. 2019). */
    public enum UncertainPolicy {
        /** U-Zeros: uncertain is negative (0). */
        ZEROS,
        /** U-Ones: uncertain is positive (1). */
        ONES,
        /** U-Ignore: uncertain is left out of the loss (NaN). */
        IGNORE
    }

    /**
     * One image.
     *
     * @param id       the Path cell as written in the CSV
     * @param patient  the {@code patientNNNNN} folder of the path ("" if none)
     * @param split    "train" or "valid" (which CSV it came from)
     * @param age      years, -1 when the cell is empty
     * @param view     the AP/PA cell ("AP", "PA", "LL", ... or "")
     * @param labels14 the 14 labels in {@link ChexpertLabels#LABELS} order after the uncertain policy (1, 0, NaN)
     * @param raw14    the same as written (1, 0, -1, NaN)
     */
    public record Item(String id, String patient, Path image, String split, String sex, int age, boolean frontal, String view,
                       float[] labels14, float[] raw14) implements ImageSet.Item {
    }

    /** A decoded image: (size*size) in [0,1] after {@link Preprocess}. */
    public record Sample(Item item, float[] image) {
    }

    private final UncertainPolicy policy;

    private Chexpert(Path root, UncertainPolicy policy, List<Item> items, Skips skips) {
        super(root, items, skips);
        this.policy = policy;
    }

    /** Loads every view with the U-Ignore policy. */
    public static Chexpert load(Path root) {
        return load(root, UncertainPolicy.IGNORE, false);
    }

    /**
     * Reads {@code train.csv} and {@code valid.csv} (not the images).
     *
     * @param policy      how uncertain labels map into {@link Item#labels14()}
     * @param frontalOnly keep only rows whose Frontal/Lateral cell is "Frontal"
     * @throws DataFileException    for a malformed row (bad label, age or view cell; wrong column count), with file and line
     * @throws UncheckedIOException when an index file is missing or unreadable
     */
    public static Chexpert load(Path root, UncertainPolicy policy, boolean frontalOnly) {
        Skips skips = new Skips();
        List<Item> items = new ArrayList<>();
        for (String split : List.of("train", "valid")) {
            Path csv = root.resolve(split + ".csv");
            if (!Files.isRegularFile(csv)) {
                throw new UncheckedIOException(new IOException(root + ": missing " + csv.getFileName() + "; is this a CheXpert folder?"));
            }
            Csv.Table t = Csv.read(csv);
            int cPath = t.column("Path");
            int cSex = t.column("Sex");
            int cAge = t.column("Age");
            int cFrontal = t.column("Frontal/Lateral");
            int cView = t.column("AP/PA");
            int[] cLabel = new int[ChexpertLabels.COUNT];
            for (int k = 0; k < cLabel.length; k++) {
                cLabel[k] = t.column(ChexpertLabels.LABELS.get(k));
            }
            for (Csv.Row r : t.rows()) {
                String path = r.get(cPath).trim();
                if (path.isEmpty()) {
                    throw new DataFileException(csv, r.line(), "empty Path");
                }
                String fl = r.get(cFrontal).trim();
                if (!fl.equalsIgnoreCase("Frontal") && !fl.equalsIgnoreCase("Lateral")) {
                    throw new DataFileException(csv, r.line(), "column 'Frontal/Lateral': expected Frontal or Lateral, got '" + fl + "'");
                }
                int age = parseAge(r.get(cAge), csv, r.line());
                float[] raw = new float[ChexpertLabels.COUNT];
                float[] mapped = new float[ChexpertLabels.COUNT];
                for (int k = 0; k < raw.length; k++) {
                    raw[k] = ChexpertLabels.parse(r.get(cLabel[k]), csv, r.line(), ChexpertLabels.LABELS.get(k));
                    mapped[k] = raw[k] != -1f ? raw[k] : switch (policy) {
                        case ZEROS -> 0f;
                        case ONES -> 1f;
                        case IGNORE -> Float.NaN;
                    };
                }
                boolean frontal = fl.equalsIgnoreCase("Frontal");
                if (frontalOnly && !frontal) {
                    continue;
                }
                Path image = resolve(root, path);
                if (!Files.isRegularFile(image)) {
                    skips.skip("missing image", image.toString());
                    continue;
                }
                items.add(new Item(path, patientOf(path), image, split, r.get(cSex).trim(), age, frontal, r.get(cView).trim(), mapped, raw));
            }
        }
        return new Chexpert(root, policy, Collections.unmodifiableList(items), skips);
    }

    /** Resolves a Path cell: a leading data-set folder segment is dropped, the rest is relative to ROOT. */
    static Path resolve(Path root, String cell) {
        String p = cell.replace('\\', '/');
        int slash = p.indexOf('/');
        if (slash > 0) {
            String first = p.substring(0, slash);
            Path name = root.toAbsolutePath().normalize().getFileName();
            if (first.startsWith("CheXpert-v1.0") || (name != null && first.equals(name.toString()))) {
                p = p.substring(slash + 1);
            }
        }
        return root.resolve(p);
    }

    private static String patientOf(String path) {
        for (String seg : path.replace('\\', '/').split("/")) {
            if (seg.startsWith("patient")) {
                return seg;
            }
        }
        return "";
    }

    private static int parseAge(String cell, Path file, int line) {
        String s = cell.trim();
        if (s.isEmpty()) {
            return -1;
        }
        try {
            double v = Double.parseDouble(s);
            if (v >= 0 && v < 150 && v == Math.rint(v)) {
                return (int) v;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new DataFileException(file, line, "column 'Age': expected whole years, got '" + cell + "'");
    }

    /** The uncertain-label policy {@link Item#labels14()} was mapped with. */
    public UncertainPolicy policy() {
        return policy;
    }

    /** e.g. {@code chexpert: 1200 images (1000 train, 200 valid), 3 skipped (missing image)}. */
    public String summary() {
        return summaryLine("chexpert", "", "train", "valid");
    }

    /** The image after {@link Preprocess} at (size x size). @throws CorruptImageException when it cannot be decoded */
    public float[] readImage(Item item, int size) {
        return readEncoded(item.image(), size);
    }

    /** Decodes images in parallel; corrupt ones are skipped and counted. Result order = input order. */
    public List<Sample> readAll(List<Item> which, int size) {
        return skips.readAll(which, it -> new Sample(it, readImage(it, size)));
    }

    /**
     * Draws the 5x200 split: from the frontal "train" images, those with exactly one of {@link Chexpert5x200#CLASSES}
     * positive (raw label == 1; the other four may be 0, -1 or blank, and the 9 other labels are not looked at),
     * then {@code perClass} per class. For reproducibility the candidates of each class are taken in file order and
     * shuffled with one {@code SplittableRandom(seed)}, class after class in {@link Chexpert5x200#CLASSES} order,
     * and the first {@code perClass} kept.
     *
     * @return the chosen items, class after class
     * @throws IllegalStateException naming the class and the counts when a class has fewer than {@code perClass} candidates
     */
    public List<Item> select5x200(int perClass, long seed) {
        List<List<Item>> byClass = new ArrayList<>();
        int[] cols = new int[Chexpert5x200.CLASSES.size()];
        for (int c = 0; c < cols.length; c++) {
            cols[c] = ChexpertLabels.index(Chexpert5x200.CLASSES.get(c));
            byClass.add(new ArrayList<>());
        }
        for (Item it : items) {
            if (!it.frontal() || !it.split().equals("train")) {
                continue;
            }
            int label = -1;
            int positives = 0;
            for (int c = 0; c < cols.length; c++) {
                if (it.raw14()[cols[c]] == 1f) {
                    label = c;
                    positives++;
                }
            }
            if (positives == 1) {
                byClass.get(label).add(it);
            }
        }
        SplittableRandom rng = new SplittableRandom(seed);
        List<Item> out = new ArrayList<>();
        for (int c = 0; c < cols.length; c++) {
            List<Item> cand = byClass.get(c);
            if (cand.size() < perClass) {
                int[] n = byClass.stream().mapToInt(List::size).toArray();
                throw new IllegalStateException("CheXpert 5x" + perClass + ": class " + Chexpert5x200.CLASSES.get(c) + " has only " + cand.size()
                        + " frontal training images positive for it alone, " + perClass + " requested (candidates per class "
                        + Chexpert5x200.CLASSES + ": " + java.util.Arrays.toString(n) + ")");
            }
            Collections.shuffle(cand, rng);
            out.addAll(cand.subList(0, perClass));
        }
        return out;
    }

    /**
     * {@link #select5x200} written as a CSV of {@code Path} (relative to ROOT) and the 5 class columns (1.0 for the
     * item's class, 0.0 otherwise), atomically. Read it back with {@code Chexpert5x200.load(csv, root())}.
     *
     * @return {@code csv}
     */
    public Path write5x200(Path csv, int perClass, long seed) {
        List<Item> chosen = select5x200(perClass, seed);
        StringBuilder sb = new StringBuilder();
        List<String> header = new ArrayList<>();
        header.add("Path");
        header.addAll(Chexpert5x200.CLASSES);
        sb.append(Csv.line(header)).append('\n');
        for (int i = 0; i < chosen.size(); i++) {
            int label = i / perClass;
            List<String> cells = new ArrayList<>();
            cells.add(root.toAbsolutePath().normalize().relativize(chosen.get(i).image().toAbsolutePath().normalize()).toString().replace('\\', '/'));
            for (int c = 0; c < Chexpert5x200.CLASSES.size(); c++) {
                cells.add(c == label ? "1.0" : "0.0");
            }
            sb.append(Csv.line(cells)).append('\n');
        }
        try {
            Csv.writeAtomically(csv, sb);
        } catch (IOException e) {
            throw new UncheckedIOException(csv + ": " + e.getMessage(), e);
        }
        return csv;
    }
}
