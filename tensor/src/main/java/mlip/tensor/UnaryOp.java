package mlip.tensor;

/** Elementwise one-input ops. GELU comes in the tanh approximation and the exact erf form. */
public enum UnaryOp {
    NEG, ABS, SIGN, EXP, LOG, SQRT, RSQRT, RECIP, SQUARE, TANH, SIGMOID, RELU, ERF, GELU_TANH, GELU_ERF
}
