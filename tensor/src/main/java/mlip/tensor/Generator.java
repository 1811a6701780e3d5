package mlip.tensor;

/**
 * A seeded source of random tensors: (seed, stream) names the sequence and {@link #offset()} says
 * how many Philox blocks have been used. Each draw takes the next blocks, so a run is reproducible
 * from the seed alone and a checkpoint can store (seed, stream, offset) to resume exactly.
 *
 * <pre>{@code
 * Generator g = new Generator(42);
 * Tensor w = Tensor.randn(g, 128, 64).mul(0.02);
 * }</pre>
 *
 * Not thread-safe: give each thread its own stream.
 */
public final class Generator {
    private final long seed;
    private final long stream;
    private long offset;

    public Generator(long seed) {
        this(seed, 0, 0);
    }

    public Generator(long seed, long stream, long offset) {
        this.seed = seed;
        this.stream = stream;
        this.offset = offset;
    }

    public long seed() {
        return seed;
    }

    public long stream() {
        return stream;
    }

    /** Philox blocks consumed so far. */
    public long offset() {
        return offset;
    }

    /** Reserves {@code blocks} Philox blocks and returns the first block's offset. */
    public long take(long blocks) {
        long start = offset;
        offset += blocks;
        return start;
    }

    /** Blocks needed for {@code n} values of {@code dtype}: four 32-bit lanes per block, two per F64 value. */
    public static long blocksFor(int n, DType dtype) {
        int perBlock = dtype == DType.F64 ? 2 : 4;
        return (n + perBlock - 1L) / perBlock;
    }
}
