package mlip.loss;

import java.util.LinkedHashMap;
import java.util.Map;
import mlip.autograd.Variable;
import mlip.model.Batch;
import mlip.model.MlipConfig;
import mlip.model.MlipModel;
import mlip.model.Prompts;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;

/**
 * Every MLIP and UMCL loss term (DESIGN.md 7.1-7.5), each behind its switch and weight in
 * {@link MlipConfig.Loss}:
 *
 * <pre>
 *   L = L_g + a * L_ot + b * L_mim (+ c * L_label)
 *   L_g     symmetric InfoNCE over the B x B logits  exp(s) * v_i . t_j  (weighted by the estimator's w_i
 *           when masked encoding is on; multi-positive targets when labels are on)
 *   L_ot    symmetric InfoNCE over the B x B OT pair scores S_ij = sum_ps T_ps cos(p_ip, s_js)
 *   L_mim   MSE of the decoder's pixels against per-patch-normalised pixels, on masked patches only
 *   L_label multi-positive InfoNCE of images against their classes' continuous-prompt embeddings
 * </pre>
 *
 * <pre>{@code
 * MlipLoss.Terms t = MlipLoss.compute(model, batch, noise, prompts);
 * t.total().backward();
 * }</pre>
 */
public final class MlipLoss {
    private static final double MAX_LOGIT_SCALE = Math.log(100);

    private MlipLoss() {
    }

    /** The total and each active term by name ({@code global}, {@code local}, {@code mim}, {@code label}). */
    public record Terms(Variable total, Map<String, Variable> terms) {
    }

    /**
     * All active terms for one batch. {@code noise} drives the Gumbel noise of the masking (null: none);
     * {@code prompts} is needed only with the label term.
     */
    public static Terms compute(MlipModel m, Batch batch, Generator noise, Prompts prompts) {
        return compute(m, batch, noise, prompts, m.cfg.loss.mask, 1.0);
    }

    /**
     * As {@link #compute(MlipModel, Batch, Generator, Prompts)} at training step {@code step} (0-based; for
     * the OT weight ramp and the unmasked tuning at the end).
     */
    public static Terms compute(MlipModel m, Batch batch, Generator noise, Prompts prompts, long step) {
        MlipConfig.Loss c = m.cfg.loss;
        double ramp = c.localRampSteps > 0 ? Math.min(1.0, (double) step / c.localRampSteps) : 1.0;
        return compute(m, batch, noise, prompts, m.cfg.maskedAt(step), ramp);
    }

    private static Terms compute(MlipModel m, Batch batch, Generator noise, Prompts prompts, boolean masked, double localRamp) {
        MlipConfig.Loss c = m.cfg.loss;
        MlipModel.ImageOut img = m.encodeImage(batch.images(), masked, noise);
        MlipModel.TextOut txt = m.encodeText(batch);
        Map<String, Variable> terms = new LinkedHashMap<>();
        Tensor positives = c.label && batch.labels() != null ? Prompts.sharedLabelTargets(batch.labels()) : null;
        if (c.global) {
            Variable logits = img.global().matmul(txt.global().transpose(0, 1)).mul(scale(m.logitScale));   // (B, B)
            if (img.weight() != null) logits = logits.mul(img.weight().unsqueeze(1));                      // w_i on row i
            terms.put("global", scaled(positives == null ? infoNce(logits) : multiPositiveNce(logits, positives), c.globalWeight));
        }
        if (c.local) {
            Variable s = Variable.patchSentenceOtScores(img.patches(), null, txt.sentences(), txt.sentenceMask(), c.otEps, c.otIterations); // (B, B)
            terms.put("local", scaled(infoNce(s.mul(scale(m.otLogitScale))), c.localWeight * localRamp));
        }
        if (c.mim && img.keep() != null) {
            terms.put("mim", scaled(mim(m, batch.images(), img), c.mimWeight));
        }
        if (c.label && batch.labels() != null) {
            Variable classes = m.encodePrompts(prompts.ids(), prompts.attentionMask());                   // (C, E)
            Variable logits = img.global().matmul(classes.transpose(0, 1)).mul(scale(m.logitScale));      // (B, C)
            terms.put("label", scaled(softTargetCe(logits, Prompts.rowTargets(batch.labels())), c.labelWeight));
        }
        Variable total = null;
        for (Variable t : terms.values()) total = total == null ? t : total.add(t);
        return new Terms(total, terms);
    }

    /** exp(s), with s clamped at log(100) as in CLIP. */
    static Variable scale(Variable logScale) {
        return logScale.minimum(Variable.of(Tensor.scalar(MAX_LOGIT_SCALE, logScale.value().dtype(), logScale.value().device()))).exp();
    }

    private static Variable scaled(Variable loss, double w) {
        return w == 1.0 ? loss : loss.mul(w);
    }

    /** Symmetric InfoNCE: pair i matches i, image-to-text and text-to-image averaged. logits (B, B). */
    public static Variable infoNce(Variable logits) {
        int b = logits.size(0);
        Tensor target = Tensor.arange(b, logits.value().device());
        Variable i2t = logits.crossEntropy(target);
        Variable t2i = logits.transpose(0, 1).crossEntropy(target);
        return i2t.add(t2i).mul(0.5);
    }

    /** Multi-positive symmetric InfoNCE: {@code positives} (B, B) 1/0, rows and columns renormalised as targets. */
    public static Variable multiPositiveNce(Variable logits, Tensor positives) {
        Tensor rows = positives.div(positives.sum(1, true));
        Tensor cols = positives.transpose(0, 1).contiguous();
        cols = cols.div(cols.sum(1, true));
        return softTargetCe(logits, rows).add(softTargetCe(logits.transpose(0, 1), cols)).mul(0.5);
    }

    /** Cross-entropy against a target distribution per row: mean_i -sum_j q_ij log softmax(logits)_ij. */
    public static Variable softTargetCe(Variable logits, Tensor q) {
        return logits.logSoftmax(-1).mul(Variable.of(q)).sum(-1, false).mean().neg();
    }

    /**
     * L_mim: the decoder predicts every patch from the kept ones; the loss is the mean squared error on the
     * masked patches only, against pixels normalised per patch (MAE's norm_pix_loss).
     */
    static Variable mim(MlipModel m, Tensor images, MlipModel.ImageOut img) {
        int n = m.cfg.numPatches();
        Variable pred = m.decoder.forward(img.patchStates(), img.keep(), n);           // (B, N, P*P)
        Tensor target = m.vision.unfold(images);                                        // (B, N, P*P)
        Tensor mean = target.mean(-1, true);
        Tensor var = target.sub(mean).square().mean(-1, true);
        target = target.sub(mean).div(var.add(1e-6).sqrt());
        int b = images.size(0), k = img.keep().size(1);
        Tensor kept = Tensor.full(DType.F32, images.device(), 0, b, n).scatterAdd(1, img.keep(), Tensor.full(DType.F32, images.device(), 1, b, k));
        Tensor masked = kept.neg().add(1);                                               // (B, N) 1 = dropped
        Variable perPatch = pred.sub(Variable.of(target)).square().mean(-1, false);      // (B, N)
        double count = Math.max(1, (double) b * (n - k));
        return perPatch.mul(Variable.of(masked)).sum().div(count);
    }
}
