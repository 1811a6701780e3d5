package mlip.eval;

import java.util.Map;
import mlip.autograd.GradMode;
import mlip.autograd.Variable;
import mlip.nn.Linear;
import mlip.optim.AdamW;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Distribution;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/**
 * Linear probing of a frozen encoder: a single {@link Linear} layer trained on fixed features (the
 * label-efficiency protocol of the medical VLP papers: 1% / 10% / 100% of the training labels, see
 * {@link Subsets}), with our autograd and {@link AdamW}.
 *
 * <h2>Design</h2>
 * <ul>
 *   <li><b>Features are standardised</b> per dimension with the <i>training</i> mean and standard deviation
 *       (population std; a constant dimension gets std 1, so it becomes 0) before training, and the test features
 *       with the same statistics. Frozen embeddings are often L2-normalised (tiny per-dimension scale) or have a
 *       few huge dimensions; standardising makes one learning rate and one weight decay work for every encoder
 *       (as scikit-learn's {@code StandardScaler} before {@code LogisticRegression} in the papers' probes).</li>
 *   <li>Single-label: softmax cross-entropy; the scores are the softmax probabilities (n, C).</li>
 *   <li>Multi-label: per-class sigmoid binary cross-entropy on logits, written stably from Variable ops as
 *       {@code max(z, 0) - z y + log(1 + exp(-|z|))} (PyTorch's {@code BCEWithLogitsLoss}), mean over rows and
 *       classes; targets may be soft values in [0, 1]. The scores are the sigmoid probabilities (n, C).</li>
 *   <li>AdamW with decoupled weight decay on the weight (the bias does not decay: {@link AdamW#defaultNoDecay}),
 *       fixed number of epochs, constant learning rate; full batch ({@code batch <= 0} or {@code >= n}) or
 *       minibatches reshuffled every epoch. One Philox {@link Generator} seeded with {@code seed} draws the initial
 *       weights and the shuffles, so a fit is reproducible from the seed.</li>
 * </ul>
 *
 * <pre>{@code
 * LinearProbe.Result r = LinearProbe.fit(trainFeatures, trainLabels, 5, testFeatures, LinearProbe.Options.defaults());
 * double[][] p = r.scores();            // (nTest, 5) probabilities, e.g. for per-class AUC
 * int[] pred = r.predictions();
 * }</pre>
 */
public final class LinearProbe {
    private LinearProbe() {
    }

    /**
     * Training options.
     *
     * @param epochs      passes over the training features
     * @param lr          AdamW learning rate (constant)
     * @param weightDecay AdamW decoupled weight decay of the weight matrix
     * @param batch       minibatch size; {@code <= 0} means full batch
     * @param seed        seed of the initial weights and the shuffles
     */
    public record Options(int epochs, double lr, double weightDecay, int batch, long seed) {
        public Options {
            if (epochs < 1) throw new IllegalArgumentException("LinearProbe.Options: epochs must be >= 1, got " + epochs);
            if (!(lr > 0)) throw new IllegalArgumentException("LinearProbe.Options: lr must be > 0, got " + lr);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("LinearProbe.Options: weightDecay must be >= 0, got " + weightDecay);
        }

        /** 200 full-batch epochs, lr 1e-2, weight decay 1e-4, seed 0. */
        public static Options defaults() {
            return new Options(200, 1e-2, 1e-4, 0, 0);
        }

        public Options withEpochs(int e) { return new Options(e, lr, weightDecay, batch, seed); }
        public Options withLr(double v) { return new Options(epochs, v, weightDecay, batch, seed); }
        public Options withWeightDecay(double v) { return new Options(epochs, lr, v, batch, seed); }
        public Options withBatch(int b) { return new Options(epochs, lr, weightDecay, b, seed); }
        public Options withSeed(long s) { return new Options(epochs, lr, weightDecay, batch, s); }
    }

    /**
     * A fitted probe.
     *
     * @param scores    per-class probabilities of the test features (nTest, C): softmax (single-label) or sigmoid (multi-label)
     * @param weight    the trained weight (C, D), acting on standardised features
     * @param bias      the trained bias (C)
     * @param mean      the training mean per feature (D)
     * @param std       the training standard deviation per feature (D), 1 where the feature is constant
     * @param trainLoss the training loss of the last epoch (mean over its minibatches)
     */
    public record Result(double[][] scores, float[][] weight, float[] bias, float[] mean, float[] std, double trainLoss) {
        /** The arg-max class per test row. */
        public int[] predictions() {
            int[] p = new int[scores.length];
            for (int i = 0; i < scores.length; i++) {
                for (int c = 1; c < scores[i].length; c++) if (scores[i][c] > scores[i][p[i]]) p[i] = c;
            }
            return p;
        }
    }

    /** Single-label probe: softmax cross-entropy on {@code trainY} in {@code [0, classes)}. */
    public static Result fit(float[][] trainX, int[] trainY, int classes, float[][] testX, Options o) {
        if (trainY.length != trainX.length) throw new IllegalArgumentException("LinearProbe.fit: " + trainX.length + " feature rows but " + trainY.length + " labels");
        for (int y : trainY) {
            if (y < 0 || y >= classes) throw new IllegalArgumentException("LinearProbe.fit: label " + y + " outside [0, " + classes + ")");
        }
        return train(trainX, trainY, null, classes, testX, o);
    }

    /** Multi-label probe: per-class sigmoid BCE on 0/1 (or soft) targets {@code trainY (n, C)}. */
    public static Result fitMultiLabel(float[][] trainX, float[][] trainY, float[][] testX, Options o) {
        if (trainY.length != trainX.length) throw new IllegalArgumentException("LinearProbe.fitMultiLabel: " + trainX.length + " feature rows but " + trainY.length + " label rows");
        if (trainY.length == 0) throw new IllegalArgumentException("LinearProbe.fitMultiLabel: no training rows");
        int classes = trainY[0].length;
        for (float[] r : trainY) {
            if (r.length != classes) throw new IllegalArgumentException("LinearProbe.fitMultiLabel: label rows of different lengths " + classes + " and " + r.length);
        }
        return train(trainX, null, trainY, classes, testX, o);
    }

    /**
     * Mean binary cross-entropy of {@code logits} against {@code targets} (same shape), stable for any logit:
     * {@code max(z, 0) - z y + log(1 + exp(-|z|))}.
     */
    public static Variable bceWithLogits(Variable logits, Tensor targets) {
        Variable softplus = logits.relu().add(logits.abs().neg().exp().add(1).log());
        return softplus.sub(logits.mul(Variable.of(targets))).mean();
    }

    // ---------------------------------------------------------------- training

    private static Result train(float[][] trainX, int[] yInt, float[][] yMulti, int classes, float[][] testX, Options o) {
        int n = trainX.length;
        if (n == 0) throw new IllegalArgumentException("LinearProbe: no training rows");
        if (classes < 1) throw new IllegalArgumentException("LinearProbe: classes must be >= 1, got " + classes);
        int d = trainX[0].length;
        float[] mean = new float[d], std = new float[d];
        standardisation(trainX, mean, std);
        Tensor x = standardise(trainX, mean, std, "train");                         // (n, D)
        Tensor xTest = standardise(testX, mean, std, "test");                       // (nTest, D)
        Tensor y = yInt != null ? Tensor.of(yInt, n) : Tensor.of(flatten(yMulti, classes), n, classes);   // (n) I32 or (n, C)

        Generator g = new Generator(o.seed());
        Linear head = new Linear(d, classes, true, g);
        Map<String, Variable> params = head.namedParameters();
        AdamW opt = new AdamW(params, o.lr(), 0.9, 0.999, 1e-8, o.weightDecay());
        int bs = o.batch() <= 0 || o.batch() >= n ? n : o.batch();
        double lastLoss = Double.NaN;
        for (int epoch = 0; epoch < o.epochs(); epoch++) {
            int[] order = bs == n ? null : permutation(n, g);
            double sum = 0;
            int batches = 0;
            for (int s = 0; s < n; s += bs) {
                int e = Math.min(n, s + bs);
                Tensor xb = x, yb = y;
                if (order != null) {
                    Tensor idx = Tensor.of(java.util.Arrays.copyOfRange(order, s, e), e - s);
                    xb = x.indexSelect(0, idx);
                    yb = y.indexSelect(0, idx);
                }
                Variable logits = head.forward(xb);                                 // (b, C)
                Variable loss = yInt != null ? logits.crossEntropy(yb) : bceWithLogits(logits, yb);
                loss.backward();
                opt.step();
                opt.zeroGrad();
                sum += loss.item();
                batches++;
            }
            lastLoss = sum / batches;
        }

        double[][] scores;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Variable logits = head.forward(xTest);                                  // (nTest, C)
            Tensor p = yInt != null ? logits.value().softmax(1) : logits.value().sigmoid();
            scores = rows(p.toDoubleArray(), testX.length, classes);
        }
        float[] wFlat = head.weight.value().toFloatArray();
        float[][] w = new float[classes][];
        for (int c = 0; c < classes; c++) w[c] = java.util.Arrays.copyOfRange(wFlat, c * d, (c + 1) * d);
        return new Result(scores, w, head.bias.value().toFloatArray(), mean, std, lastLoss);
    }

    /** Per-feature mean and population std of {@code x} (double accumulation); std 1 for a constant feature. */
    static void standardisation(float[][] x, float[] mean, float[] std) {
        int n = x.length, d = mean.length;
        double[] m = new double[d], v = new double[d];
        for (float[] r : x) {
            if (r.length != d) throw new IllegalArgumentException("LinearProbe: feature rows of different lengths " + d + " and " + r.length);
            for (int j = 0; j < d; j++) m[j] += r[j];
        }
        for (int j = 0; j < d; j++) m[j] /= n;
        for (float[] r : x) {
            for (int j = 0; j < d; j++) {
                double t = r[j] - m[j];
                v[j] += t * t;
            }
        }
        for (int j = 0; j < d; j++) {
            double s = Math.sqrt(v[j] / n);
            mean[j] = (float) m[j];
            std[j] = s > 1e-12 * Math.max(1, Math.abs(m[j])) ? (float) s : 1f;
        }
    }

    /** {@code (x - mean) / std} as an (n, D) F32 tensor. */
    static Tensor standardise(float[][] x, float[] mean, float[] std, String what) {
        int d = mean.length;
        float[] flat = new float[x.length * d];
        for (int i = 0; i < x.length; i++) {
            if (x[i].length != d) throw new IllegalArgumentException("LinearProbe: " + what + " row " + i + " has " + x[i].length + " features, expected " + d);
            for (int j = 0; j < d; j++) flat[i * d + j] = (x[i][j] - mean[j]) / std[j];
        }
        return Tensor.of(flat, x.length, d);
    }

    /** A uniform random permutation of {@code 0..n-1} (Fisher–Yates on Philox uniforms). */
    static int[] permutation(int n, Generator g) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        double[] u = Tensor.random(g, Distribution.UNIFORM, DType.F64, Device.CPU, Math.max(1, n)).toDoubleArray();
        for (int i = n - 1; i > 0; i--) {
            int j = Math.min(i, (int) (u[i] * (i + 1)));
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    private static float[] flatten(float[][] y, int classes) {
        float[] f = new float[y.length * classes];
        for (int i = 0; i < y.length; i++) System.arraycopy(y[i], 0, f, i * classes, classes);
        return f;
    }

    private static double[][] rows(double[] flat, int n, int c) {
        double[][] r = new double[n][];
        for (int i = 0; i < n; i++) r[i] = java.util.Arrays.copyOfRange(flat, i * c, (i + 1) * c);
        return r;
    }
}
