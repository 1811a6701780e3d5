package mlip.autograd;

/**
 * Every differentiable op. {@link Derivatives} has exactly one rule per constant here, and
 * {@code GradcheckTest} enumerates this enum: an op added without a rule or a gradcheck fails the build.
 */
public enum Op {
    // elementwise, two inputs (broadcast gradients are summed back centrally by the engine)
    ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM,
    // elementwise, one input
    NEG, EXP, LOG, SQRT, RSQRT, RECIP, SQUARE, ABS, TANH, SIGMOID, RELU, ERF, GELU_TANH, GELU_ERF, POW_SCALAR,
    // reductions
    SUM, MEAN, MAX,
    // shape and indexing
    RESHAPE, PERMUTE, NARROW, SELECT, EXPAND, CAT, GATHER, INDEX_SELECT, SCATTER_ADD, WHERE,
    // linear algebra and fused
    MATMUL, SOFTMAX, LOG_SOFTMAX, LAYER_NORM, CROSS_ENTROPY, ATTENTION,
    // transformer fusions: gelu(x + bias) with the pre-activation recomputed in backward
    BIAS_GELU,
    // MLIP (DESIGN.md 7.2, 7.3): OT pair scores with the plan held constant; top-k row gather
    PATCH_SENTENCE_OT, TOPK_GATHER
}
