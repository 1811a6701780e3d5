package mlip.tensor;

/**
 * A flat buffer of {@link #size()} elements of one dtype, owned by a {@link Backend}. Tensors are
 * (shape, strides, offset) views on a storage; many tensors can share one.
 */
public interface Storage {
    DType dtype();

    /** Number of elements. */
    int size();

    /** The backend that allocated this storage and runs ops on it. */
    Backend backend();
}
