package mlip.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mlip.model.Prompts;
import mlip.train.Pretrained;

/*
 * Design note — budgets. The few-shot trainers run inside `bin/mlip demo`, so their cost is fixed up front:
 * the probe trains 200 full-batch epochs (a linear layer: cheap at any size); the segmentation decoder sees
 * about SEG_SAMPLES images in total per fraction (epochs = SEG_SAMPLES / train size, between 3 and 100), so
 * 1% of the data is not under-trained and 100% does not take minutes. Seeds vary the subset and the init.
 */

/**
 * Every evaluation of DESIGN.md section 7 on one trained model: zero-shot (prompt kinds x score kinds),
 * few-shot linear probe and segmentation at 1/10/100% of the training labels, retrieval and grounding.
 *
 * <pre>{@code
 * Pretrained p = Pretrained.load(Path.of("runs/demo/mlip"));
 * EvalData d = EvalData.load(Path.of("runs/demo/synthcxr"), 96, 4000);
 * EvalSuite.probe(p, d, new double[]{0.01, 0.1, 1}, 3).forEach(System.out::println);
 * }</pre>
 */
public final class EvalSuite {
    private EvalSuite() {
    }

    static final int SEG_SAMPLES = 3000;

    /** Mean and sample standard deviation of a metric over seeds. */
    public record Spread(double mean, double std, int n) {
        public static Spread of(double[] xs) {
            double m = 0, v = 0;
            for (double x : xs) m += x / xs.length;
            for (double x : xs) v += (x - m) * (x - m);
            return new Spread(m, xs.length > 1 ? Math.sqrt(v / (xs.length - 1)) : 0, xs.length);
        }

        @Override
        public String toString() {
            return String.format("%.3f ± %.3f", mean, std);
        }
    }

    /** One row of a few-shot table: a fraction of the training labels, its size, and the metrics' spreads. */
    public record FewShot(double fraction, int trainSize, Map<String, Spread> metrics) {
    }

    /** Zero-shot results by mode name: "ensemble/global", "ensemble/local", "ensemble/both", "simple/global", "learned/global". */
    public static Map<String, ZeroShot.Result> zeroShot(Pretrained p, EvalData d) {
        return zeroShot(p, d, true);
    }

    /** As {@link #zeroShot(Pretrained, EvalData)}, with or without per-class normalisation. */
    public static Map<String, ZeroShot.Result> zeroShot(Pretrained p, EvalData d, boolean perClassNormalise) {
        Embedder e = new Embedder(p.model(), p.tokenizer());
        Map<String, ZeroShot.Result> out = new LinkedHashMap<>();
        for (ZeroShot.Score s : ZeroShot.Score.values()) {
            out.put("ensemble/" + s.name().toLowerCase(), ZeroShot.evaluate(e, d.evalImages(), d.evalClasses(), d.size(), Prompts.templates(), s, perClassNormalise));
        }
        out.put("simple/global", ZeroShot.evaluate(e, d.evalImages(), d.evalClasses(), d.size(), Prompts.simple(), ZeroShot.Score.GLOBAL, perClassNormalise));
        out.put("learned/global", ZeroShot.evaluateLearned(e, d.evalImages(), d.evalClasses(), d.size(), Prompts.EVAL_CLASSES, perClassNormalise));
        return out;
    }

    /** One binary zero-shot task: a finding's studies against normal studies. */
    public record Binary(String task, int positives, int negatives, double auc, double f1, double accuracy) {
        public String line() {
            return String.format("zeroshot binary %s auc=%.3f f1=%.3f acc=%.3f n=%d+%d", task, auc, f1, accuracy, positives, negatives);
        }
    }

    /**
     * Binary zero-shot tasks on the validation split, as RSNA (pneumonia vs normal) and SIIM (pneumothorax vs
     * normal) are run: score = cos(v, t_finding) - cos(v, t_normal); predicted positive when above 0.
     */
    public static List<Binary> binary(Pretrained p, EvalData d) {
        Embedder e = new Embedder(p.model(), p.tokenizer());
        int none = Prompts.CLASSES.indexOf("no finding");
        List<Binary> out = new ArrayList<>();
        Map<String, List<String>> tasks = new LinkedHashMap<>();
        tasks.put("pneumothorax", Prompts.pneumothorax());
        tasks.put("consolidation", Prompts.templates().get(Prompts.CLASSES.indexOf("consolidation")));
        tasks.forEach((name, prompts) -> {
            int cls = Prompts.CLASSES.indexOf(name);
            List<float[]> images = new ArrayList<>();
            List<Integer> truth = new ArrayList<>();
            for (int i = 0; i < d.valImages().size(); i++) {
                float[] y = d.valLabels().get(i);
                if (y[cls] > 0 || y[none] > 0) {
                    images.add(d.valImages().get(i));
                    truth.add(y[cls] > 0 ? 1 : 0);
                }
            }
            int pos = (int) truth.stream().filter(t -> t == 1).count();
            if (pos == 0 || pos == truth.size()) return;                                // AUC undefined: skip the task
            out.add(binaryScores(e, name + "-vs-normal", e.images(images, d.size()), truth.stream().mapToInt(Integer::intValue).toArray(), prompts));
        });
        return out;
    }

    /**
     * One binary zero-shot task on global image embeddings {@code v} with truth 0/1: score = cos(v, t_positive) -
     * cos(v, t_normal) (mean prompt directions of {@code positive} and {@link Prompts#normal()}), positive above 0.
     */
    public static Binary binaryScores(Embedder e, String task, float[][] v, int[] truth, List<String> positive) {
        float[] finding = ZeroShot.meanDirection(e.texts(positive)), normal = ZeroShot.meanDirection(e.texts(Prompts.normal()));
        double[] score = new double[v.length];
        int[] pred = new int[v.length];
        int pos = 0;
        for (int i = 0; i < v.length; i++) {
            score[i] = Embedder.dot(v[i], finding) - Embedder.dot(v[i], normal);
            pred[i] = score[i] > 0 ? 1 : 0;
            pos += truth[i];
        }
        return new Binary(task, pos, truth.length - pos, Metrics.rocAuc(score, truth), Metrics.f1Binary(pred, truth), Metrics.accuracy(pred, truth));
    }

    /**
     * Linear probe on the frozen encoder's mean patch state: multi-label over the five evaluation classes,
     * trained on a stratified fraction of the training split, tested on the 5x200 studies (macro AUC, accuracy).
     */
    public static List<FewShot> probe(Pretrained p, EvalData d, double[] fractions, int seeds) {
        return probe(d, States.of(p, d), fractions, seeds);
    }

    /** The frozen encoder's patch states (n, N, D) of the training and the evaluation images, computed once for probe and segmentation. */
    public record States(float[][][] train, float[][][] eval) {
        public static States of(Pretrained p, EvalData d) {
            Embedder e = new Embedder(p.model(), p.tokenizer());
            return new States(e.encoderStates(d.trainImages(), d.size()), e.encoderStates(d.evalImages(), d.size()));
        }
    }

    /** {@link #probe(Pretrained, EvalData, double[], int)} on states already computed. */
    public static List<FewShot> probe(EvalData d, States states, double[] fractions, int seeds) {
        float[][] trainX = meanOverPatches(states.train());
        float[][] testX = meanOverPatches(states.eval());
        float[][] y = new float[trainX.length][];
        for (int i = 0; i < y.length; i++) y[i] = java.util.Arrays.copyOf(d.trainLabels().get(i), Prompts.EVAL_CLASSES);
        List<FewShot> rows = new ArrayList<>();
        for (double f : fractions) {
            double[] auc = new double[seeds], acc = new double[seeds];
            int size = 0;
            for (int s = 0; s < seeds; s++) {
                int[] idx = f >= 1 ? range(y.length) : Subsets.stratifiedMultiLabel(y, f, s);
                size = idx.length;
                LinearProbe.Result r = LinearProbe.fitMultiLabel(pick(trainX, idx), pick(y, idx), testX, LinearProbe.Options.defaults().withSeed(s));
                auc[s] = Metrics.rocAucMacro(r.scores(), d.evalClasses(), Prompts.EVAL_CLASSES);
                acc[s] = Metrics.accuracy(r.predictions(), d.evalClasses());
            }
            rows.add(new FewShot(f, size, Map.of("auc", Spread.of(auc), "acc", Spread.of(acc))));
        }
        return rows;
    }

    /** Few-shot segmentation of the findings' union mask from frozen patch states; mean Dice on the 5x200 studies. */
    public static List<FewShot> segment(Pretrained p, EvalData d, double[] fractions, int seeds) {
        if (d.trainMasks() == null) throw new IllegalArgumentException("segmentation needs pixel masks (SynthCXR annotations); this data root has none");
        return segment(d, States.of(p, d), p.cfg().vision.patch, fractions, seeds);
    }

    /** {@link #segment(Pretrained, EvalData, double[], int)} on states already computed; {@code patch} is the ViT's patch size. */
    public static List<FewShot> segment(EvalData d, States states, int patch, double[] fractions, int seeds) {
        if (d.trainMasks() == null) throw new IllegalArgumentException("segmentation needs pixel masks (SynthCXR annotations); this data root has none");
        float[][][] trainT = states.train(), testT = states.eval();
        float[][] trainM = d.trainMasks().toArray(new float[0][]), testM = d.evalMasks().toArray(new float[0][]);
        float[][] y = d.trainLabels().toArray(new float[0][]);
        int grid = d.size() / patch;
        List<FewShot> rows = new ArrayList<>();
        for (double f : fractions) {
            double[] dice = new double[seeds];
            int size = 0;
            for (int s = 0; s < seeds; s++) {
                int[] idx = f >= 1 ? range(y.length) : Subsets.stratifiedMultiLabel(y, f, s);
                size = idx.length;
                int epochs = Math.max(3, Math.min(100, SEG_SAMPLES / idx.length));
                var o = FewShotSegmentation.Options.defaults().withEpochs(epochs).withSeed(s);
                float[][][] tt = new float[idx.length][][];
                for (int i = 0; i < idx.length; i++) tt[i] = trainT[idx[i]];
                dice[s] = FewShotSegmentation.fit(tt, pick(trainM, idx), testT, d.size(), grid, o).meanDice(testM);
            }
            rows.add(new FewShot(f, size, Map.of("dice", Spread.of(dice))));
        }
        return rows;
    }

    /** Image-report retrieval on the 5x200 studies against their own reports: Recall@1/5/10 both ways. */
    public static Map<String, Double> retrieve(Pretrained p, EvalData d) {
        Embedder e = new Embedder(p.model(), p.tokenizer());
        float[][] v = e.images(d.evalImages(), d.size()), t = e.reports(d.evalReports());
        int n = v.length;
        double[][] i2t = new double[n][n], t2i = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                i2t[i][j] = Embedder.dot(v[i], t[j]);
                t2i[j][i] = i2t[i][j];
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (int k : new int[]{1, 5, 10}) out.put("image->report R@" + k, Metrics.recallAtK(i2t, k));
        for (int k : new int[]{1, 5, 10}) out.put("report->image R@" + k, Metrics.recallAtK(t2i, k));
        return out;
    }

    /** Grounding on the 5x200 studies: pointing and top-5% coverage per finding, cosine map and OT plan. */
    public static Grounding.Result ground(Pretrained p, EvalData d) {
        if (d.evalTargets() == null) throw new IllegalArgumentException("grounding needs pixel masks (SynthCXR annotations); this data root has none");
        var l = p.cfg().loss;
        return Grounding.evaluate(new Embedder(p.model(), p.tokenizer()), d.pointingStudies(), d.pointingFindings(), d.size(), p.cfg().vision.patch, l.otEps, l.otIterations);
    }

    static float[][] meanOverPatches(float[][][] states) {
        float[][] out = new float[states.length][];
        for (int i = 0; i < states.length; i++) {
            float[] m = new float[states[i][0].length];
            for (float[] tok : states[i]) for (int j = 0; j < m.length; j++) m[j] += tok[j] / states[i].length;
            out[i] = m;
        }
        return out;
    }

    static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    static float[][] pick(float[][] rows, int[] idx) {
        float[][] out = new float[idx.length][];
        for (int i = 0; i < idx.length; i++) out[i] = rows[idx[i]];
        return out;
    }
}
