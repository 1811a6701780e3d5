package mlip.data;

import java.nio.file.Path;
import java.util.List;

/**
 * The 14 CheXpert observation labels, in CheXpert's own order (the order of {@code labels14} arrays
 * throughout {@code mlip.data}), and the value convention of {@code mimic-cxr-2.0.0-chexpert.csv}:
 * {@code 1.0} positive, {@code 0.0} negative (explicitly negated), {@code -1.0} uncertain, empty = not
 * mentioned, which we hold as {@link Float#NaN}.
 *
 * <pre>{@code
 * int i = ChexpertLabels.index("Pleural Effusion");   // 10
 * boolean positive = study.labels14()[i] == 1f;
 * }</pre>
 */
public final class ChexpertLabels {

    /** CheXpert's label names, exactly as in the CSV headers, in CheXpert's order. */
    public static final List<String> LABELS = List.of(
            "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion",
            "Edema", "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
            "Pleural Other", "Fracture", "Support Devices");

    public static final int COUNT = 14;
    public static final int NO_FINDING = 0;
    public static final int ENLARGED_CARDIOMEDIASTINUM = 1;
    public static final int CARDIOMEGALY = 2;
    public static final int LUNG_OPACITY = 3;
    public static final int EDEMA = 5;
    public static final int CONSOLIDATION = 6;
    public static final int ATELECTASIS = 8;
    public static final int PNEUMOTHORAX = 9;
    public static final int PLEURAL_EFFUSION = 10;
    public static final int SUPPORT_DEVICES = 13;

    /**
     * Column order of MIMIC-CXR's {@code mimic-cxr-2.0.0-chexpert.csv} after subject_id, study_id
     * (alphabetical); SynthCXR writes this order too, loaders go by header name.
     */
    public static final List<String> MIMIC_CSV_ORDER = LABELS.stream().sorted().toList();

    private ChexpertLabels() {
    }

    /** Index of a label name in {@link #LABELS}, or -1. */
    public static int index(String name) {
        return LABELS.indexOf(name);
    }

    /** A fresh array of 14 NaNs ("not mentioned"). */
    public static float[] empty() {
        float[] v = new float[COUNT];
        java.util.Arrays.fill(v, Float.NaN);
        return v;
    }

    /**
     * Parses one label cell: empty → NaN, otherwise 1, 0 or -1 (written as "1.0", "1", "-1.0", ...).
     *
     * @throws DataFileException for anything else, naming the file and line
     */
    public static float parse(String cell, Path file, int line, String column) {
        String s = cell.trim();
        if (s.isEmpty()) {
            return Float.NaN;
        }
        try {
            float v = Float.parseFloat(s);
            if (v == 1f || v == 0f || v == -1f) {
                return v;
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new DataFileException(file, line, "column '" + column + "': expected 1.0, 0.0, -1.0 or empty, got '" + cell + "'");
    }

    /** Formats a label value as MIMIC does: "1.0", "0.0", "-1.0" or "" for NaN. */
    public static String format(float v) {
        if (Float.isNaN(v)) {
            return "";
        }
        return v == 1f ? "1.0" : v == 0f ? "0.0" : v == -1f ? "-1.0" : Float.toString(v);
    }
}
