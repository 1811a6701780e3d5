package mlip.eval;

import java.util.List;

/**
 * Zero-shot classification as the field does it on CheXpert 5x200. Each class is represented by its
 * prompts: hand-written ensembles (the mean of their text embeddings, renormalised) or UMCL's learned
 * continuous prompts. An image's score for a class is
 * <ul>
 *   <li>{@code GLOBAL}: cos(v, t_c), the global image embedding against the class embedding;</li>
 *   <li>{@code LOCAL}: the OT pair score between the image's patches and the class's prompt sentence: with one
 *       sentence the plan is uniform over the patches, so it is the mean of cos(p_k, s_c) over patches k;</li>
 *   <li>{@code BOTH}: their mean (GLoRIA averages its global and local similarities the same way).</li>
 * </ul>
 * With per-class normalisation (GLoRIA's protocol, the default) each class's scores are standardised over
 * the evaluated images before the argmax, so a class whose prompts sit closer to every image does not take
 * all of them. Metrics: accuracy, macro F1 and one-vs-rest ROC AUC per class and macro ({@link Metrics}).
 *
 * <pre>{@code
 * ZeroShot.Result r = ZeroShot.evaluate(embedder, images, labels, 96, Prompts.templates());
 * System.out.println(r.line("synthcxr-5x200"));   // zeroshot synthcxr-5x200 acc=0.812 f1=0.805 chance=0.200
 * }</pre>
 */
public final class ZeroShot {
    private ZeroShot() {
    }

    /** Which similarity scores an image against a class. */
    public enum Score { GLOBAL, LOCAL, BOTH }

    public record Result(double accuracy, double macroF1, double chance, int[] predictions, double[] aucPerClass, double macroAuc,
                         int[][] confusion) {
        public String line(String dataset) {
            return String.format("zeroshot %s acc=%.3f f1=%.3f chance=%.3f", dataset, accuracy, macroF1, chance);
        }
    }

    /** Hand-written prompts, global score, per-class normalisation. */
    public static Result evaluate(Embedder e, List<float[]> images, int[] classes, int size, List<List<String>> templates) {
        return evaluate(e, images, classes, size, templates, Score.GLOBAL, true);
    }

    /** Hand-written prompt ensembles; templates.get(c) is class c's. Images are size*size, classes in 0..C-1. */
    public static Result evaluate(Embedder e, List<float[]> images, int[] classes, int size, List<List<String>> templates, Score score,
                                  boolean perClassNormalise) {
        int c = templates.size();
        float[][] global = new float[c][], local = new float[c][];
        for (int k = 0; k < c; k++) {
            global[k] = meanDirection(e.texts(templates.get(k)));
            if (score != Score.GLOBAL) local[k] = meanDirection(e.promptSentences(templates.get(k)));
        }
        return classifyImages(e, images, classes, size, global, score == Score.GLOBAL ? null : local, score, perClassNormalise);
    }

    /** UMCL's learned prompts ([CLS] V1..Vn name [SEP]) as the classes; they give a global embedding only. */
    public static Result evaluateLearned(Embedder e, List<float[]> images, int[] classes, int size, int numClasses, boolean perClassNormalise) {
        float[][] t = e.learnedPrompts();
        return classifyImages(e, images, classes, size, java.util.Arrays.copyOf(t, numClasses), null, Score.GLOBAL, perClassNormalise);
    }

    private static Result classifyImages(Embedder e, List<float[]> images, int[] classes, int size, float[][] global, float[][] local,
                                         Score score, boolean perClassNormalise) {
        int c = global.length;
        List<float[][]> out = e.imageOutputs(images, size, local != null);
        float[][] v = out.get(0), p = out.get(1);
        double[][] scores = new double[v.length][c];                                   // (n, C)
        for (int i = 0; i < v.length; i++) {
            for (int k = 0; k < c; k++) {
                double g = Embedder.dot(v[i], global[k]);
                double l = local == null ? 0 : meanPatchCosine(p[i], local[k]);
                scores[i][k] = switch (score) {
                    case GLOBAL -> g;
                    case LOCAL -> l;
                    case BOTH -> (g + l) / 2;
                };
            }
        }
        int[] pred = classify(scores, perClassNormalise);
        double[] auc = Metrics.rocAucPerClass(scores, classes, c);
        double macro = 0;
        for (double a : auc) macro += a / c;
        return new Result(Metrics.accuracy(pred, classes), Metrics.f1Macro(pred, classes, c), 1.0 / c, pred, auc, macro, Metrics.confusion(pred, classes, c));
    }

    /** The mean of unit rows, renormalised. */
    static float[] meanDirection(float[][] rows) {
        float[] mean = new float[rows[0].length];
        for (float[] row : rows) for (int j = 0; j < mean.length; j++) mean[j] += row[j];
        double norm = Math.sqrt(Embedder.dot(mean, mean));
        for (int j = 0; j < mean.length; j++) mean[j] /= (float) norm;
        return mean;
    }

    /** Mean over patches of cos(p_k, s); {@code patches} is (N*E) flat, unit rows. */
    static double meanPatchCosine(float[] patches, float[] s) {
        int e = s.length, n = patches.length / e;
        double sum = 0;
        for (int k = 0; k < n; k++) for (int j = 0; j < e; j++) sum += patches[k * e + j] * s[j];
        return sum / n;
    }

    /**
     * The argmax class of each row of {@code scores} (n, C); with {@code perClassNormalise}, after each column
     * is standardised over the n rows (population standard deviation, as numpy's default; a constant column
     * becomes 0).
     */
    public static int[] classify(double[][] scores, boolean perClassNormalise) {
        int n = scores.length, c = n == 0 ? 0 : scores[0].length;
        double[][] s = new double[n][];
        for (int i = 0; i < n; i++) s[i] = scores[i].clone();
        if (perClassNormalise && n > 1) {
            for (int k = 0; k < c; k++) {
                double mean = 0, var = 0;
                for (double[] row : s) mean += row[k];
                mean /= n;
                for (double[] row : s) var += (row[k] - mean) * (row[k] - mean);
                double sd = Math.sqrt(var / n);
                for (double[] row : s) row[k] = sd > 0 ? (row[k] - mean) / sd : 0;
            }
        }
        int[] pred = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int k = 1; k < c; k++) if (s[i][k] > s[i][best]) best = k;
            pred[i] = best;
        }
        return pred;
    }
}
