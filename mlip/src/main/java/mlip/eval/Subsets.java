package mlip.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Distribution;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/**
 * Seeded stratified training subsets, as the 1% / 10% / 100% label-efficiency splits of the
 * medical vision-language papers (ConVIRT, GLoRIA, MGCA, MLIP) for linear probing and fine-tuning.
 *
 * <h2>How many per class</h2>
 * For {@code n} rows, class {@code c} with {@code n_c} rows and quota {@code q_c = fraction * n_c}:
 * <ol>
 *   <li>every class present keeps {@code base_c = min(n_c, max(1, floor(q_c)))} rows (at least one example of
 *       each class, however small the fraction);</li>
 *   <li>the total is {@code max(round(fraction * n), sum base_c)}; the rows still missing go one each to the
 *       classes with the largest remainder {@code q_c - base_c} (ties: smaller class label first) that still have
 *       rows left (largest-remainder apportionment, so the class proportions are kept as closely as integers allow).</li>
 * </ol>
 * {@code fraction == 1} keeps every row.
 *
 * <h2>Which rows</h2>
 * The rows of each class are shuffled by Fisher–Yates with uniforms from one Philox {@link Generator} seeded
 * with {@code seed}, classes in increasing label order, and the first {@code k_c} are kept: the same labels,
 * fraction and seed give the same subset on every machine. Indices are returned sorted ascending.
 *
 * <pre>{@code
 * int[] onePercent = Subsets.stratified(trainLabels, 0.01, 0);     // indices into the training set
 * int[] tenPercent = Subsets.stratifiedMultiLabel(chexpertLabels, 0.10, 0);
 * }</pre>
 */
public final class Subsets {
    /** The stratum of a multi-label row without any positive label. */
    public static final int NONE = -1;

    private Subsets() {
    }

    /**
     * A stratified sample of {@code fraction} of the rows of {@code labels} (any int is a class label).
     *
     * @param fraction in (0, 1]
     * @return sorted row indices
     */
    public static int[] stratified(int[] labels, double fraction, long seed) {
        if (!(fraction > 0 && fraction <= 1)) throw new IllegalArgumentException("stratified: fraction must be in (0, 1], got " + fraction);
        int n = labels.length;
        if (n == 0) return new int[0];
        Map<Integer, List<Integer>> byClass = new TreeMap<>();
        for (int i = 0; i < n; i++) byClass.computeIfAbsent(labels[i], k -> new ArrayList<>()).add(i);
        int[] counts = counts(byClass, n, fraction);
        Generator g = new Generator(seed);
        int[] out = new int[Arrays.stream(counts).sum()];
        int at = 0, c = 0;
        for (List<Integer> rows : byClass.values()) {
            int[] r = rows.stream().mapToInt(Integer::intValue).toArray();
            shuffle(r, g);
            System.arraycopy(r, 0, out, at, counts[c]);
            at += counts[c++];
        }
        Arrays.sort(out);
        return out;
    }

    /**
     * As {@link #stratified(int[], double, long)} for multi-label rows {@code labels (n, C)} (a value {@code > 0.5} is
     * positive), stratified on each row's first positive label, or {@link #NONE} when the row has none.
     */
    public static int[] stratifiedMultiLabel(float[][] labels, double fraction, long seed) {
        return stratified(strata(labels), fraction, seed);
    }

    /** Each row's stratum: the index of its first positive label ({@code > 0.5}), or {@link #NONE}. */
    public static int[] strata(float[][] labels) {
        int[] s = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            s[i] = NONE;
            for (int c = 0; c < labels[i].length; c++) {
                if (labels[i][c] > 0.5f) {
                    s[i] = c;
                    break;
                }
            }
        }
        return s;
    }

    /** Rows kept per class (classes in increasing label order), by the rule in the class notes. */
    private static int[] counts(Map<Integer, List<Integer>> byClass, int n, double fraction) {
        int k = byClass.size();
        int[] size = new int[k], base = new int[k];
        double[] rem = new double[k];
        int c = 0, sum = 0;
        for (List<Integer> rows : byClass.values()) {
            size[c] = rows.size();
            double q = fraction * size[c];
            base[c] = Math.min(size[c], Math.max(1, (int) Math.floor(q + 1e-9)));
            rem[c] = q - base[c];
            sum += base[c++];
        }
        long total = Math.max(Math.round(fraction * n), sum);
        Integer[] order = new Integer[k];
        for (int i = 0; i < k; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> rem[a] != rem[b] ? Double.compare(rem[b], rem[a]) : Integer.compare(a, b));
        for (int i = 0; sum < total && i < k; i++) {
            int j = order[i];
            if (base[j] < size[j]) {
                base[j]++;
                sum++;
            }
        }
        return base;
    }

    /** Fisher–Yates with Philox uniforms (F64, so every index is reachable for any realistic size). */
    private static void shuffle(int[] a, Generator g) {
        if (a.length < 2) return;
        double[] u = Tensor.random(g, Distribution.UNIFORM, DType.F64, Device.CPU, a.length).toDoubleArray();
        for (int i = a.length - 1; i > 0; i--) {
            int j = Math.min(i, (int) (u[i] * (i + 1)));
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
