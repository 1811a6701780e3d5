package mlip.text;

import java.util.List;

/**
 * A batch of {@link Encoded} texts as flat row-major arrays, ready to become {@code (B, L)} int tensors.
 *
 * <pre>{@code
 * EncodedBatch b = EncodedBatch.of(List.of(tok.encodeReport(s1, 64), tok.encodeReport(s2, 64)));
 * int id = b.ids()[row * b.seqLen() + t];
 * }</pre>
 *
 * @param batchSize      B
 * @param seqLen         L, the common maxLen
 * @param ids            (B, L) token ids
 * @param attentionMask  (B, L) 1 for real tokens, 0 for padding
 * @param sentenceIndex  (B, L) sentence of each token, -1 for CLS/SEP/PAD
 * @param sentenceCounts (B) sentences per row
 */
public record EncodedBatch(int batchSize, int seqLen, int[] ids, int[] attentionMask, int[] sentenceIndex,
                           int[] sentenceCounts) {

    /** Stacks {@code items}, which must all have the same length. */
    public static EncodedBatch of(List<Encoded> items) {
        if (items.isEmpty()) throw new IllegalArgumentException("empty batch");
        int b = items.size(), len = items.getFirst().length();
        int[] ids = new int[b * len], mask = new int[b * len], sent = new int[b * len], counts = new int[b];
        for (int i = 0; i < b; i++) {
            Encoded e = items.get(i);
            if (e.length() != len) {
                throw new IllegalArgumentException("item " + i + " has length " + e.length() + ", item 0 has " + len);
            }
            System.arraycopy(e.ids(), 0, ids, i * len, len);
            System.arraycopy(e.attentionMask(), 0, mask, i * len, len);
            System.arraycopy(e.sentenceIndex(), 0, sent, i * len, len);
            counts[i] = e.numSentences();
        }
        return new EncodedBatch(b, len, ids, mask, sent, counts);
    }

    /** The largest sentence count in the batch (M for a (B, M, D) sentence-embedding tensor). */
    public int maxSentences() {
        int m = 0;
        for (int c : sentenceCounts) m = Math.max(m, c);
        return m;
    }
}
