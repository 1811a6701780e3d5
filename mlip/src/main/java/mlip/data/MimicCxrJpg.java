package mlip.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Loader for the MIMIC-CXR-JPG layout, as published on PhysioNet and as SynthCXR writes it:
 * <pre>
 * ROOT/mimic-cxr-2.0.0-split.csv[.gz]      dicom_id,study_id,subject_id,split
 * ROOT/mimic-cxr-2.0.0-chexpert.csv[.gz]   subject_id,study_id,&lt;14 CheXpert labels&gt;   (optional)
 * ROOT/mimic-cxr-2.0.0-metadata.csv[.gz]   dicom_id,...,ViewPosition,...              (optional; used to filter views)
 * ROOT/files/p1X/pXXXXXXXX/sXXXXXXXX/&lt;dicom_id&gt;.jpg
 * REPORTS/files/p1X/pXXXXXXXX/sXXXXXXXX.txt    (MIMIC-CXR's reports; REPORTS defaults to ROOT)
 * </pre>
 * One {@link Study} per image (a study with a frontal and a lateral image gives two, filter with
 * {@code viewPositions}). Columns are found by header name, so extra or reordered columns are fine.
 *
 * <p>Errors (all unchecked): malformed CSV content is a {@link DataFileException} naming the file and
 * line (for example {@code mimic-cxr-2.0.0-split.csv line 17: expected 4 columns, got 3}); an unreadable
 * or missing index file is an {@link UncheckedIOException} naming it. A missing image or report, and
 * later a corrupt image or unreadable report in {@link #readAll}, skip that sample and count it in
 * {@link #skipped()}; the first reasons are kept in {@link #skippedReasons()}.
 *
 * <pre>{@code
 * MimicCxrJpg data = MimicCxrJpg.load(Path.of("data/synthcxr"));
 * for (Study s : data) ...                                   // or data.stream(), data.studies("train")
 * List<MimicCxrJpg.Sample> samples = data.readAll(data.studies("train"), 96);   // parallel, corrupt files skipped
 * System.err.println("skipped " + data.skipped());
 * }</pre>
 */
public final class MimicCxrJpg implements Iterable<Study> {

    public static final String SPLIT_CSV = "mimic-cxr-2.0.0-split.csv";
    public static final String CHEXPERT_CSV = "mimic-cxr-2.0.0-chexpert.csv";
    public static final String METADATA_CSV = "mimic-cxr-2.0.0-metadata.csv";
    private static final int MAX_REASONS = 20;

    /** A study with its decoded image ((size*size) in [0,1]) and report text. */
    public record Sample(Study study, float[] image, String report) {
    }

    private final Path root;
    private final List<Study> studies;
    private final AtomicInteger skipped = new AtomicInteger();
    private final List<String> reasons = Collections.synchronizedList(new ArrayList<>());

    private MimicCxrJpg(Path root, List<Study> studies) {
        this.root = root;
        this.studies = studies;
    }

    /** Loads every image listed in the split CSV, with reports from the same root. */
    public static MimicCxrJpg load(Path root) {
        return load(root, root, Set.of());
    }

    /**
     * Loads the layout.
     *
     * @param reportsRoot   where {@code files/p1X/pXXXXXXXX/sXXXXXXXX.txt} reports live (often == root)
     * @param viewPositions keep only images whose metadata ViewPosition is in this set (e.g. {@code Set.of("PA",
     *                      "AP")}); empty = keep all. Needs the metadata CSV when not empty.
     * @throws DataFileException    for malformed CSV content, naming file and line
     * @throws UncheckedIOException when the split CSV is missing, or no listed image has both image and report
     */
    public static MimicCxrJpg load(Path root, Path reportsRoot, Set<String> viewPositions) {
        Csv.Table split = Csv.read(find(root, SPLIT_CSV, true));
        int cDicom = split.column("dicom_id");
        int cStudy = split.column("study_id");
        int cSubject = split.column("subject_id");
        int cSplit = split.column("split");

        Map<Long, float[]> labels = new HashMap<>();
        Path chexFile = find(root, CHEXPERT_CSV, false);
        if (chexFile != null) {
            Csv.Table chex = Csv.read(chexFile);
            int cs = chex.column("subject_id");
            int ct = chex.column("study_id");
            int[] cols = new int[ChexpertLabels.COUNT];
            for (int k = 0; k < cols.length; k++) {
                cols[k] = chex.column(ChexpertLabels.LABELS.get(k));
            }
            for (Csv.Row r : chex.rows()) {
                int subject = parseId(r.get(cs), chex.file(), r.line(), "subject_id");
                int study = parseId(r.get(ct), chex.file(), r.line(), "study_id");
                float[] v = new float[ChexpertLabels.COUNT];
                for (int k = 0; k < v.length; k++) {
                    v[k] = ChexpertLabels.parse(r.get(cols[k]), chex.file(), r.line(), ChexpertLabels.LABELS.get(k));
                }
                labels.put(key(subject, study), v);
            }
        }

        Map<String, String> views = new HashMap<>();
        if (!viewPositions.isEmpty()) {
            Path metaFile = find(root, METADATA_CSV, false);
            if (metaFile == null) {
                throw new UncheckedIOException(new IOException(root + ": filtering by view position needs " + METADATA_CSV));
            }
            Csv.Table meta = Csv.read(metaFile);
            int md = meta.column("dicom_id");
            int mv = meta.column("ViewPosition");
            for (Csv.Row r : meta.rows()) {
                views.put(r.get(md), r.get(mv));
            }
        }

        MimicCxrJpg out = new MimicCxrJpg(root, new ArrayList<>());
        int considered = 0;
        for (Csv.Row r : split.rows()) {
            String dicom = r.get(cDicom).trim();
            if (dicom.isEmpty()) {
                throw new DataFileException(split.file(), r.line(), "empty dicom_id");
            }
            int study = parseId(r.get(cStudy), split.file(), r.line(), "study_id");
            int subject = parseId(r.get(cSubject), split.file(), r.line(), "subject_id");
            String s = r.get(cSplit).trim();
            if (!viewPositions.isEmpty() && !viewPositions.contains(views.getOrDefault(dicom, ""))) {
                continue;
            }
            considered++;
            String folder = "files/p" + Integer.toString(subject).substring(0, 2) + "/p" + subject;
            Path image = root.resolve(folder + "/s" + study + "/" + dicom + ".jpg");
            Path report = reportsRoot.resolve(folder + "/s" + study + ".txt");
            if (!Files.isRegularFile(image)) {
                out.skip("missing image " + image);
                continue;
            }
            if (!Files.isRegularFile(report)) {
                out.skip("missing report " + report);
                continue;
            }
            float[] l = labels.get(key(subject, study));
            out.studies.add(new Study(subject, study, dicom, s, image, report, l == null ? ChexpertLabels.empty() : l.clone()));
        }
        if (out.studies.isEmpty() && considered > 0) {
            throw new UncheckedIOException(new IOException(root + ": none of the " + considered + " images listed in " + SPLIT_CSV
                    + " has both its image and its report (first problem: " + (out.reasons.isEmpty() ? "?" : out.reasons.get(0))
                    + "); MIMIC-CXR reports (mimic-cxr-reports.zip) must be unpacked under " + reportsRoot));
        }
        return out;
    }

    /** Root folder this was loaded from. */
    public Path root() {
        return root;
    }

    /** All loaded studies (images), in split-CSV order. */
    public List<Study> studies() {
        return Collections.unmodifiableList(studies);
    }

    /** All loaded studies, in split-CSV order. */
    @Override
    public Iterator<Study> iterator() {
        return studies().iterator();
    }

    /** A stream over all loaded studies. */
    public Stream<Study> stream() {
        return studies.stream();
    }

    /** Number of loaded studies. */
    public int size() {
        return studies.size();
    }

    /** The studies of one split ("train", "validate", "test"). */
    public List<Study> studies(String split) {
        return studies.stream().filter(s -> s.split().equals(split)).toList();
    }

    /** Samples skipped so far: missing files at load time plus corrupt ones met in {@link #readAll}. */
    public int skipped() {
        return skipped.get();
    }

    /** Why samples were skipped (the first 20). */
    public List<String> skippedReasons() {
        synchronized (reasons) {
            return List.copyOf(reasons);
        }
    }

    private void skip(String reason) {
        skipped.incrementAndGet();
        if (reasons.size() < MAX_REASONS) {
            reasons.add(reason);
        }
    }

    /**
     * Decodes images (resized to size x size) and reads reports in parallel; a corrupt image or an
     * unreadable/empty report skips that study and counts it. Result order = input order.
     */
    public List<Sample> readAll(List<Study> which, int size) {
        return which.parallelStream().map(s -> {
            float[] img;
            try {
                img = Images.readSquare(s.image(), size);
            } catch (IOException e) {
                skip("corrupt image " + s.image() + ": " + e.getMessage());
                return null;
            }
            try {
                return new Sample(s, img, readReportChecked(s.report()));
            } catch (IOException e) {
                skip("bad report " + s.report() + ": " + e.getMessage());
                return null;
            }
        }).filter(x -> x != null).toList();
    }

    /** {@link #readAll(List, int)} over all studies. */
    public List<Sample> readAll(int size) {
        return readAll(studies, size);
    }

    /**
     * Reads a JPEG/PNG as grayscale [0,1], center-cropped to a square and resized (area average when
     * shrinking, bilinear when enlarging) to (size x size), row-major.
     *
     * @throws UncheckedIOException when the file is missing or corrupt (including truncated JPEGs); use
     *                              {@link #readAll} to skip and count such files instead
     */
    public static float[] readImage(Path file, int size) {
        try {
            return Images.readSquare(file, size);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /**
     * Reads a report as strict UTF-8.
     *
     * @throws UncheckedIOException when unreadable, not valid UTF-8, or blank
     */
    public static String readReport(Path file) {
        try {
            return readReportChecked(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    private static String readReportChecked(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not valid UTF-8 text", e);
        }
        if (text.isBlank()) {
            throw new IOException(file + ": empty report");
        }
        return text;
    }

    static Path find(Path root, String name, boolean required) {
        Path csv = root.resolve(name);
        if (Files.isRegularFile(csv)) {
            return csv;
        }
        Path gz = root.resolve(name + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        if (required) {
            throw new UncheckedIOException(new IOException(root + ": missing " + name + " (or " + name + ".gz); is this a MIMIC-CXR-JPG folder?"));
        }
        return null;
    }

    static int parseId(String cell, Path file, int line, String column) {
        String s = cell.trim();
        try {
            int v = Integer.parseInt(s);
            if (v > 0 && s.length() == 8) {
                return v;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new DataFileException(file, line, "column '" + column + "': expected an 8-digit id, got '" + cell + "'");
    }

    private static long key(int subject, int study) {
        return ((long) subject << 32) | (study & 0xffffffffL);
    }
}
