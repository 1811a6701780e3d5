package mlip.text;

/**
 * One encoded text: {@code [CLS] tokens [SEP] [PAD]...}, all arrays of length maxLen.
 *
 * @param ids           token ids
 * @param attentionMask 1 for CLS, tokens and SEP, 0 for padding
 * @param sentenceIndex the 0-based sentence each token belongs to; -1 for CLS, SEP and PAD
 * @param numSentences  how many sentences were encoded (sentence indices are {@code 0..numSentences-1})
 */
public record Encoded(int[] ids, int[] attentionMask, int[] sentenceIndex, int numSentences) {
    public Encoded {
        if (ids.length != attentionMask.length || ids.length != sentenceIndex.length) {
            throw new IllegalArgumentException("ids, attentionMask and sentenceIndex differ in length: "
                    + ids.length + ", " + attentionMask.length + ", " + sentenceIndex.length);
        }
    }

    /** maxLen, the padded length. */
    public int length() {
        return ids.length;
    }
}
