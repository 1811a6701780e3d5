package mlip.tensor;

/**
 * Philox 4x32-10 (Salmon et al., SC'11), the counter-based generator cuRAND uses: a keyed bijection
 * of a 128-bit counter. Element {@code i} of a random tensor depends only on (seed, stream, offset, i),
 * so the CPU and every GPU thread draw the same numbers with no shared state.
 *
 * <p>Layout used across the project: key = (seed low 32, seed high 32); counter =
 * (block low 32, block high 32, stream low 32, stream high 32), where block = offset + i / 4 and the
 * element takes lane {@code i % 4} of the block's four outputs (two lanes per F64 value).
 */
public final class Philox {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;

    private Philox() {
    }

    /** Ten rounds on counter (c0..c3) with key (k0, k1); writes the four outputs to {@code out}. */
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int r = 0; r < 10; r++) {
            if (r > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /** The four outputs for (seed, stream, block). */
    public static void block(long seed, long stream, long block, int[] out) {
        block((int) block, (int) (block >>> 32), (int) stream, (int) (stream >>> 32), (int) seed, (int) (seed >>> 32), out);
    }

    /** A uniform float in [0, 1) from the top 24 bits. */
    public static float uniformFloat(int bits) {
        return (bits >>> 8) * 0x1.0p-24f;
    }

    /** A uniform float in (0, 1), never 0 nor 1: safe under log (Box-Muller). 23 bits, so the +0.5 stays exact. */
    public static float openUniformFloat(int bits) {
        return ((bits >>> 9) + 0.5f) * 0x1.0p-23f;
    }

    /** A uniform double in [0, 1) from 53 bits of two words. */
    public static double uniformDouble(int hi, int lo) {
        long v = ((long) (hi >>> 5) << 26) | (lo >>> 6);
        return v * 0x1.0p-53;
    }

    /** A uniform double in (0, 1), never 0 nor 1 (52 bits, so the +0.5 stays exact). */
    public static double openUniformDouble(int hi, int lo) {
        long v = ((long) (hi >>> 5) << 26) | (lo >>> 6);
        return ((v >>> 1) + 0.5) * 0x1.0p-52;
    }
}
