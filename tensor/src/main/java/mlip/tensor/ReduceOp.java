package mlip.tensor;

/** Reductions along dims. MAX and MIN propagate NaN, as in PyTorch. */
public enum ReduceOp {
    SUM, MEAN, MAX, MIN
}
