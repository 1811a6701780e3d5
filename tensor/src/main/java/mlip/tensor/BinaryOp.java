package mlip.tensor;

/**
 * Elementwise two-input ops (with broadcasting). Comparisons return 1 or 0 in the inputs' dtype, so a
 * mask multiplies directly and {@code where}/{@code maskedFill} take it (nonzero = true).
 */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, MAX, MIN, POW, EQ, NE, LT, LE, GT, GE;

    public boolean isComparison() {
        return ordinal() >= EQ.ordinal();
    }
}
