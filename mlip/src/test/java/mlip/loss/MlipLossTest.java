package mlip.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import mlip.autograd.GradCheck;
import mlip.autograd.Variable;
import mlip.data.synth.SynthCxr;
import mlip.data.synth.SynthStudy;
import mlip.model.Batch;
import mlip.model.MlipConfig;
import mlip.model.MlipModel;
import mlip.model.Prompts;
import mlip.tensor.DType;
import mlip.tensor.Distribution;
import mlip.tensor.Device;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import mlip.text.WordPieceTokenizer;
import mlip.train.TrainData;
import org.junit.jupiter.api.Test;

/**
 * The loss terms: each building block gradchecked in F64, and on the model each term's gradient reaches
 * exactly the parameters that term depends on.
 */
class MlipLossTest {
    private final Generator g = new Generator(11);

    private Tensor randn(int... shape) {
        return Tensor.random(g, Distribution.NORMAL, DType.F64, Device.CPU, shape);
    }

    @Test
    void infoNceGradchecks() {
        assertNull(GradCheck.check(x -> MlipLoss.infoNce(x[0]), randn(5, 5)));
    }

    @Test
    void multiPositiveAndSoftTargetGradcheck() {
        Tensor pos = Tensor.of(new double[]{1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1}, 4, 4);
        assertNull(GradCheck.check(x -> MlipLoss.multiPositiveNce(x[0], pos), randn(4, 4)));
        Tensor q = Tensor.of(new double[]{0.5, 0.5, 0, 0, 0, 1}, 2, 3);
        assertNull(GradCheck.check(x -> MlipLoss.softTargetCe(x[0], q), randn(2, 3)));
    }

    @Test
    void infoNceIsLogBAtUniformLogitsAndSmallWhenDiagonalDominates() {
        Variable uniform = Variable.of(Tensor.zeros(DType.F64, 6, 6));
        assertEquals(Math.log(6), MlipLoss.infoNce(uniform).item(), 1e-12);
        Tensor eye = Tensor.arange(6).unsqueeze(1).eq(Tensor.arange(6).unsqueeze(0)).to(DType.F64).mul(50);
        assertTrue(MlipLoss.infoNce(Variable.of(eye)).item() < 1e-10);
    }

    @Test
    void normalizeAndSoftplusGradcheck() {
        assertNull(GradCheck.check(x -> MlipModel.normalize(x[0]).sum(-1, false).square().sum(), randn(3, 4)));
        assertNull(GradCheck.check(x -> MlipModel.softplus(x[0]).sum(), randn(7)));
    }

    @Test
    void weightedLogitsGradcheckThroughTheEstimatorWeight() {
        // logits_ij = w_i * c_ij with w = softplus(r) / mean(softplus(r)): the estimator's only gradient path.
        Tensor c = randn(4, 4);
        assertNull(GradCheck.check(x -> {
            Variable w = MlipModel.softplus(x[0]);
            w = w.div(w.mean());
            return MlipLoss.infoNce(Variable.of(c).mul(w.unsqueeze(1)));
        }, randn(4)));
    }

    /** Which parameters each term reaches, on a real batch of SynthCXR studies. */
    @Test
    void eachTermReachesItsParameters() {
        MlipConfig cfg = MlipConfig.load(Path.of("src/test/resources/tiny.yaml").toString());
        WordPieceTokenizer[] tok = new WordPieceTokenizer[1];
        Batch batch = synthBatch(cfg, 8, tok);
        Prompts prompts = Prompts.continuous(tok[0], cfg.loss.promptContext, 12);
        MlipModel model = new MlipModel(cfg, new Generator(1));
        MlipLoss.Terms terms = MlipLoss.compute(model, batch, new Generator(2), prompts);
        assertEquals(List.of("global", "local", "mim", "label"), List.copyOf(terms.terms().keySet()));

        Map<String, String[]> reaches = Map.of(
                "global", new String[]{"image_proj.weight", "text_proj.weight", "logit_scale", "estimator.weight"},
                "local", new String[]{"patch_proj.weight", "sentence_proj.weight", "ot_logit_scale"},
                "mim", new String[]{"decoder.head.weight", "vision.blocks.0.mlp.fc1.weight"},
                "label", new String[]{"prompt_context", "text_proj.weight"});
        Map<String, String[]> avoids = Map.of(
                "global", new String[]{"patch_proj.weight", "decoder.head.weight", "prompt_context"},
                "local", new String[]{"image_proj.weight", "text_proj.weight", "decoder.head.weight"},
                "mim", new String[]{"text_proj.weight", "patch_proj.weight", "logit_scale"},
                "label", new String[]{"patch_proj.weight", "sentence_proj.weight", "decoder.head.weight"});
        for (String term : terms.terms().keySet()) {
            model.zeroGrad();
            MlipLoss.Terms t = MlipLoss.compute(model, batch, new Generator(2), prompts);
            t.terms().get(term).backward();
            Map<String, Variable> p = model.namedParameters();
            for (String name : reaches.get(term)) {
                Tensor grad = p.get(name).grad();
                assertNotNull(grad, term + " must reach " + name);
                assertTrue(grad.abs().sum().item() > 0, term + " gives " + name + " a zero gradient");
            }
            for (String name : avoids.get(term)) {
                Tensor grad = p.get(name).grad();
                assertTrue(grad == null || grad.abs().sum().item() == 0, term + " must not reach " + name);
            }
            assertTrue(Double.isFinite(t.terms().get(term).item()));
        }
    }

    /** FLIP's unmasked tuning: the last fraction of the steps encode every patch and drop L_mim and the estimator. */
    @Test
    void unmaskedTuningEncodesEveryPatchAtTheEnd() {
        MlipConfig cfg = MlipConfig.load(Path.of("src/test/resources/tiny.yaml").toString());
        cfg.optim.steps = 10;
        cfg.loss.unmaskedFraction = 0.3;
        cfg.loss.label = false;
        cfg.validate();
        assertTrue(cfg.maskedAt(0) && cfg.maskedAt(6));
        assertTrue(!cfg.maskedAt(7) && !cfg.maskedAt(9));
        Batch batch = synthBatch(cfg, 4, new WordPieceTokenizer[1]);
        MlipModel model = new MlipModel(cfg, new Generator(1));
        assertEquals(List.of("global", "local", "mim"), List.copyOf(MlipLoss.compute(model, batch, new Generator(2), null, 6).terms().keySet()));
        MlipLoss.Terms late = MlipLoss.compute(model, batch, new Generator(2), null, 7);
        assertEquals(List.of("global", "local"), List.copyOf(late.terms().keySet()));
        late.total().backward();
        assertNull(model.namedParameters().get("estimator.weight").grad(), "no estimator weight in an unmasked step");
        cfg.loss.unmaskedFraction = 1.5;
        assertTrue(assertThrows(IllegalArgumentException.class, cfg::validate).getMessage().contains("unmaskedFraction"));
    }

    /** A batch of {@code n} SynthCXR studies with a tokenizer trained on them (into tok[0]); sets cfg.text.vocab. */
    private static Batch synthBatch(MlipConfig cfg, int n, WordPieceTokenizer[] tok) {
        List<SynthStudy> studies = SynthCxr.generateRange(5, 0, n, 32, SynthCxr.Hardness.DEFAULT);
        List<String> corpus = new ArrayList<>();
        for (SynthStudy s : studies) corpus.addAll(TrainData.sentences(s.report()));
        tok[0] = WordPieceTokenizer.train(corpus, 150, true);
        cfg.text.vocab = tok[0].vocabSize();
        return TrainData.ofStudies(studies, tok[0], cfg.text.maxLen, cfg.text.maxSentences);
    }
}
