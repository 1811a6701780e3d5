package mlip.tensor;

import static mlip.tensor.TestTensors.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Philox 4x32-10 known answers, the documented element layout, distribution moments, seeding and offsets. */
class RandomTest {

    private static int[] philox(int c0, int c1, int c2, int c3, int k0, int k1) {
        int[] out = new int[4];
        Philox.block(c0, c1, c2, c3, k0, k1, out);
        return out;
    }

    /** Random123's tests/kat_vectors for philox4x32_10 (also used by TensorFlow's and cuRAND-compatible test suites). */
    @Test
    void philoxKnownAnswerVectors() {
        assertArrayEquals(new int[]{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, philox(0, 0, 0, 0, 0, 0));
        assertArrayEquals(new int[]{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, philox(-1, -1, -1, -1, -1, -1));
        assertArrayEquals(new int[]{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                philox(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0));
    }

    @Test
    void seedStreamBlockLayout() {
        long seed = 0x1234_5678_9abc_def0L, stream = 0x0fed_cba9_8765_4321L, block = 0x0000_0007_0000_0003L;
        int[] out = new int[4];
        Philox.block(seed, stream, block, out);
        // counter = (block lo, block hi, stream lo, stream hi), key = (seed lo, seed hi)
        assertArrayEquals(philox(3, 7, 0x87654321, 0x0fedcba9, 0x9abcdef0, 0x12345678), out);
    }

    static float uniformF32(int bits) {
        return (bits >>> 8) / 16777216f;
    }

    static double uniformF64(int hi, int lo) {
        return ((long) (hi >>> 5) * (1L << 26) + (lo >>> 6)) / 9007199254740992.0;
    }

    /** Element i of an F32 draw is lane i % 4 of block offset + i / 4; an F64 value takes two lanes of block offset + i / 2. */
    @Test
    void randomTensorsFollowTheDocumentedPhiloxLayout() {
        long seed = 77, stream = 3;
        Generator g = new Generator(seed, stream, 5);
        int n = 23;
        float[] u = Tensor.rand(g, n).toFloatArray();
        assertEquals(5 + 6, g.offset(), "23 F32 values use 6 blocks");
        int[] w = new int[4];
        for (int i = 0; i < n; i++) {
            Philox.block(seed, stream, 5 + i / 4, w);
            assertEquals(uniformF32(w[i % 4]), u[i], 0f, "uniform F32 element " + i);
        }
        double[] ud = Tensor.random(g, Distribution.UNIFORM, DType.F64, Device.CPU, n).toDoubleArray();
        assertEquals(11 + 12, g.offset(), "23 F64 values use 12 blocks");
        for (int i = 0; i < n; i++) {
            Philox.block(seed, stream, 11 + i / 2, w);
            assertEquals(uniformF64(w[2 * (i % 2)], w[2 * (i % 2) + 1]), ud[i], 0.0, "uniform F64 element " + i);
        }
        // normals: Box-Muller on lane pairs (0, 1) and (2, 3) for F32; on the block's two uniforms for F64
        float[] z = Tensor.randn(g, n).toFloatArray();
        for (int i = 0; i < n; i++) {
            Philox.block(seed, stream, 23 + i / 4, w);
            int l = i % 4 & ~1;
            double r = Math.sqrt(-2 * Math.log(((w[l] >>> 8) + 0.5) / 16777216.0));
            double th = 2 * Math.PI * uniformF32(w[l + 1]);
            double expect = i % 2 == 0 ? r * Math.cos(th) : r * Math.sin(th);
            assertEquals(expect, z[i], 1e-5 + 1e-5 * Math.abs(expect), "normal F32 element " + i);
        }
        double[] zd = Tensor.random(g, Distribution.NORMAL, DType.F64, Device.CPU, n).toDoubleArray();
        for (int i = 0; i < n; i++) {
            Philox.block(seed, stream, 29 + i / 2, w);
            long v = ((long) (w[0] >>> 5) << 26) | (w[1] >>> 6);
            double r = Math.sqrt(-2 * Math.log((v + 0.5) / 9007199254740992.0));
            double th = 2 * Math.PI * uniformF64(w[2], w[3]);
            double expect = i % 2 == 0 ? r * Math.cos(th) : r * Math.sin(th);
            assertEquals(expect, zd[i], 1e-12, "normal F64 element " + i);
        }
    }

    @Test
    void uniformMomentsOnAHundredThousandSamples() {
        for (DType dt : FLOATING) {
            Generator g = new Generator(2024);
            double[] v = Tensor.random(g, Distribution.UNIFORM, dt, Device.CPU, 100_000).toDoubleArray();
            double mean = 0, sq = 0, min = 1, max = 0;
            int[] bins = new int[10];
            for (double x : v) {
                assertTrue(x >= 0 && x < 1, "uniform in [0, 1): " + x);
                mean += x;
                min = Math.min(min, x);
                max = Math.max(max, x);
                bins[(int) (x * 10)]++;
            }
            mean /= v.length;
            for (double x : v) sq += (x - mean) * (x - mean);
            double var = sq / v.length;
            // the standard error of the mean is 0.29 / sqrt(1e5) ~ 9e-4: a bound of 0.01 is > 10 sigma
            assertEquals(0.5, mean, 0.01, dt + " mean");
            assertEquals(1.0 / 12, var, 0.005, dt + " variance");
            assertTrue(min < 1e-3 && max > 1 - 1e-3, dt + " covers the interval");
            for (int b : bins) assertEquals(10_000, b, 600, dt + " histogram " + Arrays.toString(bins));
        }
    }

    @Test
    void normalMomentsOnAHundredThousandSamples() {
        for (DType dt : FLOATING) {
            Generator g = new Generator(99, 1, 0);
            double[] v = Tensor.random(g, Distribution.NORMAL, dt, Device.CPU, 100_000).toDoubleArray();
            double mean = 0, sq = 0, within1 = 0, cube = 0;
            for (double x : v) {
                assertTrue(Double.isFinite(x));
                mean += x;
                if (Math.abs(x) < 1) within1++;
            }
            mean /= v.length;
            for (double x : v) {
                sq += (x - mean) * (x - mean);
                cube += Math.pow(x - mean, 3);
            }
            double var = sq / v.length;
            // standard errors: mean 3e-3, variance 4.5e-3, fraction within 1 sigma 1.5e-3; bounds are >= 6 sigma
            assertEquals(0, mean, 0.02, dt + " mean");
            assertEquals(1, var, 0.03, dt + " variance");
            assertEquals(0.6826894921370859, within1 / v.length, 0.01, dt + " P(|z| < 1)");
            assertEquals(0, cube / v.length, 0.05, dt + " skewness");
        }
    }

    @Test
    void sameSeedSameValuesAndTheOffsetAdvances() {
        Tensor a = Tensor.randn(new Generator(5), 3, 7);
        Tensor b = Tensor.randn(new Generator(5), 3, 7);
        assertBitsEqual("same seed", a, b);
        assertFalse(Arrays.equals(a.toFloatArray(), Tensor.randn(new Generator(6), 3, 7).toFloatArray()), "another seed");
        assertFalse(Arrays.equals(a.toFloatArray(), Tensor.randn(new Generator(5, 1, 0), 3, 7).toFloatArray()), "another stream");

        Generator g = new Generator(5);
        assertEquals(0, g.offset());
        Tensor first = Tensor.randn(g, 3, 7);
        assertEquals(6, g.offset(), "21 F32 values take 6 blocks");
        Tensor second = Tensor.randn(g, 3, 7);
        assertEquals(12, g.offset());
        assertBitsEqual("the first draw is the seed's", a, first);
        assertFalse(Arrays.equals(first.toFloatArray(), second.toFloatArray()), "successive draws differ");
        // resuming from a stored (seed, stream, offset) continues the sequence exactly
        assertBitsEqual("resume", second, Tensor.randn(new Generator(5, 0, 6), 3, 7));
        Tensor d1 = Tensor.random(g, Distribution.UNIFORM, DType.F64, Device.CPU, 5);
        assertEquals(15, g.offset(), "5 F64 values take 3 blocks");
        assertEquals(3, Generator.blocksFor(5, DType.F64));
        assertEquals(2, Generator.blocksFor(5, DType.F32));
        assertEquals(0, Generator.blocksFor(0, DType.F32));
        assertEquals(DType.F64, d1.dtype());
        assertEquals(0, Tensor.rand(g, 0).numel());
        assertEquals(15, g.offset(), "an empty draw takes nothing");
        assertArrayEquals(new int[]{2, 0, 3}, Tensor.rand(g, 2, 0, 3).shape());
        assertEquals(0, Tensor.rand(g).ndim(), "a 0-d draw");
        assertIAE(() -> Tensor.random(new Generator(1), Distribution.UNIFORM, DType.I32, Device.CPU, 3), "random", "I32");
    }

    /**
     * The "open" uniforms feed log() in Box-Muller and are documented as (0, 1). Adding 0.5 to a 24-bit
     * (53-bit) integer rounds the top value up to 2^24 (2^53), so the largest input gives exactly 1.0.
     */
    @Test
    void openUniformsStayStrictlyInsideZeroOne() {
        java.util.List<String> bad = new java.util.ArrayList<>();
        for (int bits : new int[]{0, 1, 0x7fffffff, -512, -256, -1}) {
            float f = Philox.openUniformFloat(bits);
            if (!(f > 0 && f < 1)) bad.add("openUniformFloat(0x" + Integer.toHexString(bits) + ") = " + f);
        }
        for (int hi : new int[]{0, -1}) {
            for (int lo : new int[]{0, -128, -64, -1}) {
                double d = Philox.openUniformDouble(hi, lo);
                if (!(d > 0 && d < 1)) bad.add("openUniformDouble(0x" + Integer.toHexString(hi) + ", 0x" + Integer.toHexString(lo) + ") = " + d);
            }
        }
        assertTrue(bad.isEmpty(), "outside (0, 1): " + bad);
        assertTrue(Philox.uniformFloat(-1) < 1f);
        assertTrue(Philox.uniformDouble(-1, -1) < 1.0);
        assertEquals(0f, Philox.uniformFloat(0));
    }
}
