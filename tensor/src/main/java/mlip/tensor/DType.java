package mlip.tensor;

/**
 * Element types. {@code F32} is the default; {@code F64} carries gradchecks and references;
 * {@code I32} holds indices, labels and masks.
 */
public enum DType {
    F32(4, true),
    F64(8, true),
    I32(4, false);

    private final int bytes;
    private final boolean floating;

    DType(int bytes, boolean floating) {
        this.bytes = bytes;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** True for F32 and F64. */
    public boolean isFloating() {
        return floating;
    }
}
