package mlip.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mlip.autograd.Variable;
import mlip.nn.Init;
import mlip.nn.Linear;
import mlip.nn.Module;
import mlip.nn.TextTransformer;
import mlip.nn.VisionTransformer;
import mlip.tensor.DType;
import mlip.tensor.Distribution;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/**
 * MLIP (DESIGN.md section 7): a ViT image encoder and a BERT-style text encoder, projection heads into
 * one shared space, the semantic-integrity estimator that picks which patches the encoder sees, the MIM
 * decoder, learnable temperatures and UMCL's continuous prompt vectors.
 *
 * <p>Symbols as in the paper's reconstruction: image global embedding {@code v_i} (CLS), patch embeddings
 * {@code p_ik}, text global embedding {@code t_j} (CLS), sentence embeddings {@code s_jm} (mean of each
 * sentence's token states), all L2-normalised in the shared space; estimator score
 * {@code r_ik = phi . e_ik + b} on the patch tokens {@code e_ik}; image weight
 * {@code w_i = mean_k softplus(r_ik)} over the kept patches.
 *
 * <pre>{@code
 * MlipModel m = new MlipModel(MlipConfig.load("demo-tiny"), new Generator(0));
 * MlipModel.ImageOut img = m.encodeImage(batch.images(), true, noise);   // masked encoding
 * MlipModel.TextOut txt = m.encodeText(batch);
 * }</pre>
 */
public final class MlipModel extends Module {
    public final MlipConfig cfg;
    public final VisionTransformer vision;
    public final TextTransformer text;
    public final Linear imageProj, patchProj, textProj, sentenceProj;
    public final Linear estimator;      // semantic integrity: phi (1, D) and b
    public final MaeDecoder decoder;
    public final Variable logitScale;   // log(1 / tau) of the global contrastive loss
    public final Variable otLogitScale; // log(1 / tau) of the OT pair scores
    public final Variable promptContext; // (n, D_text): UMCL's learned context vectors [V1..Vn]

    public MlipModel(MlipConfig cfg, Generator g) {
        this.cfg = cfg;
        cfg.validate();
        var v = cfg.vision;
        var t = cfg.text;
        var l = cfg.loss;
        vision = child("vision", new VisionTransformer(v.imageSize, v.patch, 1, v.dim, v.depth, v.heads, v.mlp, g, DType.F32));
        text = child("text", new TextTransformer(t.vocab, t.maxLen, 2, t.dim, t.depth, t.heads, t.mlp, 0.0, g, DType.F32));
        imageProj = child("image_proj", new Linear(v.dim, l.projDim, false, g));
        patchProj = child("patch_proj", new Linear(v.dim, l.projDim, false, g));
        textProj = child("text_proj", new Linear(t.dim, l.projDim, false, g));
        sentenceProj = child("sentence_proj", new Linear(t.dim, l.projDim, false, g));
        estimator = child("estimator", new Linear(v.dim, 1, true, g));
        decoder = child("decoder", new MaeDecoder(v.dim, l.decoderDim, l.decoderDepth, l.decoderHeads, cfg.numPatches(), v.patch * v.patch, g));
        double init = Math.log(1 / l.initTemperature);
        logitScale = param("logit_scale", Tensor.scalar(init, DType.F32, mlip.tensor.Device.CPU));
        otLogitScale = param("ot_logit_scale", Tensor.scalar(init, DType.F32, mlip.tensor.Device.CPU));
        promptContext = param("prompt_context", Init.normal(g, 0.02, DType.F32, l.promptContext, t.dim));
    }

    /**
     * Loads the pretrained encoders the config names ({@code text.pretrained}, {@code vision.pretrained})
     * over the random initialisation, and returns what each load did (empty when neither is set). Called for
     * a fresh run only: a resumed run takes every weight from its checkpoint, and evaluation builds the model
     * and loads the run's checkpoint without it.
     *
     * <pre>{@code
     * MlipModel m = new MlipModel(cfg, new Generator(cfg.seed));
     * m.loadPretrained().forEach(r -> System.err.println(r.summary()));
     * }</pre>
     */
    public List<PretrainedWeights.Report> loadPretrained() {
        List<PretrainedWeights.Report> out = new ArrayList<>();
        if (cfg.text.pretrained != null) out.add(PretrainedWeights.loadBert(text, cfg.text.heads, Path.of(cfg.text.pretrained)));
        if (cfg.vision.pretrained != null) out.add(PretrainedWeights.loadTimmVit(vision, Path.of(cfg.vision.pretrained)));
        return out;
    }

    /**
     * The image side of a batch.
     *
     * @param global       v (B, E), normalised
     * @param patches      p (B, K, E), normalised: the K encoded patches (all N when not masked)
     * @param keep         (B, K) I32 patch indices, or null when every patch was encoded
     * @param weight       w (B): the estimator's image weights, normalised to mean 1; null when not masked
     * @param patchStates  (B, K, D) encoder states of the patches (the MIM decoder's input)
     */
    public record ImageOut(Variable global, Variable patches, Tensor keep, Variable weight, Variable patchStates) {
    }

    /** The text side: t (B, E), s (B, M, E) normalised, and the sentence mask (B, M). */
    public record TextOut(Variable global, Variable sentences, Tensor sentenceMask) {
    }

    /**
     * Encodes images (B, 1, H, W). With {@code masked}, the estimator scores every patch token, Gumbel
     * noise from {@code noise} is added to the scores (exploration; null: none), and only the top-k
     * patches (k = {@link MlipConfig#keptPatches()}) go through the encoder.
     */
    public ImageOut encodeImage(Tensor images, boolean masked, Generator noise) {
        Variable tokens = vision.patchTokens(standardize(images));                      // e (B, N, D)
        int b = tokens.size(0), n = tokens.size(1), d = tokens.size(2);
        Tensor keep = null;
        Variable weight = null;
        if (masked) {
            Variable r = estimator.forward(tokens).reshape(b, n);                       // r (B, N)
            Tensor scores = r.value();
            if (noise != null && cfg.loss.gumbelScale > 0) scores = scores.add(gumbel(noise, scores.device(), b, n).mul(cfg.loss.gumbelScale));
            Variable.TopkGather sel = tokens.topkGather(scores, cfg.keptPatches());    // (B, K, D) + (B, K)
            tokens = sel.values();
            keep = sel.indices();
            Variable w = softplus(r.gather(1, keep)).mean(1, false);                    // w (B)
            weight = w.div(w.mean().detach());
        }
        Variable h = vision.encodeTokens(tokens);                                       // (B, 1 + K, D)
        int k = h.size(1) - 1;
        Variable states = h.narrow(1, 1, k);                                            // (B, K, D)
        Variable pooled = meanPool() ? states.mean(1, false) : h.select(1, 0);          // (B, D)
        Variable global = normalize(imageProj.forward(pooled));
        Variable patches = normalize(patchProj.forward(states));
        return new ImageOut(global, patches, keep, weight, states);
    }

    /** Encodes the reports of a batch: CLS for t, sentence means for s. */
    public TextOut encodeText(Batch batch) {
        Variable h = text.forward(batch.ids(), batch.attentionMask());                 // (B, T, Dt)
        Variable global = normalize(textProj.forward(meanPool() ? maskedMean(h, batch.attentionMask()) : h.select(1, 0)));
        Variable sent = Variable.of(batch.pool()).matmul(h);                           // (B, M, Dt)
        return new TextOut(global, normalize(sentenceProj.forward(sent)), batch.sentenceMask());
    }

    /**
     * Class embeddings from continuous prompts (UMCL, CoOp style): {@code [CLS] V1..Vn name [SEP]} where the
     * n context vectors are learned. {@code ids} (C, T) hold {@code [CLS] [MASK]*n name-tokens [SEP] [PAD]...};
     * positions 1..n are replaced by the context vectors. Returns (C, E), normalised.
     */
    public Variable encodePrompts(Tensor ids, Tensor attentionMask) {
        int c = ids.size(0), tl = ids.size(1), n = promptContext.size(0), dt = promptContext.size(1);
        Variable words = text.wordEmbeddings.forward(ids);                              // (C, T, Dt)
        Variable ctx = promptContext.unsqueeze(0).expand(c, n, dt);
        Variable emb = Variable.cat(1, words.narrow(1, 0, 1), ctx, words.narrow(1, 1 + n, tl - 1 - n));
        Variable h = text.forwardEmbeddings(emb, attentionMask);
        return normalize(textProj.forward(meanPool() ? maskedMean(h, attentionMask) : h.select(1, 0)));
    }

    private boolean meanPool() {
        return cfg.loss.pool.equals("mean");
    }

    /** Mean of the token states h (B, T, D) over the tokens where mask (B, T) is 1. */
    static Variable maskedMean(Variable h, Tensor mask) {
        Tensor m = mask.to(DType.F32);
        Tensor w = m.div(m.sum(1, true)).unsqueeze(1);                                   // (B, 1, T)
        return Variable.of(w).matmul(h).squeeze(1);                                     // (B, D)
    }

    /**
     * Each image to zero mean and unit variance (B, 1, H, W). Scanners differ in brightness and contrast,
     * which no report mentions; removing it up front leaves the findings as the signal to match.
     */
    public static Tensor standardize(Tensor images) {
        int[] dims = {1, 2, 3};
        Tensor mean = images.mean(dims, true);
        Tensor var = images.sub(mean).square().mean(dims, true);
        return images.sub(mean).div(var.add(1e-6).sqrt());
    }

    /** x / |x| along the last dim. */
    public static Variable normalize(Variable x) {
        return x.div(x.square().sum(-1, true).add(1e-12).sqrt());
    }

    /** softplus(x) = log(1 + e^x), written stably as relu(x) + log(1 + e^-|x|). */
    public static Variable softplus(Variable x) {
        return x.relu().add(x.abs().neg().exp().add(1).log());
    }

    /** Standard Gumbel noise -log(-log(u)), u uniform in (0, 1). */
    static Tensor gumbel(Generator g, mlip.tensor.Device device, int... shape) {
        Tensor u = Tensor.random(g, Distribution.UNIFORM, DType.F32, device, shape);     // Philox: the same draws on every device
        return u.mul(1 - 2e-6).add(1e-6).log().neg().log().neg();
    }
}
