package mlip.data.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import mlip.data.ChexpertLabels;
import mlip.data.Csv;
import mlip.data.Images;

/**
 * SynthCXR: a seeded generator of chest-X-ray-like studies (image, report, CheXpert labels, finding masks),
 * and a writer of the MIMIC-CXR-JPG on-disk layout, so the real-data loaders read it unchanged.
 *
 * <h2>Images</h2>
 * Single-channel PA views, values in [0,1], (size x size) row-major, row 0 at the top. Radiological
 * convention: <b>the image's left half is the patient's right</b>; the heart bulges to the image's right
 * (the patient's left), the gastric bubble sits under the image-right (left) hemidiaphragm, and scanners
 * 1 and 3 stamp an "L" marker at the top right / an "R" at the top left. Every "right"/"left" in a report
 * means the patient's side. Drawn: body, two lungs with vessel markings, hila, heart, aortic knob,
 * trachea, ribs, clavicles, spine; noise, blur and contrast/gamma/brightness differ between
 * {@value #SCANNERS} scanners (and a little between studies).
 *
 * <h2>Findings</h2>
 * Atelectasis (plate-like band at the left/right base), cardiomegaly (enlarged heart), consolidation (dense
 * opacity in a named lobe), edema (bilateral perihilar haze, Kerley lines when moderate/severe), pleural
 * effusion (meniscus at the left/right/both costophrenic angles), pneumothorax (apical rim without markings,
 * visible pleural line). Mild/moderate/severe change size and density. Per study: 0 findings 25%, 1 finding
 * 50%, 2 18%, 3 7%. See {@code Lesion} and {@code Anatomy} (package-private) for the drawing and the
 * reasoning behind its difficulty, {@code Reports} for the text.
 *
 * <h2>Determinism</h2>
 * {@link #generate(long, int, int)} is a pure function of (seed, index, size): it draws from
 * {@link SplittableRandom}s seeded from (seed, index) only. The findings, anatomy and report do not depend
 * on size (the same study at 96 and 224 px says and shows the same), only the pixel noise does.
 *
 * <pre>{@code
 * SynthStudy s = SynthCxr.generate(42L, 7, 96);
 * s.report();                  // "FINAL REPORT ... FINDINGS: ... IMPRESSION: ..."
 * s.masks().keySet();          // e.g. [PLEURAL_EFFUSION]
 * SynthCxr.write(Path.of("data/synthcxr"), SynthCxr.Options.defaults());   // 5000 train + 5x200 eval
 * }</pre>
 */
public final class SynthCxr {

    /** Number of simulated scanners (ids 0..3). */
    public static final int SCANNERS = Renderer.SCANNERS.length;

    /** The five CheXpert-5x200 classes, in the column order of {@code synthcxr-5x200.csv}. */
    public static final List<Finding> EVAL_CLASSES = List.of(Finding.ATELECTASIS, Finding.CARDIOMEGALY,
            Finding.CONSOLIDATION, Finding.EDEMA, Finding.PLEURAL_EFFUSION);

    /** File names of the layout (MIMIC's names, plus SynthCXR extras). */
    public static final String SPLIT_CSV = "mimic-cxr-2.0.0-split.csv";
    public static final String CHEXPERT_CSV = "mimic-cxr-2.0.0-chexpert.csv";
    public static final String METADATA_CSV = "mimic-cxr-2.0.0-metadata.csv";
    public static final String EVAL_CSV = "synthcxr-5x200.csv";
    public static final String ANNOTATIONS_JSONL = "synthcxr-annotations.jsonl";
    public static final String MASK_DIR = "synthcxr-masks";
    public static final String INFO_JSON = "synthcxr-info.json";

    private SynthCxr() {
    }

    /**
     * Difficulty knobs. {@code findingContrast} scales every finding's density (1 = as designed; 1.5 makes
     * findings easier to see, 0.7 harder); {@code noise} scales the scanners' pixel noise.
     */
    public record Hardness(double findingContrast, double noise) {
        public static final Hardness DEFAULT = new Hardness(1.0, 1.0);
    }

    /**
     * What {@link #write(Path, Options)} generates.
     *
     * @param studies          training studies (split "train"), indices 0..studies-1
     * @param size             image side in pixels
     * @param seed             generator seed
     * @param evalPerClass     studies per class in the 5x200-style evaluation split (split "test")
     * @param validateFraction validation studies (split "validate") as a fraction of {@code studies},
     *                         in addition to them
     * @param hardness         difficulty knobs
     * @param jpegQuality      JPEG quality 0..1 (MIMIC-CXR-JPG itself used 95)
     * @param progress         print "synthcxr: wrote k/N studies" lines to stderr every ~10%
     */
    public record Options(int studies, int size, long seed, int evalPerClass, double validateFraction,
                          Hardness hardness, float jpegQuality, boolean progress) {

        /** The demo's data set: 5000 train + 250 validate studies at 96 px, 5x200 evaluation, seed 42. */
        public static Options defaults() {
            return new Options(5000, 96, 42L, 200, 0.05, Hardness.DEFAULT, 0.95f, true);
        }

        public Options withProgress(boolean v) {
            return new Options(studies, size, seed, evalPerClass, validateFraction, hardness, jpegQuality, v);
        }

        public Options withStudies(int v) {
            return new Options(v, size, seed, evalPerClass, validateFraction, hardness, jpegQuality, progress);
        }

        public Options withSize(int v) {
            return new Options(studies, v, seed, evalPerClass, validateFraction, hardness, jpegQuality, progress);
        }

        public Options withSeed(long v) {
            return new Options(studies, size, v, evalPerClass, validateFraction, hardness, jpegQuality, progress);
        }

        public Options withEvalPerClass(int v) {
            return new Options(studies, size, seed, v, validateFraction, hardness, jpegQuality, progress);
        }

        public Options withValidateFraction(double v) {
            return new Options(studies, size, seed, evalPerClass, v, hardness, jpegQuality, progress);
        }

        public Options withHardness(Hardness v) {
            return new Options(studies, size, seed, evalPerClass, validateFraction, v, jpegQuality, progress);
        }

        /** Number of validation studies. */
        public int validateStudies() {
            return (int) Math.round(studies * validateFraction);
        }
    }

    /** A study's cheap-to-draw content: scanner and findings (no pixels). */
    public record Case(int index, int scanner, List<FindingInstance> findings) {

        /** Index into {@link #EVAL_CLASSES} when exactly one of the five is present (pneumothorax may
         * co-occur), else -1. */
        public int evalClass() {
            int cls = -1;
            for (FindingInstance f : findings) {
                int k = EVAL_CLASSES.indexOf(f.finding());
                if (k >= 0) {
                    if (cls >= 0) {
                        return -1;
                    }
                    cls = k;
                }
            }
            return cls;
        }
    }

    // ---- generation -----------------------------------------------------------------------------------

    /** The independent random streams of one study. Splits happen in a fixed order. */
    private record Streams(SplittableRandom cases, SplittableRandom anatomy, SplittableRandom finding,
                           SplittableRandom report, SplittableRandom noise, SplittableRandom ids) {
        static Streams of(long seed, int index) {
            SplittableRandom root = new SplittableRandom(mix64(mix64(seed) + 0x9E3779B97F4A7C15L * (index + 1L)));
            return new Streams(root.split(), root.split(), root.split(), root.split(), root.split(), root.split());
        }
    }

    /** Draws only the scanner and findings of study (seed, index); identical to what generate() draws. */
    public static Case sampleCase(long seed, int index) {
        return sampleCase(index, Streams.of(seed, index).cases());
    }

    private static Case sampleCase(int index, SplittableRandom r) {
        int scanner = r.nextInt(SCANNERS);
        double u = r.nextDouble();
        int count = u < 0.25 ? 0 : u < 0.75 ? 1 : u < 0.93 ? 2 : 3;
        double[] weight = {1, 1, 1, 1, 1, 0.6}; // Finding order; pneumothorax rarer
        EnumSet<Finding> chosen = EnumSet.noneOf(Finding.class);
        for (int k = 0; k < count; k++) {
            double total = 0;
            for (Finding f : Finding.values()) {
                total += chosen.contains(f) ? 0 : weight[f.ordinal()];
            }
            double pick = r.nextDouble() * total;
            for (Finding f : Finding.values()) {
                if (chosen.contains(f)) {
                    continue;
                }
                pick -= weight[f.ordinal()];
                if (pick < 0) {
                    chosen.add(f);
                    break;
                }
            }
        }
        List<FindingInstance> findings = new ArrayList<>();
        for (Finding f : chosen) { // enum order: deterministic
            double s = r.nextDouble();
            Severity sev = s < 0.4 ? Severity.MILD : s < 0.75 ? Severity.MODERATE : Severity.SEVERE;
            boolean right = r.nextBoolean();
            Location loc = switch (f) {
                case ATELECTASIS, PNEUMOTHORAX -> right ? Location.RIGHT : Location.LEFT;
                case CARDIOMEGALY -> Location.CENTRAL;
                case EDEMA -> Location.BILATERAL;
                case CONSOLIDATION -> new Location[] {Location.RIGHT_UPPER_LOBE, Location.RIGHT_MIDDLE_LOBE,
                    Location.RIGHT_LOWER_LOBE, Location.LEFT_UPPER_LOBE, Location.LEFT_LOWER_LOBE}[r.nextInt(5)];
                case PLEURAL_EFFUSION -> {
                    double q = r.nextDouble();
                    yield q < 0.4 ? Location.RIGHT : q < 0.8 ? Location.LEFT : Location.BILATERAL;
                }
            };
            findings.add(new FindingInstance(f, sev, loc));
        }
        return new Case(index, scanner, List.copyOf(findings));
    }

    /** Study {@code index} of the data set with this seed, at (size x size), default hardness. */
    public static SynthStudy generate(long seed, int index, int size) {
        return generate(seed, index, size, Hardness.DEFAULT);
    }

    /** Study {@code index} of the data set with this seed, at (size x size). Pure; thread-safe. */
    public static SynthStudy generate(long seed, int index, int size, Hardness hardness) {
        if (size < 16) {
            throw new IllegalArgumentException("size must be at least 16 px, got " + size);
        }
        if (index < 0) {
            throw new IllegalArgumentException("index must be >= 0, got " + index);
        }
        Streams st = Streams.of(seed, index);
        Case c = sampleCase(index, st.cases());
        Anatomy anatomy = new Anatomy(st.anatomy());
        Renderer.Result img = Renderer.render(anatomy, c.findings(), c.scanner(), st.finding(), st.noise(), size, hardness);
        Reports.Report rep = Reports.write(c.findings(), st.report());
        SplittableRandom ids = st.ids();
        String dicom = String.format(Locale.ROOT, "%08x-%08x-%08x-%08x-%08x",
                ids.nextInt(), ids.nextInt(), ids.nextInt(), ids.nextInt(), ids.nextInt());
        int subject = 10_000_000 + (int) Math.floorMod(index * 3_000_017L + mix64(seed), 10_000_000L);
        int study = 50_000_000 + (int) Math.floorMod(index * 7_000_003L + mix64(seed + 1), 10_000_000L);
        return new SynthStudy(index, subject, study, dicom, c.scanner(), size, img.image(), rep.text(),
                rep.sentences(), c.findings(), Map.copyOf(img.masks()), rep.labels());
    }

    /** 1 where pixel centres of study (seed, index) lie inside the patient's body, else 0 (for tests). */
    static float[] bodyMask(long seed, int index, int size) {
        Anatomy a = new Anatomy(Streams.of(seed, index).anatomy());
        float[] m = new float[size * size];
        double[] c = new double[2];
        for (int i = 0; i < size; i++) {
            for (int j = 0; j < size; j++) {
                a.toCanonical((j + 0.5) / size, (i + 0.5) / size, c);
                m[i * size + j] = Math.abs(c[0] - 0.5) < Renderer.bodyHalfWidth(c[1]) ? 1f : 0f;
            }
        }
        return m;
    }

    /** Studies from..from+count-1 (in order), generated in parallel. */
    public static List<SynthStudy> generateRange(long seed, int from, int count, int size, Hardness hardness) {
        return IntStream.range(from, from + count).parallel().mapToObj(i -> generate(seed, i, size, hardness)).toList();
    }

    /**
     * The evaluation studies: scanning indices upward from {@code firstIndex}, the first
     * {@code perClass} studies of each class with exactly one of the five classes present. Returned
     * class-major (all Atelectasis first), each class in index order.
     */
    public static int[][] evalIndices(long seed, int firstIndex, int perClass) {
        int[][] out = new int[EVAL_CLASSES.size()][perClass];
        int[] have = new int[EVAL_CLASSES.size()];
        int missing = perClass * EVAL_CLASSES.size();
        for (int i = firstIndex; missing > 0; i++) {
            int k = sampleCase(seed, i).evalClass();
            if (k >= 0 && have[k] < perClass) {
                out[k][have[k]++] = i;
                missing--;
            }
        }
        return out;
    }

    // ---- writing the MIMIC-CXR-JPG layout -------------------------------------------------------------

    /** What was written. */
    public record Summary(Path root, int train, int validate, int test, long millis) {
    }

    /** {@link #write(Path, Options)} with default options except studies, size and seed. */
    public static Summary write(Path root, int studies, int size, long seed) {
        return write(root, Options.defaults().withStudies(studies).withSize(size).withSeed(seed));
    }

    /**
     * Writes the MIMIC-CXR-JPG layout under {@code root} (created if needed):
     * <pre>
     * mimic-cxr-2.0.0-split.csv      dicom_id,study_id,subject_id,split   (train / validate / test)
     * mimic-cxr-2.0.0-chexpert.csv   subject_id,study_id,&lt;14 CheXpert labels, alphabetical as in MIMIC&gt;
     * mimic-cxr-2.0.0-metadata.csv   dicom_id,subject_id,study_id,ViewPosition,Rows,Columns
     * files/p1X/pXXXXXXXX/sXXXXXXXX/&lt;dicom_id&gt;.jpg     the image (8-bit gray JPEG)
     * files/p1X/pXXXXXXXX/sXXXXXXXX.txt                  the report
     * SynthCXR extras (not in MIMIC):
     * synthcxr-5x200.csv             Path,Atelectasis,Cardiomegaly,Consolidation,Edema,Pleural Effusion,dicom_id
     * synthcxr-annotations.jsonl     one JSON object per study: ids, split, scanner, size, image, report,
     *                                sentences [{text, finding|null}], findings [{finding, label, severity,
     *                                location, mask}]
     * synthcxr-masks/&lt;dicom_id&gt;_&lt;finding&gt;.png   0/255 mask per finding (finding = Finding.token())
     * synthcxr-info.json             the options and counts
     * </pre>
     * Train studies are indices 0..studies-1, validation the next {@link Options#validateStudies()}, and
     * the 5x200 evaluation studies come after those ({@link #evalIndices}), so none of them is in train.
     * CSVs and JSON files are written to a temp file and moved into place. Progress goes to stderr.
     *
     * @throws UncheckedIOException when a file cannot be written
     */
    public static Summary write(Path root, Options o) {
        try {
            return writeChecked(root, o);
        } catch (IOException e) {
            throw new UncheckedIOException(root + ": " + e.getMessage(), e);
        }
    }

    private static Summary writeChecked(Path root, Options o) throws IOException {
        long t0 = System.nanoTime();
        int nVal = o.validateStudies();
        int[][] eval = evalIndices(o.seed(), o.studies() + nVal, o.evalPerClass());
        int nEval = EVAL_CLASSES.size() * o.evalPerClass();
        int total = o.studies() + nVal + nEval;
        int[] index = new int[total];
        String[] split = new String[total];
        for (int i = 0; i < o.studies() + nVal; i++) {
            index[i] = i;
            split[i] = i < o.studies() ? "train" : "validate";
        }
        int p = o.studies() + nVal;
        for (int[] cls : eval) {
            for (int i : cls) {
                index[p] = i;
                split[p++] = "test";
            }
        }
        Files.createDirectories(root.resolve(MASK_DIR));
        ObjectMapper json = new ObjectMapper();
        String[] splitRows = new String[total];
        String[] chexRows = new String[total];
        String[] metaRows = new String[total];
        String[] annRows = new String[total];
        String[] evalRows = new String[nEval];
        AtomicInteger done = new AtomicInteger();
        int step = Math.max(1, total / 10);
        IntStream.range(0, total).parallel().forEach(k -> {
                try {
                    SynthStudy s = generate(o.seed(), index[k], o.size(), o.hardness());
                    writeStudy(root, s, o.jpegQuality());
                    splitRows[k] = s.dicomId() + "," + s.studyId() + "," + s.subjectId() + "," + split[k];
                    StringBuilder chex = new StringBuilder().append(s.subjectId()).append(',').append(s.studyId());
                    for (String label : ChexpertLabels.MIMIC_CSV_ORDER) {
                        chex.append(',').append(ChexpertLabels.format(s.labels()[ChexpertLabels.index(label)]));
                    }
                    chexRows[k] = chex.toString();
                    metaRows[k] = s.dicomId() + "," + s.subjectId() + "," + s.studyId() + ",PA," + s.size() + "," + s.size();
                    annRows[k] = annotationLine(json, s, split[k]);
                    int e = k - (o.studies() + nVal);
                    if (e >= 0) {
                        int cls = e / o.evalPerClass();
                        StringBuilder row = new StringBuilder(s.imagePath());
                        for (int c = 0; c < EVAL_CLASSES.size(); c++) {
                            row.append(c == cls ? ",1.0" : ",0.0");
                        }
                        evalRows[e] = row.append(',').append(s.dicomId()).toString();
                    }
                } catch (IOException ex) {
                    throw new UncheckedIOException(ex);
                }
                int d = done.incrementAndGet();
                if (o.progress() && (d % step == 0 || d == total)) {
                    System.err.printf(Locale.ROOT, "synthcxr: wrote %d/%d studies%n", d, total);
                }
            });
        Csv.writeAtomically(root.resolve(SPLIT_CSV), lines("dicom_id,study_id,subject_id,split", splitRows));
        Csv.writeAtomically(root.resolve(CHEXPERT_CSV), lines("subject_id,study_id," + Csv.line(ChexpertLabels.MIMIC_CSV_ORDER), chexRows));
        Csv.writeAtomically(root.resolve(METADATA_CSV), lines("dicom_id,subject_id,study_id,ViewPosition,Rows,Columns", metaRows));
        List<String> evalHeader = new ArrayList<>(List.of("Path"));
        EVAL_CLASSES.forEach(f -> evalHeader.add(f.label()));
        evalHeader.add("dicom_id");
        Csv.writeAtomically(root.resolve(EVAL_CSV), lines(Csv.line(evalHeader), evalRows));
        Csv.writeAtomically(root.resolve(ANNOTATIONS_JSONL), lines(null, annRows));
        long millis = (System.nanoTime() - t0) / 1_000_000;
        ObjectNode info = json.createObjectNode();
        info.put("generator", "SynthCXR");
        info.put("seed", o.seed());
        info.put("size", o.size());
        info.put("train", o.studies());
        info.put("validate", nVal);
        info.put("test", nEval);
        info.put("eval_per_class", o.evalPerClass());
        info.put("finding_contrast", o.hardness().findingContrast());
        info.put("noise", o.hardness().noise());
        info.put("jpeg_quality", o.jpegQuality());
        info.put("convention", "PA view; image left = patient's right");
        Csv.writeAtomically(root.resolve(INFO_JSON), json.writerWithDefaultPrettyPrinter().writeValueAsString(info) + "\n");
        return new Summary(root, o.studies(), nVal, nEval, millis);
    }

    private static void writeStudy(Path root, SynthStudy s, float quality) throws IOException {
        Path img = root.resolve(s.imagePath());
        Files.createDirectories(img.getParent());
        Files.write(img, Images.encodeJpeg(s.image(), s.size(), s.size(), quality));
        Files.writeString(root.resolve(s.reportPath()), s.report(), StandardCharsets.UTF_8);
        for (Map.Entry<Finding, float[]> m : s.masks().entrySet()) {
            Files.write(root.resolve(maskPath(s.dicomId(), m.getKey())), Images.encodePng(m.getValue(), s.size(), s.size()));
        }
    }

    /** Mask file path relative to the root: {@code synthcxr-masks/<dicom_id>_<finding token>.png}. */
    public static String maskPath(String dicomId, Finding f) {
        return MASK_DIR + "/" + dicomId + "_" + f.token() + ".png";
    }

    private static String annotationLine(ObjectMapper json, SynthStudy s, String split) throws IOException {
        ObjectNode o = json.createObjectNode();
        o.put("dicom_id", s.dicomId());
        o.put("subject_id", s.subjectId());
        o.put("study_id", s.studyId());
        o.put("split", split);
        o.put("index", s.index());
        o.put("scanner", s.scanner());
        o.put("size", s.size());
        o.put("image", s.imagePath());
        o.put("report", s.reportPath());
        ArrayNode sents = o.putArray("sentences");
        for (SentenceAnnotation a : s.sentences()) {
            ObjectNode n = sents.addObject();
            n.put("text", a.text());
            if (a.finding() == null) {
                n.putNull("finding");
            } else {
                n.put("finding", a.finding().token());
            }
        }
        ArrayNode fs = o.putArray("findings");
        for (FindingInstance f : s.findings()) {
            ObjectNode n = fs.addObject();
            n.put("finding", f.finding().token());
            n.put("label", f.finding().label());
            n.put("severity", f.severity().word());
            n.put("location", f.location().words());
            n.put("mask", maskPath(s.dicomId(), f.finding()));
        }
        return json.writeValueAsString(o);
    }

    private static String lines(String header, String[] rows) {
        StringBuilder sb = new StringBuilder(rows.length * 64);
        if (header != null) {
            sb.append(header).append('\n');
        }
        for (String r : rows) {
            sb.append(r).append('\n');
        }
        return sb.toString();
    }

    /** SplitMix64's finalizer: a well-mixed 64-bit hash. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
