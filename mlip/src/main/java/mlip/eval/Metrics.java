package mlip.eval;

import java.util.Arrays;
import java.util.List;

/**
 * Evaluation metrics, defined as scikit-learn defines them (checked against it to 1e-6 by
 * {@code MetricsGoldenTest}, golden file made by {@code tools/reference/make_metrics_golden.py}).
 *
 * <p>Labels are class indices {@code 0..classes-1}; every class in that range counts in the macro / weighted
 * averages, also one that occurs in neither truth nor prediction (sklearn's {@code labels=range(classes)}).
 * Where sklearn divides 0 by 0 we return 0 ({@code zero_division=0}). Bad input (length mismatch, empty input,
 * a label out of range, a NaN score) throws {@link IllegalArgumentException} naming the problem.
 *
 * <pre>{@code
 * int[] truth = {0, 0, 1, 1, 2, 2}, pred = {0, 1, 1, 1, 0, 2};
 * double acc = Metrics.accuracy(pred, truth);        // 0.6667
 * double f1 = Metrics.f1Macro(pred, truth, 3);       // (0.5 + 0.8 + 0.6667) / 3
 * double auc = Metrics.rocAuc(new double[]{0.1, 0.4, 0.35, 0.8}, new int[]{0, 0, 1, 1});   // 0.75
 * }</pre>
 */
public final class Metrics {
    private Metrics() {
    }

    // ---------------------------------------------------------------- classification

    /**
     * Fraction of positions where {@code pred[i] == truth[i]} (sklearn {@code accuracy_score}).
     *
     * <pre>{@code Metrics.accuracy(new int[]{0, 1, 1}, new int[]{0, 1, 0})   // 2/3}</pre>
     */
    public static double accuracy(int[] pred, int[] truth) {
        checkPair(pred.length, truth.length, "accuracy");
        int hits = 0;
        for (int i = 0; i < pred.length; i++) if (pred[i] == truth[i]) hits++;
        return (double) hits / pred.length;
    }

    /**
     * Confusion matrix {@code m[truth][pred]} (sklearn {@code confusion_matrix(truth, pred, labels=range(classes))}:
     * rows are the true class, columns the predicted one).
     *
     * <pre>{@code Metrics.confusion(new int[]{1, 1}, new int[]{0, 1}, 2)   // {{0, 1}, {0, 1}}}</pre>
     */
    public static int[][] confusion(int[] pred, int[] truth, int classes) {
        checkPair(pred.length, truth.length, "confusion");
        int[][] m = new int[classes][classes];
        for (int i = 0; i < pred.length; i++) m[label(truth[i], classes, "confusion", "truth", i)][label(pred[i], classes, "confusion", "pred", i)]++;
        return m;
    }

    /**
     * Unweighted mean over classes {@code 0..classes-1} of the per-class F1 (sklearn {@code f1_score(average="macro",
     * labels=range(classes), zero_division=0)}); a class never predicted and never true scores 0 and still counts.
     *
     * <pre>{@code Metrics.f1Macro(new int[]{0, 1, 1, 1, 0, 2}, new int[]{0, 0, 1, 1, 2, 2}, 3)   // (0.5 + 0.8 + 2/3) / 3}</pre>
     */
    public static double f1Macro(int[] pred, int[] truth, int classes) {
        double[] f1 = f1PerClass(confusion(pred, truth, classes));
        return Arrays.stream(f1).sum() / classes;
    }

    /**
     * Mean of the per-class F1 weighted by each class's support (its count in {@code truth}); sklearn
     * {@code f1_score(average="weighted", labels=range(classes), zero_division=0)}.
     *
     * <pre>{@code Metrics.f1Weighted(new int[]{0, 1, 1, 1, 0, 2}, new int[]{0, 0, 1, 1, 2, 2}, 3)   // (2*0.5 + 2*0.8 + 2*2/3) / 6}</pre>
     */
    public static double f1Weighted(int[] pred, int[] truth, int classes) {
        int[][] m = confusion(pred, truth, classes);
        double[] f1 = f1PerClass(m);
        double s = 0;
        for (int c = 0; c < classes; c++) s += f1[c] * Arrays.stream(m[c]).sum();
        return s / truth.length;
    }

    /**
     * F1 of the positive class 1 for 0/1 labels (sklearn {@code f1_score(average="binary", pos_label=1,
     * zero_division=0)}): 0 when there is no true and no predicted positive.
     *
     * <pre>{@code Metrics.f1Binary(new int[]{1, 1, 0, 0}, new int[]{1, 0, 1, 0})   // 0.5}</pre>
     */
    public static double f1Binary(int[] pred, int[] truth) {
        return f1PerClass(confusion(pred, truth, 2))[1];
    }

    // F1 = 2 TP / (2 TP + FP + FN), equal to sklearn's 2 P R / (P + R); 0 where the denominator is 0 (zero_division=0)
    private static double[] f1PerClass(int[][] m) {
        int k = m.length;
        double[] f1 = new double[k];
        for (int c = 0; c < k; c++) {
            long tp = m[c][c], fn = -tp, fp = -tp;
            for (int j = 0; j < k; j++) {
                fn += m[c][j];
                fp += m[j][c];
            }
            long den = 2 * tp + fp + fn;
            f1[c] = den == 0 ? 0 : 2.0 * tp / den;
        }
        return f1;
    }

    // ---------------------------------------------------------------- ROC AUC

    /**
     * Area under the ROC curve of {@code score} for 0/1 labels, exactly as sklearn {@code roc_auc_score}: the
     * trapezoid rule over the distinct score thresholds, which equals the Mann-Whitney statistic with a tied
     * (positive, negative) pair counting 1/2. Throws when {@code truth01} holds only one class.
     *
     * <pre>{@code Metrics.rocAuc(new double[]{0.5, 0.5, 0.9}, new int[]{0, 1, 1})   // (1/2 + 1) / 2 = 0.75}</pre>
     */
    public static double rocAuc(double[] score, int[] truth01) {
        checkPair(score.length, truth01.length, "rocAuc");
        for (int i = 0; i < truth01.length; i++) label(truth01[i], 2, "rocAuc", "truth01", i);
        return auc(score, truth01, 1, "rocAuc");
    }

    /**
     * One-vs-rest ROC AUC of each class: class {@code c} is positive, all others negative, scored by
     * {@code scores[i][c]} (sklearn {@code roc_auc_score(label_binarize(truth, classes=range(classes)), scores,
     * average=None)}). Throws when a class is absent from {@code truth} (or is all of it).
     *
     * <pre>{@code Metrics.rocAucPerClass(new double[][]{{0.8, 0.1, 0.1}, {0.2, 0.7, 0.1}, {0.3, 0.3, 0.4}}, new int[]{0, 1, 2}, 3)   // {1, 1, 1}}</pre>
     */
    public static double[] rocAucPerClass(double[][] scores, int[] truth, int classes) {
        checkPair(scores.length, truth.length, "rocAucPerClass");
        for (int i = 0; i < scores.length; i++) {
            if (scores[i].length != classes) throw new IllegalArgumentException("rocAucPerClass: scores row " + i + " has " + scores[i].length + " columns, expected " + classes);
            label(truth[i], classes, "rocAucPerClass", "truth", i);
        }
        double[] out = new double[classes];
        double[] col = new double[scores.length];
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < scores.length; i++) col[i] = scores[i][c];
            out[c] = auc(col, truth, c, "rocAucPerClass (class " + c + ")");
        }
        return out;
    }

    /**
     * Mean over classes of {@link #rocAucPerClass} (sklearn {@code roc_auc_score(label_binarize(truth), scores,
     * average="macro")}).
     *
     * <pre>{@code Metrics.rocAucMacro(scores, truth, 3)   // mean of the three one-vs-rest AUCs}</pre>
     */
    public static double rocAucMacro(double[][] scores, int[] truth, int classes) {
        return Arrays.stream(rocAucPerClass(scores, truth, classes)).sum() / classes;
    }

    // Mann-Whitney with midranks: rank all scores ascending, tied scores share their mean rank, then
    // AUC = (sum of positive ranks - P (P + 1) / 2) / (P N). Same value as sklearn's trapezoid over thresholds.
    private static double auc(double[] score, int[] truth, int positive, String what) {
        int n = score.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            if (Double.isNaN(score[i])) throw new IllegalArgumentException(what + ": score " + i + " is NaN");
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(score[a], score[b]));
        long pos = 0;
        double rankSum = 0;
        for (int s = 0; s < n; ) {
            int e = s;
            while (e < n && score[order[e]] == score[order[s]]) e++;
            double midRank = (s + 1 + e) / 2.0;                       // ranks s+1..e, 1-based
            for (int j = s; j < e; j++) if (truth[order[j]] == positive) { pos++; rankSum += midRank; }
            s = e;
        }
        long neg = n - pos;
        if (pos == 0 || neg == 0) throw new IllegalArgumentException(what + ": only one class present in the labels ("
                + (pos == 0 ? "no positives" : "no negatives") + " among " + n + " samples); ROC AUC is not defined");
        return (rankSum - pos * (pos + 1) / 2.0) / ((double) pos * neg);
    }

    // ---------------------------------------------------------------- segmentation

    /**
     * Dice of one image's binary masks: {@code 2|A∩B| / (|A| + |B|)}, and 1.0 when both are empty (as
     * {@link FewShotSegmentation#dice} computes it on thresholded probabilities).
     *
     * <pre>{@code Metrics.dice(new boolean[]{true, true, false}, new boolean[]{true, false, false})   // 2/3}</pre>
     */
    public static double dice(boolean[] pred, boolean[] truth) {
        checkPair(pred.length, truth.length, "dice");
        long a = 0, b = 0, both = 0;
        for (int i = 0; i < pred.length; i++) {
            if (pred[i]) a++;
            if (truth[i]) b++;
            if (pred[i] && truth[i]) both++;
        }
        return a + b == 0 ? 1.0 : 2.0 * both / (a + b);   // empty vs empty is a perfect prediction
    }

    /**
     * Mean over images of {@link #dice}.
     *
     * <pre>{@code Metrics.meanDice(List.of(predMask0, predMask1), List.of(trueMask0, trueMask1))}</pre>
     */
    public static double meanDice(List<boolean[]> preds, List<boolean[]> truths) {
        checkPair(preds.size(), truths.size(), "meanDice");
        double s = 0;
        for (int i = 0; i < preds.size(); i++) s += dice(preds.get(i), truths.get(i));
        return s / preds.size();
    }

    // ---------------------------------------------------------------- retrieval

    /**
     * Recall@k of retrieval: {@code sim (queries, candidates)}, {@code correct[q]} the index of query q's right
     * candidate; the fraction of queries whose right candidate is among the top k. Ties are pessimistic: a
     * candidate scoring equal to the right one ranks above it, so its rank is the number of other candidates
     * with {@code sim >= sim[q][correct[q]]}.
     *
     * <pre>{@code Metrics.recallAtK(new double[][]{{0.9, 0.1}, {0.5, 0.5}}, new int[]{0, 1}, 1)   // 0.5 (the tie counts against q=1)}</pre>
     */
    public static double recallAtK(double[][] sim, int[] correct, int k) {
        checkPair(sim.length, correct.length, "recallAtK");
        if (k < 1) throw new IllegalArgumentException("recallAtK: k must be >= 1, got " + k);
        int hits = 0;
        for (int q = 0; q < sim.length; q++) {
            double c = sim[q][label(correct[q], sim[q].length, "recallAtK", "correct", q)];
            if (Double.isNaN(c)) throw new IllegalArgumentException("recallAtK: sim[" + q + "][" + correct[q] + "] is NaN");
            int above = 0;                                       // other candidates scoring >= the right one
            for (int j = 0; j < sim[q].length; j++) if (j != correct[q] && sim[q][j] >= c) above++;
            if (above < k) hits++;
        }
        return (double) hits / sim.length;
    }

    /**
     * {@link #recallAtK(double[][], int[], int)} for a square {@code sim} whose right candidate is on the
     * diagonal ({@code correct[q] = q}), e.g. image-to-report retrieval of paired data.
     *
     * <pre>{@code Metrics.recallAtK(imageTextSim, 5)   // (N, N) similarity, pair i is (image i, report i)}</pre>
     */
    public static double recallAtK(double[][] sim, int k) {
        int[] diag = new int[sim.length];
        for (int q = 0; q < sim.length; q++) {
            if (sim[q].length != sim.length) throw new IllegalArgumentException("recallAtK: sim is not square, row " + q + " has " + sim[q].length + " columns for " + sim.length + " rows");
            diag[q] = q;
        }
        return recallAtK(sim, diag, k);
    }

    // ---------------------------------------------------------------- checks

    private static void checkPair(int a, int b, String what) {
        if (a != b) throw new IllegalArgumentException(what + ": " + a + " inputs but " + b + " labels");
        if (a == 0) throw new IllegalArgumentException(what + ": no samples");
    }

    private static int label(int v, int classes, String what, String name, int i) {
        if (v < 0 || v >= classes) throw new IllegalArgumentException(what + ": " + name + "[" + i + "] = " + v + " is outside 0.." + (classes - 1));
        return v;
    }
}
