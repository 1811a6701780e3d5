package mlip.tensor;

/** How a loss is reduced over its rows (PyTorch's {@code reduction=}). */
public enum Reduction {
    NONE, SUM, MEAN
}
