package mlip.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import mlip.tensor.Tolerance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Sgemm#sgemm} and {@link Sgemm#sgemmBatched} against {@link Sgemm#reference} (double accumulation):
 * every stride layout, edge sizes around the micro-tile and K block, alpha/beta, batches with repeated
 * offsets, bounds errors, and bit-identical results for 1 and 2 threads.
 *
 * <p>Tolerance ({@link Tolerance#close}, the one policy): |got - ref| <= ATOL * sqrt(k) * max(1, |alpha|) + RTOL * |ref|
 * with ATOL = 1e-4 and RTOL = {@link Tolerance#F32_RTOL} (1e-4); ATOL overrides F32_ATOL (1e-5) because
 * the error of a length-k dot product grows with k.
 * Operands are uniform in [-1, 1). A float32 dot product of length k rounds k times; the rounding errors
 * behave like a random walk of ~sqrt(k) steps of size u * |partial sum| (u = 2^-24 = 6e-8, partial sums
 * ~ sqrt(k)/3), i.e. ~ 2e-8 * k, which is 1e-4 * sqrt(k) / 50 even at k = 600. The rigorous worst case
 * (k * u * sum|a||b| ~ 1.5e-8 * k^2) is far above what random data reaches, so we do not use it. A bug
 * (a skipped, doubled or misplaced product) moves an element by ~|a_p b_p| ~ 0.25: 1e-4 * sqrt(k) stays
 * far below that, so the check still catches it.
 */
class SgemmTest {

    private static final double ATOL = 1e-4;
    private static final double RTOL = Tolerance.F32_RTOL;

    private static Parallel one;
    private static Parallel two;

    @BeforeAll
    static void pools() {
        one = new Parallel(1);
        two = new Parallel(2);
    }

    @AfterAll
    static void done() {
        one = null;
        two = null;
    }

    /** How a logical rows x cols matrix is laid out in its array. */
    enum Layout {
        ROW,        // row-major, dense
        ROW_PADDED, // row-major view of a wider matrix (row stride > cols), nonzero offset
        TRANSPOSED, // column-major (a transposed view), padded
        STRIDED     // neither stride is 1 (e.g. every other column of a wider matrix)
    }

    /** A matrix view: element (i, j) at data[off + i*rs + j*cs]. */
    record Mat(float[] data, int off, int rs, int cs, int rows, int cols) {
        float get(int i, int j) {
            return data[off + i * rs + j * cs];
        }
    }

    static Mat make(SplittableRandom rnd, Layout layout, int rows, int cols) {
        int off, rs, cs, size;
        switch (layout) {
            case ROW -> { off = 0; rs = cols; cs = 1; size = rows * cols; }
            case ROW_PADDED -> { off = 5; rs = cols + 3; cs = 1; size = off + rows * rs; }
            case TRANSPOSED -> { off = 2; rs = 1; cs = rows + 1; size = off + cols * cs; }
            case STRIDED -> { off = 1; cs = 2; rs = 2 * cols + 3; size = off + rows * rs; }
            default -> throw new AssertionError();
        }
        float[] d = new float[Math.max(1, size)];
        // Everything, padding included, is random: reading padding by mistake shows up as a wrong result.
        for (int i = 0; i < d.length; i++) d[i] = (float) (rnd.nextDouble() * 2 - 1);
        return new Mat(d, off, rs, cs, rows, cols);
    }

    /** C (m x n) with row stride ldc >= n and an offset, random or NaN-filled. */
    static float[] makeC(SplittableRandom rnd, int m, int ldc, int cOff, boolean nan) {
        float[] c = new float[Math.max(1, cOff + m * ldc)];
        for (int i = 0; i < c.length; i++) c[i] = nan ? Float.NaN : (float) (rnd.nextDouble() * 2 - 1);
        return c;
    }

    static void assertClose(String what, float[] ref, float[] got, int k, float alpha) {
        double atol = ATOL * Math.sqrt(Math.max(1, k)) * Math.max(1.0, Math.abs(alpha));
        for (int i = 0; i < ref.length; i++) {
            if (!Tolerance.close(got[i], ref[i], atol, RTOL)) {
                fail(what + ": element " + i + " expected " + ref[i] + " got " + got[i] + " (|diff| "
                        + Math.abs(got[i] - ref[i]) + " > " + (atol + RTOL * Math.abs(ref[i])) + ")");
            }
        }
    }

    /** Runs one product on the given pool and on the reference, compares all of C (padding included). */
    static void check(SplittableRandom rnd, Parallel pool, Layout la, Layout lb, int m, int n, int k,
                      float alpha, float beta) {
        Mat a = make(rnd, la, m, k);
        Mat b = make(rnd, lb, k, n);
        int ldc = n + (la == Layout.ROW ? 0 : 2);
        int cOff = la == Layout.ROW ? 0 : 3;
        float[] c0 = makeC(rnd, m, ldc, cOff, beta == 0f);
        float[] want = c0.clone();
        float[] got = c0.clone();
        Sgemm.reference(m, n, k, alpha, a.data, a.off, a.rs, a.cs, b.data, b.off, b.rs, b.cs, beta, want, cOff, ldc);
        Sgemm.sgemm(pool, m, n, k, alpha, a.data, a.off, a.rs, a.cs, b.data, b.off, b.rs, b.cs, beta, got, cOff, ldc);
        String what = "m=" + m + " n=" + n + " k=" + k + " A " + la + " B " + lb + " alpha=" + alpha + " beta=" + beta;
        // Padding of C (between rows, before the offset) must be untouched: compare it bit for bit.
        for (int i = 0; i < got.length; i++) {
            int rel = i - cOff;
            boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
            if (!inside && Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(c0[i])) {
                fail(what + ": wrote outside C at index " + i);
            }
        }
        for (int i = 0; i < want.length; i++) {
            if (beta == 0f && m > 0 && n > 0) {
                int rel = i - cOff;
                boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
                if (inside) assertTrue(!Float.isNaN(got[i]), what + ": NaN from C leaked with beta = 0 at " + i);
            }
        }
        assertClose(what, want, got, k, alpha);
    }

    // Sizes around the micro-tile (MR x NR) and the K block (KC), plus small odd ones.
    static final int[] MS = {1, 3, Sgemm.MR - 1, Sgemm.MR, Sgemm.MR + 1, 17, 33, 65, 130};
    static final int[] NS = {1, 3, 7, 17, Sgemm.NR - 1, Sgemm.NR, Sgemm.NR + 1, 65, 130};
    static final int[] KS = {1, 3, 7, 17, 65, Sgemm.KC - 1, Sgemm.KC, Sgemm.KC + 1, 2 * Sgemm.KC + 7};

    @Test
    void allLayoutsAgainstReference() {
        SplittableRandom rnd = new SplittableRandom(20240611L);
        for (Layout la : Layout.values()) {
            for (Layout lb : Layout.values()) {
                // A seeded sample of (m, n, k) per layout pair, plus the corner with every size odd.
                for (int t = 0; t < 10; t++) {
                    int m = MS[rnd.nextInt(MS.length)], n = NS[rnd.nextInt(NS.length)], k = KS[rnd.nextInt(KS.length)];
                    check(rnd, t % 2 == 0 ? one : two, la, lb, m, n, k, 1f, 0f);
                }
                check(rnd, two, la, lb, 7, 17, 17, 1f, 0f);
                check(rnd, two, la, lb, 65, 130, 2 * Sgemm.KC + 7, 1f, 0f);
            }
        }
    }

    @Test
    void everyEdgeSizeRowMajor() {
        SplittableRandom rnd = new SplittableRandom(7L);
        for (int m : MS) {
            for (int n : NS) {
                check(rnd, two, Layout.ROW, Layout.ROW, m, n, 17, 1f, 0f);
            }
        }
        for (int k : KS) {
            check(rnd, two, Layout.ROW, Layout.ROW, 13, 50, k, 1f, 0f);
            check(rnd, one, Layout.TRANSPOSED, Layout.STRIDED, 13, 50, k, 1f, 0f);
        }
    }

    @Test
    void alphaBetaCombinations() {
        SplittableRandom rnd = new SplittableRandom(11L);
        float[] alphas = {1f, 0.5f, -2f, 0f};
        float[] betas = {0f, 1f, -0.75f};
        for (float alpha : alphas) {
            for (float beta : betas) {
                // k = 2*KC+7 runs three K blocks: beta applies on the first only.
                check(rnd, two, Layout.ROW, Layout.ROW, 33, 65, 2 * Sgemm.KC + 7, alpha, beta);
                check(rnd, one, Layout.TRANSPOSED, Layout.TRANSPOSED, 17, 7, 3, alpha, beta);
                check(rnd, two, Layout.STRIDED, Layout.ROW_PADDED, 130, 49, 65, alpha, beta);
            }
        }
    }

    @Test
    void alphaZeroDoesNotReadAOrB() {
        SplittableRandom rnd = new SplittableRandom(3L);
        float[] a = new float[6 * 5];
        float[] b = new float[5 * 4];
        Arrays.fill(a, Float.NaN);
        Arrays.fill(b, Float.POSITIVE_INFINITY);
        float[] c = makeC(rnd, 6, 4, 0, false);
        float[] want = c.clone();
        for (int i = 0; i < want.length; i++) want[i] *= 0.5f;
        Sgemm.sgemm(two, 6, 4, 5, 0f, a, 0, 5, 1, b, 0, 4, 1, 0.5f, c, 0, 4);
        assertArrayEquals(want, c);
    }

    @Test
    void zeroSizes() {
        SplittableRandom rnd = new SplittableRandom(5L);
        for (float beta : new float[] {0f, 1f, 2f}) {
            // k == 0: C = beta * C (beta == 0 writes zeros over NaN).
            float[] c = makeC(rnd, 7, 9, 0, beta == 0f);
            float[] want = c.clone();
            Sgemm.reference(7, 9, 0, 1f, new float[0], 0, 0, 1, new float[0], 0, 9, 1, beta, want, 0, 9);
            Sgemm.sgemm(two, 7, 9, 0, 1f, new float[0], 0, 0, 1, new float[0], 0, 9, 1, beta, c, 0, 9);
            assertArrayEquals(want, c);
            for (float v : c) assertTrue(!Float.isNaN(v));
        }
        // m == 0 or n == 0: nothing to do, nothing touched.
        float[] c = {42f};
        Sgemm.sgemm(two, 0, 5, 3, 1f, new float[0], 0, 3, 1, new float[15], 0, 5, 1, 0f, c, 0, 5);
        Sgemm.sgemm(two, 5, 0, 3, 1f, new float[15], 0, 3, 1, new float[0], 0, 0, 1, 0f, c, 0, 0);
        assertEquals(42f, c[0]);
        Sgemm.sgemmBatched(two, 0, 4, 4, 4, 1f, new float[0], new int[0], 4, 1, new float[0], new int[0], 4, 1,
                0f, c, new int[0], 4);
        assertEquals(42f, c[0]);
    }

    @Test
    void infAndNanPropagateLikeTheReference() {
        SplittableRandom rnd = new SplittableRandom(9L);
        Mat a = make(rnd, Layout.ROW, 13, 40);
        Mat b = make(rnd, Layout.ROW, 40, 50);
        a.data[3 * 40 + 7] = Float.POSITIVE_INFINITY;   // row 3 becomes +-Inf
        a.data[8 * 40 + 1] = Float.NaN;                 // row 8 becomes NaN
        b.data[5 * 50 + 20] = Float.NEGATIVE_INFINITY;  // column 20 becomes +-Inf (NaN where it meets row 3)
        float[] want = new float[13 * 50];
        float[] got = new float[13 * 50];
        Sgemm.reference(13, 50, 40, 1f, a.data, 0, 40, 1, b.data, 0, 50, 1, 0f, want, 0, 50);
        Sgemm.sgemm(two, 13, 50, 40, 1f, a.data, 0, 40, 1, b.data, 0, 50, 1, 0f, got, 0, 50);
        assertClose("inf/nan", want, got, 40, 1f);
    }

    @Test
    void batchedWithBroadcastOffsets() {
        SplittableRandom rnd = new SplittableRandom(13L);
        int m = 19, n = 37, k = 70;
        for (int batch : new int[] {1, 3, 10}) {
            for (Layout la : new Layout[] {Layout.ROW, Layout.TRANSPOSED}) {
                // A: 2 distinct matrices reused (broadcast), B: one per entry; C: one per entry, padded.
                Mat a0 = make(rnd, la, m, k);
                int aSize = a0.data.length;
                float[] a = new float[2 * aSize];
                for (int i = 0; i < a.length; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
                float[] b = new float[batch * k * n];
                for (int i = 0; i < b.length; i++) b[i] = (float) (rnd.nextDouble() * 2 - 1);
                int ldc = n + 1, cStride = m * ldc + 4;
                float[] c0 = makeC(rnd, 1, batch * cStride, 0, false);
                int[] aOffs = new int[batch], bOffs = new int[batch], cOffs = new int[batch];
                for (int e = 0; e < batch; e++) {
                    aOffs[e] = a0.off + (e % 2) * aSize;
                    bOffs[e] = e * k * n;
                    cOffs[e] = e * cStride + 2;
                }
                for (float beta : new float[] {0f, 1f}) {
                    for (Parallel pool : new Parallel[] {one, two}) {
                        float[] want = c0.clone(), got = c0.clone();
                        for (int e = 0; e < batch; e++) {
                            Sgemm.reference(m, n, k, 1.5f, a, aOffs[e], a0.rs, a0.cs, b, bOffs[e], n, 1, beta,
                                    want, cOffs[e], ldc);
                        }
                        Sgemm.sgemmBatched(pool, batch, m, n, k, 1.5f, a, aOffs, a0.rs, a0.cs, b, bOffs, n, 1,
                                beta, got, cOffs, ldc);
                        assertClose("batch=" + batch + " " + la + " beta=" + beta, want, got, k, 1.5f);
                    }
                }
                // Broadcast B too: every entry uses the same B.
                int[] sameB = new int[batch];
                float[] want = c0.clone(), got = c0.clone();
                for (int e = 0; e < batch; e++) {
                    Sgemm.reference(m, n, k, 1f, a, aOffs[e], a0.rs, a0.cs, b, 0, n, 1, 0f, want, cOffs[e], ldc);
                }
                Sgemm.sgemmBatched(two, batch, m, n, k, 1f, a, aOffs, a0.rs, a0.cs, b, sameB, n, 1, 0f, got, cOffs, ldc);
                assertClose("batch=" + batch + " broadcast B", want, got, k, 1f);
            }
        }
    }

    @Test
    void sameBitsForOneAndTwoThreads() {
        SplittableRandom rnd = new SplittableRandom(17L);
        // Large enough to take the parallel path (> PARALLEL_MIN_FLOPS), with edges in m, n and a partial K block.
        int[][] shapes = {{300, 200, 2 * Sgemm.KC + 7}, {1000, 100, 96}, {20, 700, 300}, {7, 17, 5}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            for (Layout la : new Layout[] {Layout.ROW, Layout.STRIDED}) {
                Mat a = make(rnd, la, m, k);
                Mat b = make(rnd, Layout.ROW, k, n);
                float[] c0 = makeC(rnd, m, n, 0, false);
                float[] r1 = c0.clone(), r2 = c0.clone(), r3 = c0.clone();
                Sgemm.sgemm(one, m, n, k, 0.7f, a.data, a.off, a.rs, a.cs, b.data, b.off, b.rs, b.cs, -1.25f, r1, 0, n);
                Sgemm.sgemm(two, m, n, k, 0.7f, a.data, a.off, a.rs, a.cs, b.data, b.off, b.rs, b.cs, -1.25f, r2, 0, n);
                Sgemm.sgemm(null, m, n, k, 0.7f, a.data, a.off, a.rs, a.cs, b.data, b.off, b.rs, b.cs, -1.25f, r3, 0, n);
                String what = "m=" + m + " n=" + n + " k=" + k + " " + la;
                assertTrue(Arrays.equals(r1, r2), what + ": 1 and 2 threads differ");
                assertTrue(Arrays.equals(r1, r3), what + ": pool and no pool differ");
            }
        }
        // Batched, shared B (one packing, tiles of all entries spread over the pool) and distinct B (split
        // over entries): 1 and 2 threads give the same bits, and so does one stacked product.
        int batch = 16, m = 40, n = 50, k = 300;
        Mat a = make(rnd, Layout.ROW, batch * m, k);
        Mat b = make(rnd, Layout.ROW, batch * k, n);
        int[] aOffs = new int[batch], sameB = new int[batch], ownB = new int[batch], cOffs = new int[batch];
        for (int e = 0; e < batch; e++) {
            aOffs[e] = e * m * k;
            ownB[e] = e * k * n;
            cOffs[e] = e * m * n;
        }
        for (int[] bOffs : new int[][] {sameB, ownB}) {
            String what = bOffs == sameB ? "batched, shared B" : "batched, own B";
            float[] r1 = new float[batch * m * n], r2 = new float[batch * m * n];
            Sgemm.sgemmBatched(one, batch, m, n, k, 1f, a.data, aOffs, k, 1, b.data, bOffs, n, 1, 0f, r1, cOffs, n);
            Sgemm.sgemmBatched(two, batch, m, n, k, 1f, a.data, aOffs, k, 1, b.data, bOffs, n, 1, 0f, r2, cOffs, n);
            assertTrue(Arrays.equals(r1, r2), what + ": 1 and 2 threads differ");
            float[] want = new float[batch * m * n];
            for (int e = 0; e < batch; e++) {
                Sgemm.reference(m, n, k, 1f, a.data, aOffs[e], k, 1, b.data, bOffs[e], n, 1, 0f, want, cOffs[e], n);
            }
            assertClose(what, want, r2, k, 1f);
            if (bOffs == sameB) {
                float[] r3 = new float[batch * m * n];
                Sgemm.sgemm(two, batch * m, n, k, 1f, a.data, 0, k, 1, b.data, 0, n, 1, 0f, r3, 0, n);
                assertTrue(Arrays.equals(r1, r3), "batched entries differ from the stacked product");
            }
        }
        // Offset arrays longer than the batch: only the first `batch` entries count.
        float[] r4 = new float[batch * m * n];
        Arrays.fill(r4, 7f);
        Sgemm.sgemmBatched(two, 2, m, n, k, 1f, a.data, aOffs, k, 1, b.data, ownB, n, 1, 0f, r4, cOffs, n);
        for (int i = 2 * m * n; i < r4.length; i++) assertEquals(7f, r4[i], "entry past the batch was written");
    }

    @Test
    void largerProductOnTwoThreads() {
        SplittableRandom rnd = new SplittableRandom(23L);
        check(rnd, two, Layout.ROW, Layout.ROW, 257, 301, 600, 1f, 0f);
        check(rnd, two, Layout.ROW, Layout.TRANSPOSED, 200, 97, 513, 1f, 1f);
        check(rnd, two, Layout.TRANSPOSED, Layout.ROW, 97, 200, 300, -1f, 0.5f);
    }

    @Test
    void boundsErrorsNameSgemmAndSizes() {
        float[] a = new float[6], b = new float[6], c = new float[4];
        List<Runnable> bad = new ArrayList<>();
        bad.add(() -> Sgemm.sgemm(two, 2, 2, 4, 1f, a, 0, 4, 1, b, 0, 2, 1, 0f, c, 0, 2));   // A too short
        bad.add(() -> Sgemm.sgemm(two, 2, 2, 3, 1f, a, 1, 3, 1, b, 0, 2, 1, 0f, c, 0, 2));   // A offset
        bad.add(() -> Sgemm.sgemm(two, 2, 2, 3, 1f, a, 0, 3, 1, b, 0, 3, 1, 0f, c, 0, 2));   // B row stride
        bad.add(() -> Sgemm.sgemm(two, 2, 2, 3, 1f, a, 0, 3, 1, b, 0, 2, 1, 0f, c, 1, 2));   // C offset
        bad.add(() -> Sgemm.sgemm(two, 2, 2, 3, 1f, a, 0, 3, 1, b, 0, 2, 1, 0f, c, 0, 1));   // ldc < n
        bad.add(() -> Sgemm.sgemm(two, -1, 2, 3, 1f, a, 0, 3, 1, b, 0, 2, 1, 0f, c, 0, 2));  // negative m
        bad.add(() -> Sgemm.sgemm(two, 2, 2, 3, 1f, a, -1, 3, 1, b, 0, 2, 1, 0f, c, 0, 2));  // negative offset
        for (Runnable r : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
            assertTrue(e.getMessage().contains("sgemm"), e.getMessage());
            assertTrue(e.getMessage().contains("m="), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sgemm.sgemmBatched(two, 2, 2, 2, 3,
                1f, a, new int[] {0, 1}, 3, 1, b, new int[] {0, 0}, 2, 1, 0f, c, new int[] {0, 0}, 2));
        assertTrue(e.getMessage().contains("sgemmBatched[1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Sgemm.sgemmBatched(two, 3, 2, 2, 3,
                1f, a, new int[] {0}, 3, 1, b, new int[] {0, 0, 0}, 2, 1, 0f, c, new int[] {0, 0, 0}, 2));
    }
}
