package mlip.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mlip.data.synth.Finding;
import mlip.data.synth.SentenceAnnotation;
import mlip.data.synth.SynthCxr;

/**
 * SynthCXR's localisation ground truth, read back from disk for the pointing game and few-shot
 * segmentation: {@code synthcxr-annotations.jsonl} (one study per line: its sentences with the finding each
 * describes, and one mask file per finding) and the masks under {@code synthcxr-masks/}.
 *
 * <pre>{@code
 * SynthAnnotations ann = SynthAnnotations.load(root);
 * SynthAnnotations.Entry e = ann.get(dicomId);
 * for (SentenceAnnotation s : e.sentences())
 *     if (s.finding() != null) {
 *         float[] m = e.mask(s.finding(), 12);    // (12*12) coverage fractions in [0,1], e.g. per ViT patch
 *     }
 * }</pre>
 */
public final class SynthAnnotations {

    /**
     * One study's annotations.
     *
     * @param image     absolute image path
     * @param sentences report sentences in order, with the finding each describes (null = none)
     * @param maskFiles absolute mask path per present finding
     */
    public record Entry(String dicomId, int subjectId, int studyId, String split, int scanner, int size, Path image,
                        List<SentenceAnnotation> sentences, Map<Finding, Path> maskFiles) {

        /**
         * The finding's mask resized to (size x size): each value is the fraction of the cell covered by
         * the mask (area average of the 0/1 mask), so {@code > 0.5} is "mostly inside".
         *
         * @throws IllegalArgumentException when the finding is not present in this study
         */
        public float[] mask(Finding f, int size) {
            Path p = maskFiles.get(f);
            if (p == null) {
                throw new IllegalArgumentException(dicomId + " has no " + f.token() + " mask (present: " + maskFiles.keySet() + ")");
            }
            return readMask(p, size);
        }
    }

    private final Map<String, Entry> byDicom;

    private SynthAnnotations(Map<String, Entry> byDicom) {
        this.byDicom = byDicom;
    }

    /**
     * Reads {@code root/synthcxr-annotations.jsonl}; masks are read lazily by {@link Entry#mask}.
     *
     * @throws DataFileException    for a malformed line, naming file and line
     * @throws UncheckedIOException when the file is missing or unreadable
     */
    public static SynthAnnotations load(Path root) {
        Path file = root.resolve(SynthCxr.ANNOTATIONS_JSONL);
        if (!Files.isRegularFile(file)) {
            throw new UncheckedIOException(new IOException(root + ": missing " + SynthCxr.ANNOTATIONS_JSONL + " (not a SynthCXR folder?)"));
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, Entry> out = new LinkedHashMap<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                if (line.isBlank()) {
                    continue;
                }
                Entry e = parse(json, line, root, file, no);
                if (out.put(e.dicomId(), e) != null) {
                    throw new DataFileException(file, no, "duplicate dicom_id " + e.dicomId());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        return new SynthAnnotations(Collections.unmodifiableMap(out));
    }

    private static Entry parse(ObjectMapper json, String line, Path root, Path file, int no) {
        JsonNode o;
        try {
            o = json.readTree(line);
        } catch (JsonProcessingException e) {
            throw new DataFileException(file, no, "invalid JSON: " + e.getOriginalMessage());
        }
        try {
            String dicom = text(o, "dicom_id");
            List<SentenceAnnotation> sents = new ArrayList<>();
            for (JsonNode s : array(o, "sentences")) {
                JsonNode f = s.get("finding");
                sents.add(new SentenceAnnotation(text(s, "text"), f == null || f.isNull() ? null : Finding.fromToken(f.asText())));
            }
            Map<Finding, Path> masks = new EnumMap<>(Finding.class);
            for (JsonNode f : array(o, "findings")) {
                masks.put(Finding.fromToken(text(f, "finding")), root.resolve(text(f, "mask")));
            }
            return new Entry(dicom, o.path("subject_id").asInt(), o.path("study_id").asInt(), o.path("split").asText(""),
                    o.path("scanner").asInt(-1), o.path("size").asInt(0), root.resolve(text(o, "image")),
                    List.copyOf(sents), Collections.unmodifiableMap(masks));
        } catch (IllegalArgumentException e) {
            throw new DataFileException(file, no, e.getMessage());
        }
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("missing or non-text field '" + field + "'");
        }
        return v.asText();
    }

    private static JsonNode array(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.isArray()) {
            throw new IllegalArgumentException("missing or non-array field '" + field + "'");
        }
        return v;
    }

    /** Entry for a dicom id, or null. */
    public Entry get(String dicomId) {
        return byDicom.get(dicomId);
    }

    /** All entries by dicom id, in file order. */
    public Map<String, Entry> byDicomId() {
        return byDicom;
    }

    /** All entries in file order. */
    public List<Entry> entries() {
        return List.copyOf(byDicom.values());
    }

    public int size() {
        return byDicom.size();
    }

    /**
     * Reads a mask PNG (0/255) and area-resizes it to (size x size) coverage fractions in [0,1].
     *
     * @throws UncheckedIOException when the file is missing or corrupt
     */
    public static float[] readMask(Path png, int size) {
        try {
            Images.Gray g = Images.read(png);
            return Images.squareResize(g.pixels(), g.width(), g.height(), size);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }
}
