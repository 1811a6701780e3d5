package mlip.data.synth;

/**
 * Where a finding sits, in the patient's frame ("right" = the patient's right, which is the image's
 * LEFT half: SynthCXR images are PA views displayed in the radiological convention, see
 * {@link SynthCxr}).
 */
public enum Location {
    RIGHT("right"), LEFT("left"), BILATERAL("bilateral"),
    RIGHT_UPPER_LOBE("right upper lobe"), RIGHT_MIDDLE_LOBE("right middle lobe"), RIGHT_LOWER_LOBE("right lower lobe"),
    LEFT_UPPER_LOBE("left upper lobe"), LEFT_LOWER_LOBE("left lower lobe"),
    /** The heart (cardiomegaly), and findings without a side. */
    CENTRAL("central");

    private final String words;

    Location(String words) {
        this.words = words;
    }

    /** Report words, e.g. "right middle lobe". */
    public String words() {
        return words;
    }

    /** True for locations in the patient's right lung (the image's left half). */
    public boolean isRight() {
        return this == RIGHT || this == RIGHT_UPPER_LOBE || this == RIGHT_MIDDLE_LOBE || this == RIGHT_LOWER_LOBE;
    }

    /** True for locations in the patient's left lung (the image's right half). */
    public boolean isLeft() {
        return this == LEFT || this == LEFT_UPPER_LOBE || this == LEFT_LOWER_LOBE;
    }

    public boolean isLobe() {
        return name().endsWith("_LOBE");
    }
}
