package mlip.data.synth;

/**
 * The six findings SynthCXR draws, each tied to its CheXpert label name (exactly as in
 * {@code mimic-cxr-2.0.0-chexpert.csv}) and to a file-name token used for mask files and JSONL.
 *
 * <pre>{@code
 * Finding f = Finding.fromToken("pleural_effusion");
 * f.label();   // "Pleural Effusion"
 * }</pre>
 */
public enum Finding {
    ATELECTASIS("Atelectasis", "atelectasis"),
    CARDIOMEGALY("Cardiomegaly", "cardiomegaly"),
    CONSOLIDATION("Consolidation", "consolidation"),
    EDEMA("Edema", "edema"),
    PLEURAL_EFFUSION("Pleural Effusion", "pleural_effusion"),
    PNEUMOTHORAX("Pneumothorax", "pneumothorax");

    private final String label;
    private final String token;

    Finding(String label, String token) {
        this.label = label;
        this.token = token;
    }

    /** CheXpert label name, e.g. "Pleural Effusion". */
    public String label() {
        return label;
    }

    /** Lower-case token for file names and JSON, e.g. "pleural_effusion". */
    public String token() {
        return token;
    }

    /** Inverse of {@link #token()}. @throws IllegalArgumentException for an unknown token */
    public static Finding fromToken(String token) {
        for (Finding f : values()) {
            if (f.token.equals(token)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown finding '" + token + "'");
    }

    /** Inverse of {@link #label()}, or null when the label is not one of the six. */
    public static Finding fromLabel(String label) {
        for (Finding f : values()) {
            if (f.label.equals(label)) {
                return f;
            }
        }
        return null;
    }
}
