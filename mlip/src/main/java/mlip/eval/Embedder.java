package mlip.eval;

import java.util.ArrayList;
import java.util.List;
import mlip.autograd.GradMode;
import mlip.autograd.Variable;
import mlip.model.MlipModel;
import mlip.model.Prompts;
import mlip.tensor.Tensor;
import mlip.text.Encoded;
import mlip.text.WordPieceTokenizer;
import mlip.train.TrainData;

/**
 * Frozen-model embeddings for evaluation: whole images (no masking), texts (CLS), and the sentences of
 * reports, in the shared space, computed in batches without recording a graph.
 *
 * <pre>{@code
 * Embedder e = new Embedder(model, tokenizer);
 * float[][] v = e.images(images, 96);           // (n, E) normalised global embeddings
 * }</pre>
 */
public final class Embedder {
    private final MlipModel model;
    private final WordPieceTokenizer tok;
    private final int batch;

    public Embedder(MlipModel model, WordPieceTokenizer tok) {
        this(model, tok, 64);
    }

    public Embedder(MlipModel model, WordPieceTokenizer tok, int batch) {
        this.model = model;
        this.tok = tok;
        this.batch = batch;
    }

    /** Image global embeddings v (n, E). */
    public float[][] images(List<float[]> images, int size) {
        return imageOutputs(images, size, false).get(0);
    }

    /** Global v (n, E) and, flattened per image, the patch embeddings p (n, N*E) of whole images. */
    public List<float[][]> imageOutputs(List<float[]> images, int size, boolean patches) {
        int n = images.size();
        float[][] g = new float[n][], p = new float[n][];
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int s = 0; s < n; s += batch) {
                int e = Math.min(n, s + batch);
                MlipModel.ImageOut out = model.encodeImage(stack(images, s, e, size), false, null);
                split(out.global(), g, s);
                if (patches) split(out.patches().reshape(e - s, -1), p, s);
            }
        }
        List<float[][]> res = new ArrayList<>();
        res.add(g);
        res.add(patches ? p : null);
        return res;
    }

    /**
     * The frozen encoder's patch states (n, N, D) of whole images, before any projection: what the linear
     * probe (mean over patches) and the segmentation decoder train on.
     */
    public float[][][] encoderStates(List<float[]> images, int size) {
        return globalAndStates(images, size).states();
    }

    /** Global embeddings v (n, E) and patch states (n, N, D) of whole images from one encoder pass. */
    public record GlobalAndStates(float[][] global, float[][][] states) {
    }

    /** {@link #images} and {@link #encoderStates} from one pass of the encoder over each batch. */
    public GlobalAndStates globalAndStates(List<float[]> images, int size) {
        int n = images.size();
        float[][] g = new float[n][];
        float[][][] out = new float[n][][];
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int s = 0; s < n; s += batch) {
                int e = Math.min(n, s + batch);
                MlipModel.ImageOut io = model.encodeImage(stack(images, s, e, size), false, null);
                split(io.global(), g, s);
                Variable st = io.patchStates();                                                         // (b, N, D)
                int np = st.size(1);
                float[][] rows = new float[(e - s) * np][];
                split(st.reshape((e - s) * np, -1), rows, 0);
                for (int i = s; i < e; i++) out[i] = java.util.Arrays.copyOfRange(rows, (i - s) * np, (i - s + 1) * np);
            }
        }
        return new GlobalAndStates(g, out);
    }

    /** The semantic-integrity estimator's score r (N) of every patch of one image (what masked encoding ranks by). */
    public float[] integrityScores(float[] image, int size) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Variable tokens = model.vision.patchTokens(MlipModel.standardize(Tensor.of(image.clone(), 1, 1, size, size)));   // (1, N, D)
            Tensor r = model.estimator.forward(tokens).value().contiguous();                                               // (1, N, 1)
            return (float[]) r.backend().toHost(r);
        }
    }

    /** Global text embeddings t (n, E) of whole reports given as their sentences (as pretraining encodes them). */
    public float[][] reports(List<List<String>> reports) {
        int m = model.cfg.text.maxSentences;
        List<Encoded> enc = new ArrayList<>();
        for (List<String> r : reports) enc.add(tok.encodeReport(r.subList(0, Math.min(m, r.size())), model.cfg.text.maxLen));
        float[][] out = new float[enc.size()][];
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int s = 0; s < enc.size(); s += batch) {
                List<Encoded> part = enc.subList(s, Math.min(enc.size(), s + batch));
                var b = TrainData.toBatch(blank(part.size()), part, null, 1, m);
                split(model.encodeText(b).global(), out, s);
            }
        }
        return out;
    }

    /** Text global embeddings t (n, E) of single texts (prompts). */
    public float[][] texts(List<String> texts) {
        List<Encoded> enc = new ArrayList<>();
        for (String t : texts) enc.add(tok.encodeText(t, model.cfg.text.maxLen));
        float[][] out = new float[texts.size()][];
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int s = 0; s < enc.size(); s += batch) {
                List<Encoded> part = enc.subList(s, Math.min(enc.size(), s + batch));
                var b = TrainData.toBatch(blank(part.size()), part, null, 1, model.cfg.text.maxSentences);
                split(model.encodeText(b).global(), out, s);
            }
        }
        return out;
    }

    /** Each text as a one-sentence report: its sentence embedding s (n, E), what the OT term matches patches with. */
    public float[][] promptSentences(List<String> texts) {
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < out.length; i++) out[i] = sentences(List.of(texts.get(i)))[0];
        return out;
    }

    /** UMCL's continuous prompts for every class of {@link Prompts#CLASSES}: (C, E), normalised. */
    public float[][] learnedPrompts() {
        Prompts p = Prompts.continuous(tok, model.cfg.loss.promptContext, 16);
        float[][] out = new float[p.ids().size(0)][];
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            split(model.encodePrompts(p.ids(), p.attentionMask()), out, 0);
        }
        return out;
    }

    /** Sentence embeddings s (M, E) of one report given as its sentences (rows of sentences that did not fit are null). */
    public float[][] sentences(List<String> sentences) {
        int m = model.cfg.text.maxSentences;
        Encoded e = tok.encodeReport(sentences.subList(0, Math.min(m, sentences.size())), model.cfg.text.maxLen);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            var b = TrainData.toBatch(blank(1), List.of(e), null, 1, m);
            MlipModel.TextOut out = model.encodeText(b);
            float[][] rows = new float[m][];
            split(out.sentences().reshape(m, -1), rows, 0);
            float[] mask = (float[]) out.sentenceMask().backend().toHost(out.sentenceMask().contiguous());
            float[][] res = new float[sentences.size()][];
            for (int i = 0; i < Math.min(m, sentences.size()); i++) res[i] = mask[i] > 0 ? rows[i] : null;
            return res;
        }
    }

    /** Images s..e-1 (each size*size) as one (e - s, 1, size, size) batch. */
    private static Tensor stack(List<float[]> images, int s, int e, int size) {
        float[] flat = new float[(e - s) * size * size];
        for (int i = s; i < e; i++) System.arraycopy(images.get(i), 0, flat, (i - s) * size * size, size * size);
        return Tensor.of(flat, e - s, 1, size, size);
    }

    private static List<float[]> blank(int n) {
        List<float[]> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(new float[1]);
        return l;
    }

    private static void split(Variable v, float[][] into, int at) {
        Tensor t = v.value().contiguous();
        int rows = t.size(0), cols = t.numel() / Math.max(1, rows);
        float[] all = (float[]) t.backend().toHost(t);
        for (int r = 0; r < rows; r++) into[at + r] = java.util.Arrays.copyOfRange(all, r * cols, (r + 1) * cols);
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
