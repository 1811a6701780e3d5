package mlip.eval;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import mlip.autograd.GradMode;
import mlip.autograd.Variable;
import mlip.nn.Linear;
import mlip.nn.Module;
import mlip.optim.AdamW;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/**
 * Few-shot segmentation on a frozen ViT: a light decoder trained on the patch tokens
 * ({@link mlip.model.MlipModel.ImageOut#patchStates()}, (n, N, D) with {@code N = grid * grid}) to predict a
 * {@code size x size} binary mask (the SIIM pneumothorax / RSNA pneumonia protocol of the medical VLP papers,
 * with 1% / 10% / 100% of the training masks).
 *
 * <h2>The decoder (what we chose and why)</h2>
 * A small progressive-upsampling decoder in the spirit of SETR-PUP, built only from existing {@link Variable}
 * ops (there is no convolution op):
 * <pre>
 *   tokens (B, N, D) --standardise--> Linear D -> C, GELU            (B, C, g, g)    channels-first
 *   stages x S:  bilinear x2 upsample                                (B, C, 2h, 2w)
 *                3x3 conv (zero padding) C -> C, GELU                (B, C, 2h, 2w)
 *   head:        1x1 Linear C -> 1                                   (B, h', w') logits
 *   resize:      bilinear to size x size (if h' != size)             (B, size, size) logits
 * </pre>
 * <ul>
 *   <li><b>Bilinear upsampling</b> is a matmul with a constant interpolation matrix on each side,
 *       {@code U_h x U_w^T} with {@code U (out, in)} as PyTorch's {@code F.interpolate(mode="bilinear",
 *       align_corners=False)}; the gradient flows through {@code matmul} into x.</li>
 *   <li><b>The 3x3 convolution</b> is im2col from existing ops: zero-pad with {@code cat}, take the nine shifted
 *       windows with {@code narrow}, {@code cat} them on the channel dim (B, 9C, H, W), and apply one
 *       {@link Linear} 9C -> C per pixel (channels-last). That is exactly a 3x3 conv with bias; it lets the decoder
 *       place a boundary inside a patch from its neighbours, which a per-patch linear decoder (Segmenter's linear
 *       baseline, D -> patch*patch pixel logits) cannot.</li>
 *   <li>{@code S = min(options.stages, floor(log2(size / grid)))} stages (default 2), then the logits are
 *       resized to the output size, so any {@code size} that is a multiple of {@code grid} works (e.g. 96 / 8 = 12:
 *       two x2 stages to 32, then a x3 bilinear resize of the logits).</li>
 *   <li>Tokens are standardised per feature with the mean / std of all <i>training</i> tokens (frozen ViT states
 *       have a few large dimensions), as {@link LinearProbe} does for its features.</li>
 * </ul>
 *
 * <h2>Loss and metric</h2>
 * Loss = soft Dice + BCE on pixel logits: {@code 1 - (2 sum(p y) + 1) / (sum p + sum y + 1)} per image (mean over
 * the batch, smoothing 1 so empty-mask images have a finite loss) plus the mean pixel BCE with logits
 * ({@link LinearProbe#bceWithLogits}). AdamW, fixed epochs, minibatches reshuffled each epoch, one seeded Philox
 * {@link Generator} for initial weights and shuffles.
 * The metric is Dice per image on the prediction thresholded at 0.5, {@code 2|A∩B| / (|A| + |B|)}, and 1 when both
 * the prediction and the ground truth are empty; {@link #meanDice} averages it over images.
 *
 * <pre>{@code
 * FewShotSegmentation.Result r = FewShotSegmentation.fit(trainTokens, trainMasks, testTokens, 96, 8,
 *         FewShotSegmentation.Options.defaults());
 * double dice = FewShotSegmentation.meanDice(r.probabilities(), testMasks);
 * }</pre>
 */
public final class FewShotSegmentation {
    private FewShotSegmentation() {
    }

    /**
     * Training options.
     *
     * @param epochs      passes over the training images
     * @param lr          AdamW learning rate (constant)
     * @param weightDecay AdamW decoupled weight decay of the weight matrices
     * @param batch       minibatch size; {@code <= 0} means full batch
     * @param channels    decoder width C
     * @param stages      maximum number of x2 upsample + 3x3 conv stages
     * @param seed        seed of the initial weights and the shuffles
     */
    public record Options(int epochs, double lr, double weightDecay, int batch, int channels, int stages, long seed) {
        public Options {
            if (epochs < 1) throw new IllegalArgumentException("FewShotSegmentation.Options: epochs must be >= 1, got " + epochs);
            if (!(lr > 0)) throw new IllegalArgumentException("FewShotSegmentation.Options: lr must be > 0, got " + lr);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("FewShotSegmentation.Options: weightDecay must be >= 0, got " + weightDecay);
            if (channels < 1) throw new IllegalArgumentException("FewShotSegmentation.Options: channels must be >= 1, got " + channels);
            if (stages < 0) throw new IllegalArgumentException("FewShotSegmentation.Options: stages must be >= 0, got " + stages);
        }

        /** 100 epochs, lr 3e-3, weight decay 1e-4, batch 8, 16 channels, 2 stages, seed 0. */
        public static Options defaults() {
            return new Options(100, 3e-3, 1e-4, 8, 16, 2, 0);
        }

        public Options withEpochs(int e) { return new Options(e, lr, weightDecay, batch, channels, stages, seed); }
        public Options withLr(double v) { return new Options(epochs, v, weightDecay, batch, channels, stages, seed); }
        public Options withWeightDecay(double v) { return new Options(epochs, lr, v, batch, channels, stages, seed); }
        public Options withBatch(int b) { return new Options(epochs, lr, weightDecay, b, channels, stages, seed); }
        public Options withChannels(int c) { return new Options(epochs, lr, weightDecay, batch, c, stages, seed); }
        public Options withStages(int s) { return new Options(epochs, lr, weightDecay, batch, channels, s, seed); }
        public Options withSeed(long s) { return new Options(epochs, lr, weightDecay, batch, channels, stages, s); }
    }

    /**
     * A fitted decoder's output.
     *
     * @param probabilities per test image, the {@code size * size} row-major foreground probabilities
     * @param trainLoss     the training loss (Dice + BCE) of the last epoch (mean over its minibatches)
     */
    public record Result(float[][] probabilities, double trainLoss) {
        /** Mean Dice of the thresholded probabilities against {@code masks} (see {@link #meanDice}). */
        public double meanDice(float[][] masks) {
            return FewShotSegmentation.meanDice(probabilities, masks);
        }
    }

    /**
     * Trains the decoder on {@code trainTokens (n, N, D)} and {@code trainMasks (n, size*size)} (values {@code > 0.5}
     * are foreground; soft values are used as they are in the loss) and predicts the test images.
     */
    public static Result fit(float[][][] trainTokens, float[][] trainMasks, float[][][] testTokens, int size, int grid, Options o) {
        int n = trainTokens.length;
        if (n == 0) throw new IllegalArgumentException("FewShotSegmentation.fit: no training images");
        if (trainMasks.length != n) throw new IllegalArgumentException("FewShotSegmentation.fit: " + n + " token sets but " + trainMasks.length + " masks");
        if (grid < 1 || size < grid || size % grid != 0) throw new IllegalArgumentException("FewShotSegmentation.fit: size " + size + " is not a multiple of grid " + grid);
        int tokensPer = grid * grid;
        int d = trainTokens[0].length > 0 ? trainTokens[0][0].length : 0;
        for (float[] m : trainMasks) {
            if (m.length != size * size) throw new IllegalArgumentException("FewShotSegmentation.fit: a mask has " + m.length + " pixels, expected " + size + "x" + size);
        }
        // training token statistics over all n * N tokens
        float[][] all = new float[n * tokensPer][];
        for (int i = 0; i < n; i++) {
            checkTokens(trainTokens[i], tokensPer, d, "train", i);
            System.arraycopy(trainTokens[i], 0, all, i * tokensPer, tokensPer);
        }
        float[] mean = new float[d], std = new float[d];
        LinearProbe.standardisation(all, mean, std);
        Tensor x = tokens(trainTokens, mean, std, tokensPer, d);           // (n, N, D)
        Tensor y = masks(trainMasks, size);                                         // (n, size, size)

        Generator g = new Generator(o.seed());
        int stages = 0;
        while (stages < o.stages() && (grid << (stages + 1)) <= size) stages++;
        Decoder dec = new Decoder(d, o.channels(), stages, grid, size, g);
        AdamW opt = new AdamW(dec.namedParameters(), o.lr(), 0.9, 0.999, 1e-8, o.weightDecay());
        int bs = o.batch() <= 0 || o.batch() >= n ? n : o.batch();
        double lastLoss = Double.NaN;
        for (int epoch = 0; epoch < o.epochs(); epoch++) {
            int[] order = LinearProbe.permutation(n, g);
            double sum = 0;
            int batches = 0;
            for (int s = 0; s < n; s += bs) {
                int e = Math.min(n, s + bs);
                Tensor idx = Tensor.of(Arrays.copyOfRange(order, s, e), e - s);
                Tensor yb = y.indexSelect(0, idx);                                  // (b, size, size)
                Variable logits = dec.forward(x.indexSelect(0, idx));               // (b, size, size)
                Variable loss = softDiceLoss(logits.sigmoid(), yb).add(LinearProbe.bceWithLogits(logits, yb));
                loss.backward();
                opt.step();
                opt.zeroGrad();
                sum += loss.item();
                batches++;
            }
            lastLoss = sum / batches;
        }

        float[][] probs = new float[testTokens.length][];
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int s = 0; s < testTokens.length; s += Math.max(1, bs)) {
                int e = Math.min(testTokens.length, s + Math.max(1, bs));
                float[][][] part = Arrays.copyOfRange(testTokens, s, e);
                for (int i = 0; i < part.length; i++) checkTokens(part[i], tokensPer, d, "test", s + i);
                float[] p = dec.forward(tokens(part, mean, std, tokensPer, d)).value().sigmoid().toFloatArray();
                for (int i = s; i < e; i++) probs[i] = Arrays.copyOfRange(p, (i - s) * size * size, (i - s + 1) * size * size);
            }
        }
        return new Result(probs, lastLoss);
    }

    /** Soft Dice loss {@code 1 - (2 sum(p y) + 1) / (sum p + sum y + 1)} per image of {@code prob (B, H, W)}, mean over B. */
    static Variable softDiceLoss(Variable prob, Tensor target) {
        int b = prob.size(0);
        Variable p = prob.reshape(b, -1);                                           // (B, HW)
        Variable t = Variable.of(target.reshape(b, -1));
        Variable inter = p.mul(t).sum(1, false);                                    // (B)
        Variable denom = p.sum(1, false).add(t.sum(1, false)).add(1);
        return inter.mul(2).add(1).div(denom).neg().add(1).mean();
    }

    // ---------------------------------------------------------------- metric

    /**
     * Dice of one image: prediction {@code prob > 0.5} against ground truth {@code truth > 0.5},
     * {@code 2|A∩B| / (|A| + |B|)}; 1 when both are empty.
     */
    public static double dice(float[] prob, float[] truth) {
        if (prob.length != truth.length) throw new IllegalArgumentException("dice: " + prob.length + " predicted pixels but " + truth.length + " ground-truth pixels");
        return Metrics.dice(above(prob), above(truth));
    }

    private static boolean[] above(float[] x) {
        boolean[] b = new boolean[x.length];
        for (int i = 0; i < x.length; i++) b[i] = x[i] > 0.5f;
        return b;
    }

    /** Mean over images of {@link #dice}. */
    public static double meanDice(float[][] probs, float[][] truths) {
        if (probs.length != truths.length) throw new IllegalArgumentException("meanDice: " + probs.length + " predictions but " + truths.length + " masks");
        if (probs.length == 0) throw new IllegalArgumentException("meanDice: no images");
        double s = 0;
        for (int i = 0; i < probs.length; i++) s += dice(probs[i], truths[i]);
        return s / probs.length;
    }

    // ---------------------------------------------------------------- the decoder

    /** Tokens -> per-pixel logits, see the class notes. */
    static final class Decoder extends Module {
        final Linear embed;           // D -> C per patch
        final Linear[] convs;         // 9C -> C per pixel: a 3x3 conv by im2col
        final Linear head;            // C -> 1 per pixel
        final int grid, size, channels;
        private final Map<Integer, Tensor> upCache = new LinkedHashMap<>();

        Decoder(int d, int c, int stages, int grid, int size, Generator g) {
            this.grid = grid;
            this.size = size;
            this.channels = c;
            embed = child("embed", new Linear(d, c, true, g));
            convs = new Linear[stages];
            for (int s = 0; s < stages; s++) convs[s] = child("up." + s + ".conv", new Linear(9 * c, c, true, g));
            head = child("head", new Linear(c, 1, true, g));
        }

        /** tokens (B, N, D) standardised -> logits (B, size, size). */
        Variable forward(Tensor tokens) {
            int b = tokens.size(0);
            Variable h = embed.forward(tokens).gelu(true);                           // (B, N, C)
            h = h.reshape(b, grid, grid, channels).permute(0, 3, 1, 2);              // (B, C, g, g)
            int r = grid;
            for (Linear conv : convs) {
                h = resize(h, r, 2 * r);                                            // (B, C, 2r, 2r)
                r *= 2;
                h = conv3x3(h, conv).gelu(true);                                    // (B, C, r, r)
            }
            Variable logits = head.forward(h.permute(0, 2, 3, 1)).reshape(b, r, r); // (B, r, r)
            return r == size ? logits : resize(logits, r, size);                    // (B, size, size)
        }

        /** Bilinear resize of the last two dims (in x in -> out x out): {@code U x U^T}. */
        private Variable resize(Variable x, int in, int out) {
            Tensor u = upCache.computeIfAbsent(in * 1_000_003 + out, k -> bilinearMatrix(in, out));   // (out, in)
            return Variable.of(u).matmul(x).matmul(Variable.of(u.t()));
        }

        /** A 3x3 convolution with zero padding of {@code x (B, C, H, W)} through {@code conv (9C -> C')} by im2col. */
        static Variable conv3x3(Variable x, Linear conv) {
            int b = x.size(0), c = x.size(1), hh = x.size(2), ww = x.size(3);
            Variable zr = Variable.of(Tensor.zeros(b, c, 1, ww));
            Variable p = Variable.cat(2, zr, x, zr);                                // (B, C, H+2, W)
            Variable zc = Variable.of(Tensor.zeros(b, c, hh + 2, 1));
            p = Variable.cat(3, zc, p, zc);                                         // (B, C, H+2, W+2)
            Variable[] taps = new Variable[9];
            for (int dy = 0; dy < 3; dy++) {
                for (int dx = 0; dx < 3; dx++) taps[dy * 3 + dx] = p.narrow(2, dy, hh).narrow(3, dx, ww);
            }
            Variable cols = Variable.cat(1, taps);                                  // (B, 9C, H, W)
            return conv.forward(cols.permute(0, 2, 3, 1)).permute(0, 3, 1, 2);      // (B, C', H, W)
        }
    }

    /**
     * The (out, in) matrix of 1-d linear interpolation as PyTorch's {@code F.interpolate(mode="linear",
     * align_corners=False)}: source coordinate {@code (i + 0.5) * in / out - 0.5}, clamped at 0, edge replicated.
     */
    static Tensor bilinearMatrix(int in, int out) {
        float[] m = new float[out * in];
        double scale = (double) in / out;
        for (int i = 0; i < out; i++) {
            double src = Math.max(0, (i + 0.5) * scale - 0.5);
            int i0 = Math.min((int) Math.floor(src), in - 1);
            int i1 = Math.min(i0 + 1, in - 1);
            double w1 = src - i0;
            m[i * in + i0] += (float) (1 - w1);
            m[i * in + i1] += (float) w1;
        }
        return Tensor.of(m, out, in);
    }

    // ---------------------------------------------------------------- packing

    private static void checkTokens(float[][] t, int tokensPer, int d, String what, int i) {
        if (t.length != tokensPer) throw new IllegalArgumentException("FewShotSegmentation: " + what + " image " + i + " has " + t.length + " tokens, expected grid*grid = " + tokensPer);
        for (float[] r : t) {
            if (r.length != d) throw new IllegalArgumentException("FewShotSegmentation: " + what + " image " + i + " has a token of " + r.length + " features, expected " + d);
        }
    }

    private static Tensor tokens(float[][][] t, float[] mean, float[] std, int tokensPer, int d) {
        float[] flat = new float[t.length * tokensPer * d];
        int at = 0;
        for (float[][] img : t) {
            for (float[] tok : img) {
                for (int j = 0; j < d; j++) flat[at++] = (tok[j] - mean[j]) / std[j];
            }
        }
        return Tensor.of(flat, t.length, tokensPer, d);
    }

    private static Tensor masks(float[][] m, int size) {
        float[] flat = new float[m.length * size * size];
        for (int i = 0; i < m.length; i++) System.arraycopy(m[i], 0, flat, i * size * size, size * size);
        return Tensor.of(flat, m.length, size, size);
    }
}
