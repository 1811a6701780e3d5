package mlip.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import mlip.tensor.Composite;
import mlip.tensor.Tensor;

/*
 * Design note — what a sentence's grounding map is:
 *   cosine: cos(patch p, sentence s), the map PointingGame uses;
 *   ot:     the column of the Sinkhorn plan T (N, M) of cost 1 - cos (DESIGN.md 7.2, the same
 *           Composite.sinkhornPlan the loss uses, absent sentences masked through colMask), times the
 *           number of valid sentences. Sinkhorn ends on the column update, so every valid column of T sums
 *           to exactly 1 / M_valid; the scaled column sums to 1 over patches: where the sentence's mass goes.
 *   Patch marginals are uniform over all N patches (evaluation sees whole images, nothing is masked).
 *   The maps are scored as PointingGame scores: a patch is inside when PointingGame.inside says so, and
 *   targets whose sentence did not fit, or whose mask covers no patch, are skipped (chance comes from the
 *   same targets).
 *   prior:  the image-blind location prior, a second reference beside chance. Per finding, the one patch
 *           that lies inside the most of that finding's masks among the scored targets (an oracle fitted on
 *           the evaluated studies themselves, so an upper bound for any pointer that ignores the image and
 *           the sentence's wording but knows the finding). Findings sit where anatomy puts them (the heart is
 *           central, pneumothorax apical), so a model whose maps only learned "where this finding usually is"
 *           scores near it; pointing above it needs the image.
 */

/**
 * Patch-sentence grounding: per report sentence, a map over the image's patches from the cosine and from
 * the OT plan, scored against the finding masks by the pointing game (argmax inside the mask) and by the
 * top-5% coverage (the fraction of the ceil(5% of N) highest patches, at least 1, inside the mask).
 *
 * <pre>{@code
 * Grounding.Result r = Grounding.evaluate(embedder, studies, findings, 96, 12, cfg.loss.otEps, cfg.loss.otIterations);
 * r.lines().forEach(System.out::println);   // grounding ot pointing=0.210 top5=0.240 chance=0.044 n=180
 * }</pre>
 */
public final class Grounding {
    /** The share of the patches the coverage score looks at. */
    public static final double TOP_FRACTION = 0.05;

    private Grounding() {
    }

    /** Per sentence, its map over the N patches (row-major grid); a row is null for an absent sentence. */
    public record Maps(float[][] cosine, float[][] plan) {
    }

    /** Pointing accuracy, mean top-5% coverage and count of one finding's targets. */
    public record FindingScore(double pointing, double top5, int n) {
    }

    /** One map kind over all targets, and per finding name (sorted). */
    public record Score(double pointing, double top5, int n, Map<String, FindingScore> findings) {
    }

    /**
     * Both map kinds; chance: the mean fraction of patches inside the masks (what a random patch scores); prior:
     * the best fixed patch per finding (see the design note; NaN without finding names).
     */
    public record Result(Score cosine, Score ot, double chance, double prior) {
        /**
         * e.g. {@code grounding prior pointing=0.231 chance=0.044 n=180}, then per map kind
         * {@code grounding cosine pointing=0.170 top5=0.210 chance=0.044 n=180} and one line per finding.
         */
        public List<String> lines() {
            List<String> out = new ArrayList<>();
            if (!Double.isNaN(prior)) out.add(String.format("grounding prior pointing=%.3f chance=%.3f n=%d", prior, chance, cosine.n()));
            for (var kind : List.of(Map.entry("cosine", cosine), Map.entry("ot", ot))) {
                Score s = kind.getValue();
                out.add(String.format("grounding %s pointing=%.3f top5=%.3f chance=%.3f n=%d", kind.getKey(), s.pointing(), s.top5(), chance, s.n()));
                s.findings().forEach((f, fs) -> out.add(String.format("grounding %s %s pointing=%.3f top5=%.3f n=%d",
                        kind.getKey(), f, fs.pointing(), fs.top5(), fs.n())));
            }
            return out;
        }
    }

    /**
     * The maps of one image's normalised patches {@code patches} (n*E flat) and a report's normalised
     * sentences (M rows of E, null = absent).
     *
     * <pre>{@code
     * Grounding.Maps m = Grounding.maps(patches, 64, sentences, 0.1, 20);
     * m.plan()[2];   // (64) sums to 1: where sentence 2's transport mass lands
     * }</pre>
     */
    public static Maps maps(float[] patches, int n, float[][] sentences, double eps, int iterations) {
        int m = sentences.length, dim = patches.length / n, valid = 0;
        float[][] cosine = new float[m][], plan = new float[m][];
        double[] cost = new double[n * m], colMask = new double[m];                    // (N, M), (M)
        for (int s = 0; s < m; s++) {
            if (sentences[s] == null) continue;
            valid++;
            colMask[s] = 1;
            cosine[s] = new float[n];
            for (int p = 0; p < n; p++) {
                double c = 0;
                for (int j = 0; j < dim; j++) c += patches[p * dim + j] * sentences[s][j];
                cosine[s][p] = (float) c;
                cost[p * m + s] = 1 - c;
            }
        }
        if (valid == 0) return new Maps(cosine, plan);
        double[] t = Composite.sinkhornPlan(Tensor.of(cost, n, m), null, Tensor.of(colMask, m), eps, iterations).toDoubleArray();   // (N, M)
        for (int s = 0; s < m; s++) {
            if (sentences[s] == null) continue;
            plan[s] = new float[n];
            for (int p = 0; p < n; p++) plan[s][p] = (float) (t[p * m + s] * valid);    // column sums 1 / valid -> 1
        }
        return new Maps(cosine, plan);
    }

    /** {@link #maps(float[], int, float[][], double, int)} of one image (size*size) and its report's sentences, embedded by {@code e}. */
    public static Maps maps(Embedder e, float[] image, int size, List<String> sentences, double eps, int iterations) {
        List<float[][]> out = e.imageOutputs(List.of(image), size, true);
        float[] patches = out.get(1)[0];                                               // (N*E)
        return maps(patches, patches.length / out.get(0)[0].length, e.sentences(sentences), eps, iterations);   // N = N*E / E
    }

    /**
     * Scores the studies' targets; {@code findings.get(i).get(t)} names study i's target t (null for no
     * per-finding breakdown). Images are embedded in batches, as {@link PointingGame} does.
     */
    public static Result evaluate(Embedder e, List<PointingGame.Study> studies, List<List<String>> findings, int size, int patch,
                                  double eps, int iterations) {
        float[][] patches = e.imageOutputs(studies.stream().map(PointingGame.Study::image).toList(), size, true).get(1);   // (S, N*E)
        List<float[][]> sentences = studies.stream().map(st -> e.sentences(st.sentences())).toList();                    // S x (M, E)
        return evaluate(patches, sentences, studies, findings, size, patch, eps, iterations);
    }

    /** {@link #evaluate(Embedder, List, List, int, int, double, int)} from embeddings already computed: patches (S, N*E), per study its sentences (M, E). */
    public static Result evaluate(float[][] patches, List<float[][]> sentences, List<PointingGame.Study> studies, List<List<String>> findings,
                                  int size, int patch, double eps, int iterations) {
        int grid = size / patch, n = grid * grid;
        Tally cos = new Tally(), ot = new Tally();
        Map<String, int[]> insideCounts = new TreeMap<>();                                  // per finding: per patch, how many masks it touches
        double chance = 0;
        int total = 0;
        for (int i = 0; i < studies.size(); i++) {
            float[][] sent = sentences.get(i);
            Maps maps = maps(patches[i], n, sent, eps, iterations);
            List<PointingGame.Target> targets = studies.get(i).targets();
            for (int k = 0; k < targets.size(); k++) {
                PointingGame.Target t = targets.get(k);
                if (t.sentence() >= sent.length || sent[t.sentence()] == null) continue;   // the sentence did not fit the text length
                boolean[] inside = PointingGame.inside(t.mask(), size, patch);
                int in = 0;
                for (boolean b : inside) if (b) in++;
                if (in == 0) continue;                                                      // a finding too small for any patch
                chance += (double) in / n;
                total++;
                String name = findings == null ? null : findings.get(i).get(k);
                cos.add(name, maps.cosine()[t.sentence()], inside);
                ot.add(name, maps.plan()[t.sentence()], inside);
                if (name != null) {
                    int[] c = insideCounts.computeIfAbsent(name, f -> new int[n]);
                    for (int p = 0; p < n; p++) if (inside[p]) c[p]++;
                }
            }
        }
        return new Result(cos.score(), ot.score(), total == 0 ? Double.NaN : chance / total, locationPrior(insideCounts, findings == null ? 0 : total));
    }

    /** Hits of the best fixed patch per finding, over all targets: sum_f max_p count_f[p] / total (NaN when there are none). */
    static double locationPrior(Map<String, int[]> insideCounts, int total) {
        if (total == 0) return Double.NaN;
        int hits = 0;
        for (int[] c : insideCounts.values()) hits += java.util.Arrays.stream(c).max().orElse(0);
        return (double) hits / total;
    }

    /** Whether the map's highest patch (the first of equals) is inside. */
    static boolean hit(float[] map, boolean[] inside) {
        int best = 0;
        for (int p = 1; p < map.length; p++) if (map[p] > map[best]) best = p;
        return inside[best];
    }

    /** The fraction of the top max(1, ceil(TOP_FRACTION * N)) patches of the map (ties: lower index first) that are inside. */
    static double coverage(float[] map, boolean[] inside) {
        int k = Math.max(1, (int) Math.ceil(TOP_FRACTION * map.length)), in = 0;
        Integer[] order = new Integer[map.length];
        for (int p = 0; p < order.length; p++) order[p] = p;
        java.util.Arrays.sort(order, (a, b) -> Float.compare(map[b], map[a]));       // stable: ties keep index order
        for (int r = 0; r < k; r++) if (inside[order[r]]) in++;
        return (double) in / k;
    }

    /** Running sums of hits and coverage, overall and per finding. */
    private static final class Tally {
        private final double[] all = new double[3];                                     // hits, coverage, n
        private final Map<String, double[]> byFinding = new TreeMap<>();

        void add(String finding, float[] map, boolean[] inside) {
            double h = hit(map, inside) ? 1 : 0, c = coverage(map, inside);
            add(all, h, c);
            if (finding != null) add(byFinding.computeIfAbsent(finding, f -> new double[3]), h, c);
        }

        private static void add(double[] a, double h, double c) {
            a[0] += h;
            a[1] += c;
            a[2]++;
        }

        Score score() {
            Map<String, FindingScore> f = new TreeMap<>();
            byFinding.forEach((k, a) -> f.put(k, new FindingScore(a[0] / a[2], a[1] / a[2], (int) a[2])));
            return new Score(all[2] == 0 ? Double.NaN : all[0] / all[2], all[2] == 0 ? Double.NaN : all[1] / all[2], (int) all[2], f);
        }
    }
}
