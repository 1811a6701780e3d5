package mlip.eval;

import java.util.List;

/**
 * Zero-shot classification as the field does it on CheXpert 5x200: each class is the mean of its prompt
 * ensemble's text embeddings (renormalised); an image takes the class of highest cosine. Accuracy and
 * macro F1 (scikit-learn's {@code f1_score(average="macro")}: per-class 2TP / (2TP + FP + FN), averaged).
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

    /** Images (each size*size) with true classes in 0..C-1; templates.get(c) is class c's prompt ensemble. */
    public static Result evaluate(Embedder e, List<float[]> images, int[] classes, int size, List<List<String>> templates) {
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
        int[] pred = new int[images.size()];
        for (int i = 0; i < pred.length; i++) {
            int best = 0;
            double bs = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) {
                double s = Embedder.dot(v[i], classEmb[k]);
                if (s > bs) {
                    bs = s;
                    best = k;
                }
            }
            pred[i] = best;
        }
        return new Result(accuracy(pred, classes), macroF1(pred, classes, c), 1.0 / c, pred);
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
