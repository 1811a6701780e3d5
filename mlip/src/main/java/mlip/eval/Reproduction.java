package mlip.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import mlip.data.Chexpert;
import mlip.data.Chexpert5x200;
import mlip.data.ChexpertLabels;
import mlip.data.Covidx;
import mlip.data.RsnaPneumonia;
import mlip.data.SiimPneumothorax;
import mlip.model.Prompts;
import mlip.train.Pretrained;

/*
 * Design note — the paper's evaluation protocol on the real data sets, as GLoRIA / MGCA / MedCLIP run it:
 *   CheXpert  zero-shot on the 5x200 split (built from the frontal training images positive for exactly one of
 *             the five classes, seeded), accuracy and macro F1; linear probe at 1/10/100% of the remaining
 *             frontal training images (five classes, multi-label, uncertain labels as positives: U-Ones),
 *             macro AUC on the official validation images.
 *   RSNA      zero-shot pneumonia vs normal (AUC, F1, accuracy) on the test split; linear probe at 1/10/100% of
 *             the training split, AUC on the test split; segmentation of the boxes at 1/10/100%, Dice.
 *   SIIM      zero-shot pneumothorax vs normal on the test split; segmentation at 1/10/100%, Dice.
 *   COVIDx    linear probe (normal / pneumonia / COVID-19) at 1/10/100%, accuracy and macro AUC on the test split.
 * Fractions are stratified by label and drawn per seed (Subsets); the mean and std over the seeds are reported.
 * Memory: images are read and embedded in chunks and dropped (only features stay); the segmentation decoder needs
 * every training image's patch states, so its training set is capped at Options.segMax images per fraction.
 */

/**
 * The field's evaluations of a pretrained model on the real data sets (DESIGN.md 7, issue 8), each returning its
 * figures by name (e.g. {@code "zeroshot acc"}, {@code "probe auc 1%"}), ready for the report.
 *
 * <pre>{@code
 * Pretrained p = Pretrained.load(Path.of("runs/paper/pretrain"));
 * Map<String, EvalSuite.Spread> chexpert = Reproduction.chexpert(p, Path.of("/data/CheXpert-v1.0-small"), Reproduction.Options.defaults());
 * }</pre>
 */
public final class Reproduction {
    private Reproduction() {
    }

    /**
     * @param fractions label fractions of the few-shot evaluations (1 = all)
     * @param seeds     draws per fraction below 1
     * @param subset    at most this many images per split of every data set (0: all) — smoke runs
     * @param perClass  images per class of the CheXpert 5xN zero-shot split (200 in the papers)
     * @param segMax    at most this many training images for the segmentation decoder
     * @param size      image side the encoder takes
     */
    public record Options(double[] fractions, int seeds, int subset, int perClass, int segMax, int size) {
        public static Options defaults() {
            return new Options(new double[]{0.01, 0.1, 1.0}, 3, 0, 200, 2000, 224);
        }

        public Options withSubset(int n) { return new Options(fractions, seeds, n, perClass, segMax, size); }
        public Options withPerClass(int n) { return new Options(fractions, seeds, subset, n, segMax, size); }
        public Options withSeeds(int n) { return new Options(fractions, n, subset, perClass, segMax, size); }
        public Options withFractions(double[] f) { return new Options(f.clone(), seeds, subset, perClass, segMax, size); }
        public Options withSize(int s) { return new Options(fractions, seeds, subset, perClass, segMax, s); }
    }

    /** Features of a list of images, computed in chunks: global embeddings v (for zero-shot) and mean patch states (for probes). */
    private record Features(float[][] global, float[][] meanState, float[][][] states, float[][] masks, List<Integer> labels, List<float[]> multi) {
    }

    private static final int CHUNK = 128;

    /** The first n of a seeded shuffle (all when n <= 0 or there are fewer). */
    static <T> List<T> cap(List<T> items, int n, long seed) {
        if (n <= 0 || items.size() <= n) return items;
        List<T> copy = new ArrayList<>(items);
        Collections.shuffle(copy, new java.util.Random(seed));
        return copy.subList(0, n);
    }

    /**
     * Reads {@code items} in chunks through {@code read} (item list, size) -> decoded samples (corrupt ones left out by
     * the loader, which counts them) and keeps what each evaluation needs; {@code keepStates} also keeps the patch states.
     */
    private static <I, S> Features features(Embedder e, List<I> items, BiFunction<List<I>, Integer, List<S>> read, int size, boolean keepStates,
                                            java.util.function.Function<S, float[]> image, java.util.function.Function<S, float[]> mask,
                                            java.util.function.Function<S, Integer> label, java.util.function.Function<S, float[]> multi) {
        List<float[]> g = new ArrayList<>(), ms = new ArrayList<>(), masks = new ArrayList<>(), mult = new ArrayList<>();
        List<float[][]> st = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int s = 0; s < items.size(); s += CHUNK) {
            List<S> samples = read.apply(items.subList(s, Math.min(items.size(), s + CHUNK)), size);
            if (samples.isEmpty()) continue;
            List<float[]> images = samples.stream().map(image).toList();
            Embedder.GlobalAndStates out = e.globalAndStates(images, size);                  // one encoder pass per chunk
            g.addAll(Arrays.asList(out.global()));
            float[][][] states = out.states();
            ms.addAll(Arrays.asList(EvalSuite.meanOverPatches(states)));
            if (keepStates) st.addAll(Arrays.asList(states));
            for (S x : samples) {
                if (mask != null) masks.add(mask.apply(x));
                if (label != null) labels.add(label.apply(x));
                if (multi != null) mult.add(multi.apply(x));
            }
        }
        return new Features(g.toArray(new float[0][]), ms.toArray(new float[0][]), keepStates ? st.toArray(new float[0][][]) : null,
                masks.toArray(new float[0][]), labels, mult);
    }

    private static int[] ints(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).toArray();
    }

    // ---------------------------------------------------------------- CheXpert

    /** The five 5x200 classes' columns among the 14 CheXpert labels. */
    private static final int[] FIVE = Chexpert5x200.CLASSES.stream().mapToInt(ChexpertLabels::index).toArray();

    private static float[] five(float[] labels14) {
        float[] y = new float[FIVE.length];
        for (int c = 0; c < y.length; c++) y[c] = labels14[FIVE[c]] == 1f ? 1f : 0f;
        return y;
    }

    /** CheXpert: 5xN zero-shot (accuracy, macro F1) and the five-class linear probe (macro AUC on the validation images). */
    public static Map<String, EvalSuite.Spread> chexpert(Pretrained p, Path root, Options o) {
        Embedder e = new Embedder(p.model(), p.tokenizer());
        Chexpert cx = Chexpert.load(root, Chexpert.UncertainPolicy.ONES, true);
        System.err.println(cx.summary());
        Map<String, EvalSuite.Spread> out = new LinkedHashMap<>();
        List<Chexpert.Item> eval = cx.select5x200(o.perClass(), 0L);
        int[] cls = new int[eval.size()];
        for (int i = 0; i < cls.length; i++) cls[i] = i / o.perClass();                 // select5x200 lists class after class
        List<float[]> evalImages = new ArrayList<>();
        List<Integer> evalCls = new ArrayList<>();
        for (int s = 0; s < eval.size(); s += CHUNK) {
            List<Chexpert.Item> chunk = eval.subList(s, Math.min(eval.size(), s + CHUNK));
            Map<Chexpert.Item, Integer> classOf = new java.util.IdentityHashMap<>();
            for (int i = 0; i < chunk.size(); i++) classOf.put(chunk.get(i), cls[s + i]);
            for (Chexpert.Sample x : cx.readAll(chunk, o.size())) {
                evalImages.add(x.image());
                evalCls.add(classOf.get(x.item()));
            }
        }
        ZeroShot.Result z = ZeroShot.evaluate(e, evalImages, ints(evalCls), o.size(), Prompts.templates());
        out.put("zeroshot acc", EvalSuite.Spread.of(new double[]{z.accuracy()}));
        out.put("zeroshot f1", EvalSuite.Spread.of(new double[]{z.macroF1()}));

        java.util.Set<Chexpert.Item> inEval = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        inEval.addAll(eval);
        List<Chexpert.Item> train = cap(cx.split("train").stream().filter(it -> !inEval.contains(it)).toList(), o.subset(), 1);
        List<Chexpert.Item> test = cap(cx.split("valid"), o.subset(), 2);
        Features tr = features(e, train, cx::readAll, o.size(), false, Chexpert.Sample::image, null, null, x -> five(x.item().labels14()));
        Features te = features(e, test, cx::readAll, o.size(), false, Chexpert.Sample::image, null, null, x -> five(x.item().raw14()));
        probeMultiLabel(out, tr.meanState(), tr.multi().toArray(new float[0][]), te.meanState(), te.multi().toArray(new float[0][]), o);
        return out;
    }

    /** Multi-label probe at each fraction: macro AUC over the classes whose test labels have both values. */
    static void probeMultiLabel(Map<String, EvalSuite.Spread> out, float[][] trainX, float[][] trainY, float[][] testX, float[][] testY, Options o) {
        for (double f : o.fractions()) {
            int seeds = f >= 1 ? 1 : o.seeds();
            double[] auc = new double[seeds];
            for (int s = 0; s < seeds; s++) {
                int[] idx = f >= 1 ? EvalSuite.range(trainX.length) : Subsets.stratifiedMultiLabel(trainY, f, s);
                LinearProbe.Result r = LinearProbe.fitMultiLabel(EvalSuite.pick(trainX, idx), EvalSuite.pick(trainY, idx), testX, LinearProbe.Options.defaults().withSeed(s));
                auc[s] = macroAucMultiLabel(r.scores(), testY);
            }
            out.put("probe auc " + pct(f), EvalSuite.Spread.of(auc));
        }
    }

    /** Mean over classes of the ROC AUC of column c of {@code scores} against column c of {@code truth} (classes with one value left out). */
    static double macroAucMultiLabel(double[][] scores, float[][] truth) {
        double sum = 0;
        int n = 0;
        for (int c = 0; c < truth[0].length; c++) {
            double[] sc = new double[scores.length];
            int[] t = new int[scores.length];
            int pos = 0;
            for (int i = 0; i < scores.length; i++) {
                sc[i] = scores[i][c];
                t[i] = truth[i][c] > 0.5f ? 1 : 0;
                pos += t[i];
            }
            if (pos == 0 || pos == t.length) continue;
            sum += Metrics.rocAuc(sc, t);
            n++;
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    // ---------------------------------------------------------------- RSNA, SIIM, COVIDx

    /** RSNA Pneumonia: zero-shot pneumonia vs normal, the binary probe (AUC) and the boxes' segmentation (Dice). */
    public static Map<String, EvalSuite.Spread> rsna(Pretrained p, Path root, Options o) {
        Embedder e = new Embedder(p.model(), p.tokenizer());
        RsnaPneumonia rs = RsnaPneumonia.load(root);
        System.err.println(rs.summary());
        List<RsnaPneumonia.Item> train = cap(rs.split("train"), o.subset(), 1), test = cap(rs.split("test"), o.subset(), 2);
        Features tr = features(e, train, rs::readAll, o.size(), true, RsnaPneumonia.Sample::image, RsnaPneumonia.Sample::mask, x -> x.item().label(), null);
        Features te = features(e, test, rs::readAll, o.size(), true, RsnaPneumonia.Sample::image, RsnaPneumonia.Sample::mask, x -> x.item().label(), null);
        Map<String, EvalSuite.Spread> out = new LinkedHashMap<>();
        zeroShotBinary(out, e, te.global(), ints(te.labels()), Prompts.pneumonia());
        probeSingleLabel(out, tr.meanState(), ints(tr.labels()), te.meanState(), ints(te.labels()), 2, o);
        segment(out, tr, te, ints(tr.labels()), p.cfg().vision.patch, o);
        return out;
    }

    /** SIIM-ACR Pneumothorax (positives plus as many negatives): zero-shot pneumothorax vs normal and segmentation (Dice). */
    public static Map<String, EvalSuite.Spread> siim(Pretrained p, Path root, Options o) {
        Embedder e = new Embedder(p.model(), p.tokenizer());
        SiimPneumothorax si = SiimPneumothorax.load(root, true, 0L);
        System.err.println(si.summary());
        List<SiimPneumothorax.Item> train = cap(si.split("train"), o.subset(), 1), test = cap(si.split("test"), o.subset(), 2);
        Features tr = features(e, train, si::readAll, o.size(), true, SiimPneumothorax.Sample::image, SiimPneumothorax.Sample::mask, x -> x.item().label(), null);
        Features te = features(e, test, si::readAll, o.size(), true, SiimPneumothorax.Sample::image, SiimPneumothorax.Sample::mask, x -> x.item().label(), null);
        Map<String, EvalSuite.Spread> out = new LinkedHashMap<>();
        zeroShotBinary(out, e, te.global(), ints(te.labels()), Prompts.pneumothorax());
        segment(out, tr, te, ints(tr.labels()), p.cfg().vision.patch, o);
        return out;
    }

    /** COVIDx: the three-class linear probe, accuracy and macro AUC on the test split. */
    public static Map<String, EvalSuite.Spread> covidx(Pretrained p, Path root, Options o) {
        Embedder e = new Embedder(p.model(), p.tokenizer());
        Covidx cv = Covidx.load(root);
        System.err.println(cv.summary());
        List<Covidx.Item> train = cap(cv.split("train"), o.subset(), 1), test = cap(cv.split("test"), o.subset(), 2);
        Features tr = features(e, train, cv::readAll, o.size(), false, Covidx.Sample::image, null, x -> x.item().label(), null);
        Features te = features(e, test, cv::readAll, o.size(), false, Covidx.Sample::image, null, x -> x.item().label(), null);
        Map<String, EvalSuite.Spread> out = new LinkedHashMap<>();
        probeSingleLabel(out, tr.meanState(), ints(tr.labels()), te.meanState(), ints(te.labels()), Covidx.CLASSES.size(), o);
        return out;
    }

    /** Positive prompts against Prompts.normal(): AUC, F1 and accuracy (EvalSuite.binaryScores). */
    private static void zeroShotBinary(Map<String, EvalSuite.Spread> out, Embedder e, float[][] v, int[] truth, List<String> positive) {
        int pos = Arrays.stream(truth).sum();
        if (pos == 0 || pos == truth.length) return;                                    // AUC undefined on a one-class test set
        EvalSuite.Binary b = EvalSuite.binaryScores(e, "zeroshot", v, truth, positive);
        out.put("zeroshot auc", EvalSuite.Spread.of(new double[]{b.auc()}));
        out.put("zeroshot f1", EvalSuite.Spread.of(new double[]{b.f1()}));
        out.put("zeroshot acc", EvalSuite.Spread.of(new double[]{b.accuracy()}));
    }

    /** Single-label probe at each fraction: accuracy and (macro, or for two classes the positive class's) AUC. */
    static void probeSingleLabel(Map<String, EvalSuite.Spread> out, float[][] trainX, int[] trainY, float[][] testX, int[] testY, int classes, Options o) {
        for (double f : o.fractions()) {
            int seeds = f >= 1 ? 1 : o.seeds();
            double[] auc = new double[seeds], acc = new double[seeds];
            for (int s = 0; s < seeds; s++) {
                int[] idx = f >= 1 ? EvalSuite.range(trainX.length) : Subsets.stratified(trainY, f, s);
                LinearProbe.Result r = LinearProbe.fit(EvalSuite.pick(trainX, idx), pickY(trainY, idx), classes, testX, LinearProbe.Options.defaults().withSeed(s));
                acc[s] = Metrics.accuracy(r.predictions(), testY);
                if (classes == 2) {
                    double[] score = new double[testY.length];
                    for (int i = 0; i < score.length; i++) score[i] = r.scores()[i][1];
                    auc[s] = Metrics.rocAuc(score, testY);
                } else {
                    auc[s] = Metrics.rocAucMacro(r.scores(), testY, classes);
                }
            }
            out.put("probe auc " + pct(f), EvalSuite.Spread.of(auc));
            out.put("probe acc " + pct(f), EvalSuite.Spread.of(acc));
        }
    }

    /** The segmentation decoder at each fraction (at most segMax training images), Dice on the test images. */
    private static void segment(Map<String, EvalSuite.Spread> out, Features tr, Features te, int[] trainY, int patch, Options o) {
        int grid = o.size() / patch;
        for (double f : o.fractions()) {
            int seeds = f >= 1 ? 1 : o.seeds();
            double[] dice = new double[seeds];
            for (int s = 0; s < seeds; s++) {
                int[] idx = f >= 1 ? EvalSuite.range(tr.states().length) : Subsets.stratified(trainY, f, s);
                if (idx.length > o.segMax()) idx = Arrays.copyOf(shuffled(idx, s), o.segMax());
                float[][][] tokens = new float[idx.length][][];
                for (int i = 0; i < idx.length; i++) tokens[i] = tr.states()[idx[i]];
                int epochs = Math.max(3, Math.min(100, EvalSuite.SEG_SAMPLES / Math.max(1, idx.length)));
                var opt = FewShotSegmentation.Options.defaults().withEpochs(epochs).withSeed(s);
                dice[s] = FewShotSegmentation.fit(tokens, EvalSuite.pick(tr.masks(), idx), te.states(), o.size(), grid, opt).meanDice(te.masks());
            }
            out.put("segment dice " + pct(f), EvalSuite.Spread.of(dice));
        }
    }

    static String pct(double f) {
        return (f * 100 == Math.rint(f * 100) ? String.valueOf((int) Math.rint(f * 100)) : String.valueOf(f * 100)) + "%";
    }

    private static int[] shuffled(int[] idx, long seed) {
        int[] a = idx.clone();
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    private static int[] pickY(int[] xs, int[] idx) {
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) out[i] = xs[idx[i]];
        return out;
    }
}
