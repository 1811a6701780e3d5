package mlip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import mlip.data.synth.SentenceAnnotation;
import mlip.data.synth.SynthCxr;
import mlip.data.synth.SynthStudy;
import mlip.model.MlipConfig;
import mlip.model.MlipModel;
import mlip.tensor.Generator;
import mlip.text.WordPieceTokenizer;
import mlip.train.TrainData;
import org.junit.jupiter.api.Test;

/**
 * Hand-made embeddings: an 8x8 patch grid (32 px, 4 px patches) cut into four 4x4-patch quadrants;
 * sentence s is direction e_s and the patches of quadrant s point (noisily) along e_s.
 */
class GroundingTest {
    static final int SIZE = 32, PATCH = 4, GRID = SIZE / PATCH, N = GRID * GRID, E = 8;
    static final double EPS = 0.1;
    static final int ITERS = 50;

    /** Quadrant q: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right. */
    static int quadrant(int p) {
        return (p / GRID >= GRID / 2 ? 2 : 0) + (p % GRID >= GRID / 2 ? 1 : 0);
    }

    /** (N*E) normalised patches: quadrant q along e_q plus noise. */
    static float[] patches(Random r) {
        float[] out = new float[N * E];
        for (int p = 0; p < N; p++) {
            float[] v = new float[E];
            for (int j = 0; j < E; j++) v[j] = (float) (0.15 * r.nextGaussian());
            v[quadrant(p)] += 1;
            System.arraycopy(normalise(v), 0, out, p * E, E);
        }
        return out;
    }

    static float[] sentence(int q) {
        float[] v = new float[E];
        v[q] = 1;
        return v;
    }

    static float[] normalise(float[] v) {
        double s = 0;
        for (float x : v) s += x * x;
        float[] out = v.clone();
        for (int j = 0; j < v.length; j++) out[j] /= (float) Math.sqrt(s);
        return out;
    }

    /** (SIZE*SIZE) pixel mask of quadrant q. */
    static float[] mask(int q) {
        float[] m = new float[SIZE * SIZE];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) if ((y >= SIZE / 2 ? 2 : 0) + (x >= SIZE / 2 ? 1 : 0) == q) m[y * SIZE + x] = 1;
        }
        return m;
    }

    static int argmax(float[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
        return b;
    }

    @Test
    void mapsPeakInsideTheSentencesQuadrantAndPlansSumToOne() {
        float[] p = patches(new Random(1));
        float[][] sent = {sentence(0), sentence(1), sentence(3)};
        Grounding.Maps m = Grounding.maps(p, N, sent, EPS, ITERS);
        int[] quads = {0, 1, 3};
        for (int s = 0; s < sent.length; s++) {
            assertEquals(N, m.cosine()[s].length);
            assertEquals(quads[s], quadrant(argmax(m.cosine()[s])), "cosine peak of sentence " + s);
            assertEquals(quads[s], quadrant(argmax(m.plan()[s])), "plan peak of sentence " + s);
            double sum = 0, inQuad = 0;
            for (int q = 0; q < N; q++) {
                sum += m.plan()[s][q];
                if (quadrant(q) == quads[s]) inQuad += m.plan()[s][q];
                assertTrue(m.plan()[s][q] >= 0);
            }
            assertEquals(1, sum, 1e-5, "plan map of sentence " + s);
            assertTrue(inQuad > 0.5, "most of sentence " + s + "'s mass lands in its quadrant: " + inQuad);
        }
        // cosine against a hand computation
        double c = 0;
        for (int j = 0; j < E; j++) c += p[5 * E + j] * sent[1][j];
        assertEquals(c, m.cosine()[1][5], 1e-6);
    }

    @Test
    void anAbsentSentenceIsNullAndLeavesTheOthersPlansAlone() {
        float[] p = patches(new Random(2));
        Grounding.Maps with = Grounding.maps(p, N, new float[][]{sentence(0), null, sentence(3)}, EPS, ITERS);
        Grounding.Maps without = Grounding.maps(p, N, new float[][]{sentence(0), sentence(3)}, EPS, ITERS);
        Grounding.Maps present = Grounding.maps(p, N, new float[][]{sentence(0), sentence(1), sentence(3)}, EPS, ITERS);
        assertNull(with.cosine()[1]);
        assertNull(with.plan()[1]);
        for (int q = 0; q < N; q++) {
            assertEquals(without.plan()[0][q], with.plan()[0][q], 1e-6);
            assertEquals(without.plan()[1][q], with.plan()[2][q], 1e-6);
        }
        // had the sentence been there, it would have drawn quadrant 1's mass away from the others
        assertFalse(Math.abs(present.plan()[0][1] - with.plan()[0][1]) < 1e-3, "a present sentence changes the plan");
        assertNull(Grounding.maps(p, N, new float[][]{null}, EPS, ITERS).plan()[0]);
    }

    @Test
    void pointingAndCoverageOfPerfectAndWrongMasks() {
        Random r = new Random(3);
        float[][] sent = {sentence(0), sentence(1), sentence(2), sentence(3)};
        List<String> report = List.of("a", "b", "c", "d");
        List<PointingGame.Study> studies = new ArrayList<>();
        List<float[][]> sentences = new ArrayList<>();
        List<List<String>> findings = new ArrayList<>();
        float[][] patches = new float[3][];
        // study 0: two findings, both masks right; study 1: effusion right, edema's mask in the wrong quadrant;
        // study 2: an absent sentence and a mask covering no patch (both skipped)
        studies.add(new PointingGame.Study(null, report, List.of(new PointingGame.Target(0, mask(0)), new PointingGame.Target(3, mask(3)))));
        findings.add(List.of("effusion", "edema"));
        studies.add(new PointingGame.Study(null, report, List.of(new PointingGame.Target(1, mask(1)), new PointingGame.Target(2, mask(3)))));
        findings.add(List.of("effusion", "edema"));
        float[] tiny = new float[SIZE * SIZE];
        tiny[0] = 0.4f;                                             // under 0.5 everywhere: the mask touches no patch
        studies.add(new PointingGame.Study(null, report, List.of(new PointingGame.Target(2, mask(2)), new PointingGame.Target(0, tiny))));
        findings.add(List.of("edema", "effusion"));
        for (int i = 0; i < 3; i++) {
            patches[i] = patches(r);
            sentences.add(i == 2 ? new float[][]{sent[0], sent[1], null, sent[3]} : sent);
        }
        Grounding.Result res = Grounding.evaluate(patches, sentences, studies, findings, SIZE, PATCH, EPS, ITERS);
        for (Grounding.Score s : List.of(res.cosine(), res.ot())) {
            assertEquals(4, s.n());
            assertEquals(0.75, s.pointing(), 1e-12);
            assertEquals(0.75, s.top5(), 1e-12, "top ceil(0.05*64)=4 patches: all in, or (wrong quadrant) none");
            assertEquals(List.of("edema", "effusion"), List.copyOf(s.findings().keySet()));
            assertEquals(new Grounding.FindingScore(0.5, 0.5, 2), s.findings().get("edema"));
            assertEquals(new Grounding.FindingScore(1, 1, 2), s.findings().get("effusion"));
        }
        assertEquals(0.25, res.chance(), 1e-12);
        // prior: effusion's two masks are quadrants 0 and 1 (no patch in both: 1 of 2), edema's two are quadrant 3
        // (a patch in both: 2 of 2), so the best fixed patches hit 3 of the 4 targets
        assertEquals(0.75, res.prior(), 1e-12);
        assertEquals("grounding prior pointing=0.750 chance=0.250 n=4", res.lines().get(0));
        assertEquals("grounding cosine pointing=0.750 top5=0.750 chance=0.250 n=4", res.lines().get(1));
        assertEquals("grounding cosine edema pointing=0.500 top5=0.500 n=2", res.lines().get(2));
        assertEquals("grounding ot pointing=0.750 top5=0.750 chance=0.250 n=4", res.lines().get(4));
        assertEquals(7, res.lines().size());

        Grounding.Result plain = Grounding.evaluate(patches, sentences, studies, null, SIZE, PATCH, EPS, ITERS);
        assertTrue(Double.isNaN(plain.prior()), "no finding names, no prior");
        assertTrue(plain.ot().findings().isEmpty());
        assertEquals(0.75, plain.ot().pointing(), 1e-12);
    }

    @Test
    void coverageCountsTheTopFivePercent() {
        boolean[] inside = new boolean[N];
        float[] map = new float[N];
        for (int p = 0; p < 4; p++) map[p] = 10 - p;          // top 4 = patches 0..3
        inside[0] = true;
        inside[2] = true;
        inside[10] = true;                                    // inside but not among the top
        assertEquals(0.5, Grounding.coverage(map, inside), 1e-12);
        assertTrue(Grounding.hit(map, inside));
        inside[0] = false;
        assertFalse(Grounding.hit(map, inside));
        assertEquals(0.25, Grounding.coverage(map, inside), 1e-12);
        assertEquals(1.0, Grounding.coverage(new float[]{0, 1, 0}, new boolean[]{false, true, false}), 1e-12, "at least one patch");
    }

    @Test
    void runsOnATinyModel() {
        MlipConfig cfg = MlipConfig.load(Path.of("src/test/resources/tiny.yaml").toString());
        int size = cfg.vision.imageSize;
        List<SynthStudy> synth = SynthCxr.generateRange(5, 0, 6, size, SynthCxr.Hardness.DEFAULT);
        List<String> corpus = new ArrayList<>();
        for (SynthStudy s : synth) corpus.addAll(TrainData.sentences(s.report()));
        WordPieceTokenizer tok = WordPieceTokenizer.train(corpus, 150, true);
        cfg.text.vocab = tok.vocabSize();
        Embedder emb = new Embedder(new MlipModel(cfg, new Generator(1)), tok, 4);

        List<PointingGame.Study> studies = new ArrayList<>();
        List<List<String>> findings = new ArrayList<>();
        for (SynthStudy s : synth) {
            List<String> sentences = s.sentences().stream().map(SentenceAnnotation::text).toList();
            List<PointingGame.Target> targets = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (int k = 0; k < s.sentences().size(); k++) {
                var f = s.sentences().get(k).finding();
                if (f != null && s.masks().containsKey(f)) {
                    targets.add(new PointingGame.Target(k, s.masks().get(f)));
                    names.add(f.label());
                }
            }
            studies.add(new PointingGame.Study(s.image(), sentences, targets));
            findings.add(names);
        }
        Grounding.Result r = Grounding.evaluate(emb, studies, findings, size, cfg.vision.patch, cfg.loss.otEps, cfg.loss.otIterations);
        assertTrue(r.cosine().n() > 0, "some targets scored");
        for (double v : new double[]{r.cosine().pointing(), r.cosine().top5(), r.ot().pointing(), r.ot().top5(), r.chance()}) {
            assertTrue(v >= 0 && v <= 1, "in [0, 1]: " + v);
        }

        SynthStudy s = synth.get(0);
        List<String> sentences = s.sentences().stream().map(SentenceAnnotation::text).toList();
        Grounding.Maps m = Grounding.maps(emb, s.image(), size, sentences, cfg.loss.otEps, cfg.loss.otIterations);
        int n = (size / cfg.vision.patch) * (size / cfg.vision.patch);
        assertNotNull(m.plan()[0]);
        assertEquals(n, m.plan()[0].length);
        double sum = 0;
        for (float v : m.plan()[0]) sum += v;
        assertEquals(1, sum, 1e-5);
        assertTrue(Arrays.stream(m.cosine()).filter(row -> row != null).allMatch(row -> row.length == n));
    }
}
