package mlip.eval;

import java.util.List;

/**
 * Zero-shot classification as the field does it on CheXpert 5x200: each class is the mean of its prompt
 * ensemble's text embeddings (renormalised); every image gets a cosine score per class; with per-class
 * normalisation (GLoRIA's protocol, the default) each class's scores are standardised over the evaluated
 * images — zero mean, unit standard deviation — before the argmax, so a class whose prompts sit closer to
 * every image does not take all of them. Accuracy and macro F1 (scikit-learn's
 * {@code f1_score(average="macro")}: per-class 2TP / (2TP + FP + FN), averaged).
 *
 * <pre>{@code
 * ZeroShot.Result r = ZeroShot.evaluate(embedder, images, labels, 96, Prompts.templates());
 * System.out.println(r.line("synthcxr-5x200"));   // zeroshot synthcxr-5x200 acc=0.812 f1=0.805 chance=0.200
 * }</pre>
 */
public final class ZeroShot {
    private ZeroShot() {
    }

    public record Result(double accuracy, double macroF1, double chance, int[] predictions) {
        public String line(String dataset) {
            return String.format("zeroshot %s acc=%.3f f1=%.3f chance=%.3f", dataset, accuracy, macroF1, chance);
        }
    }

    /** As {@link #evaluate(Embedder, List, int[], int, List, boolean)} with per-class normalisation. */
    public static Result evaluate(Embedder e, List<float[]> images, int[] classes, int size, List<List<String>> templates) {
        return evaluate(e, images, classes, size, templates, true);
    }

    /** Images (each size*size) with true classes in 0..C-1; templates.get(c) is class c's prompt ensemble. */
    public static Result evaluate(Embedder e, List<float[]> images, int[] classes, int size, List<List<String>> templates,
                                  boolean perClassNormalise) {
        int c = templates.size();
        float[][] classEmb = new float[c][];
        for (int k = 0; k < c; k++) {
            float[][] t = e.texts(templates.get(k));
            float[] mean = new float[t[0].length];
            for (float[] row : t) for (int j = 0; j < mean.length; j++) mean[j] += row[j];
            double norm = Math.sqrt(Embedder.dot(mean, mean));
            for (int j = 0; j < mean.length; j++) mean[j] /= (float) norm;
            classEmb[k] = mean;
        }
        float[][] v = e.images(images, size);
        double[][] scores = new double[v.length][c];                                   // (n, C) cosines
        for (int i = 0; i < v.length; i++) for (int k = 0; k < c; k++) scores[i][k] = Embedder.dot(v[i], classEmb[k]);
        int[] pred = classify(scores, perClassNormalise);
        return new Result(accuracy(pred, classes), macroF1(pred, classes, c), 1.0 / c, pred);
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

    public static double accuracy(int[] pred, int[] truth) {
        int ok = 0;
        for (int i = 0; i < pred.length; i++) if (pred[i] == truth[i]) ok++;
        return pred.length == 0 ? Double.NaN : (double) ok / pred.length;
    }

    /** Macro F1 over classes 0..c-1; a class with no true and no predicted samples scores 0 (sklearn's zero_division=0). */
    public static double macroF1(int[] pred, int[] truth, int c) {
        double sum = 0;
        for (int k = 0; k < c; k++) {
            int tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < pred.length; i++) {
                if (pred[i] == k && truth[i] == k) tp++;
                else if (pred[i] == k) fp++;
                else if (truth[i] == k) fn++;
            }
            sum += 2 * tp + fp + fn == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);
        }
        return sum / c;
    }
}
