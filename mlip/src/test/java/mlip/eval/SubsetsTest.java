package mlip.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SubsetsTest {
    /** Labels with class sizes {@code sizes[c]} (labels c), interleaved in a seeded random order. */
    private static int[] labels(long seed, int... sizes) {
        int n = Arrays.stream(sizes).sum();
        int[] l = new int[n];
        int at = 0;
        for (int c = 0; c < sizes.length; c++) for (int i = 0; i < sizes[c]; i++) l[at++] = c;
        Random r = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = l[i];
            l[i] = l[j];
            l[j] = t;
        }
        return l;
    }

    private static int[] perClass(int[] labels, int[] idx, int classes) {
        int[] c = new int[classes];
        for (int i : idx) c[labels[i]]++;
        return c;
    }

    private static void assertValid(int[] idx, int n) {
        for (int i = 0; i < idx.length; i++) {
            assertTrue(idx[i] >= 0 && idx[i] < n, "index in range");
            if (i > 0) assertTrue(idx[i] > idx[i - 1], "sorted and unique");
        }
    }

    @Test
    void proportionalCountsWithLargestRemainder() {
        int[] l = labels(1, 500, 300, 200);
        int[] ten = Subsets.stratified(l, 0.10, 7);
        assertValid(ten, l.length);
        assertArrayEquals(new int[]{50, 30, 20}, perClass(l, ten, 3));
        int[] one = Subsets.stratified(l, 0.01, 7);
        assertArrayEquals(new int[]{5, 3, 2}, perClass(l, one, 3));
        // sizes 7, 5, 3 at 50%: quotas 3.5, 2.5, 1.5 -> floors 3, 2, 1 (6), total round(7.5) = 8:
        // the two extra rows go to the largest remainders (all 0.5), ties to the smaller label -> 4, 3, 1
        int[] l2 = labels(2, 7, 5, 3);
        assertArrayEquals(new int[]{4, 3, 1}, perClass(l2, Subsets.stratified(l2, 0.5, 3), 3));
    }

    @Test
    void everyClassIsKeptEvenBelowOneExpectedRow() {
        int[] l = labels(3, 900, 95, 3, 2);                 // classes 2 and 3 expect 0.03 and 0.02 rows at 1%
        int[] idx = Subsets.stratified(l, 0.01, 11);
        assertValid(idx, l.length);
        // floors 9, 0->1, 0->1, 0->1 = 12 >= round(10) = 10: one per rare class, the total grows to 12
        assertArrayEquals(new int[]{9, 1, 1, 1}, perClass(l, idx, 4));
        assertEquals(l.length, Subsets.stratified(l, 1.0, 11).length, "100% keeps every row");
    }

    @Test
    void deterministicPerSeedAndDifferentAcrossSeeds() {
        int[] l = labels(4, 400, 250, 150);
        int[] a = Subsets.stratified(l, 0.1, 42);
        assertArrayEquals(a, Subsets.stratified(l, 0.1, 42));
        int[] b = Subsets.stratified(l, 0.1, 43);
        assertEquals(a.length, b.length);
        assertFalse(Arrays.equals(a, b), "another seed picks other rows");
        // a subset per seed is a random draw: over seeds, every row of a class is reachable
        boolean[] seen = new boolean[l.length];
        for (long s = 0; s < 60; s++) for (int i : Subsets.stratified(l, 0.1, s)) seen[i] = true;
        int covered = 0;
        for (boolean x : seen) if (x) covered++;
        assertTrue(covered > 0.9 * l.length, "rows drawn over 60 seeds: " + covered + " of " + l.length);
    }

    @Test
    void multiLabelStratifiesOnTheFirstPositive() {
        float[][] y = {{0, 1, 1}, {0, 0, 0}, {1, 1, 0}, {0, 0, 0.9f}, {0.2f, 0, 0}};
        assertArrayEquals(new int[]{1, Subsets.NONE, 0, 2, Subsets.NONE}, Subsets.strata(y));
        // 40 rows "none", 30 first-positive 0, 20 first-positive 1, 10 first-positive 2, at 10%
        float[][] rows = new float[100][];
        for (int i = 0; i < 100; i++) {
            rows[i] = new float[3];
            if (i >= 40 && i < 70) rows[i][0] = rows[i][2] = 1;
            else if (i >= 70 && i < 90) rows[i][1] = 1;
            else if (i >= 90) rows[i][2] = 1;
        }
        int[] idx = Subsets.stratifiedMultiLabel(rows, 0.1, 5);
        assertValid(idx, 100);
        int none = 0, c0 = 0, c1 = 0, c2 = 0;
        for (int i : idx) {
            if (i < 40) none++;
            else if (i < 70) c0++;
            else if (i < 90) c1++;
            else c2++;
        }
        assertArrayEquals(new int[]{4, 3, 2, 1}, new int[]{none, c0, c1, c2});
        assertArrayEquals(idx, Subsets.stratifiedMultiLabel(rows, 0.1, 5));
    }

    @Test
    void rejectsAFractionOutsideZeroOne() {
        assertThrows(IllegalArgumentException.class, () -> Subsets.stratified(new int[]{0, 1}, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Subsets.stratified(new int[]{0, 1}, 1.5, 1));
        assertEquals(0, Subsets.stratified(new int[0], 0.5, 1).length);
    }
}
