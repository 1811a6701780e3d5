package mlip.data.synth;

/** How pronounced a finding is: it scales the drawn size and density, and the report's wording. */
public enum Severity {
    MILD, MODERATE, SEVERE;

    /** 0, 1, 2. */
    public int level() {
        return ordinal();
    }

    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
