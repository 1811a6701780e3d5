package mlip.data.synth;

/**
 * One report sentence and the finding it describes, or {@code finding == null} for normal-anatomy
 * sentences, negations ("No pneumothorax.") and technique lines. The pointing game uses the sentences
 * with a finding: the patch most similar to such a sentence should fall inside that finding's mask.
 */
public record SentenceAnnotation(String text, Finding finding) {
}
