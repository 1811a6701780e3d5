package mlip.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BERT's WordPiece tokenizer over a Hugging Face {@code vocab.txt} (one token per line, id = line number):
 * {@link BasicTokenizer} first, then each word greedily split into the longest vocabulary prefix, then the
 * longest "##"-prefixed continuation, and so on; a word that cannot be covered, or is longer than 100
 * characters, becomes [UNK] as a whole.
 *
 * <pre>{@code
 * WordPieceTokenizer tok = WordPieceTokenizer.load(Path.of("vocab.txt"), true);
 * tok.tokenize("unaffable");                      // [un, ##aff, ##able]
 * Encoded e = tok.encodeReport(SentenceSplitter.split(text), 64);
 * EncodedBatch b = WordPieceTokenizer.batch(List.of(e));
 *
 * WordPieceTokenizer trained = WordPieceTokenizer.train(reports, 2048, true);
 * trained.save(Path.of("vocab.txt"));
 * }</pre>
 *
 * Special tokens are found by name ([PAD], [UNK], [CLS], [SEP], [MASK]); in a trained vocabulary they are
 * ids 0..4 in that order (see {@link WordPieceTrainer} for how training scores merges).
 *
 * <p>Decision in {@link #encodeReport}: sentences are kept in order until the first one that does not fit
 * whole, which is dropped with all after it, so sentence index k is always {@code sentences.get(k)}
 * (sentences that produce no token at all are the one exception: they are skipped). Only a first sentence
 * that alone exceeds {@code maxLen - 2} tokens is cut.
 */
public final class WordPieceTokenizer {
    /** Words longer than this many characters become [UNK] (BERT's {@code max_input_chars_per_word}). */
    public static final int MAX_WORD_CHARS = 100;

    /** How {@link #train} ranks candidate merges; see {@link WordPieceTrainer}. */
    public enum MergeScore {
        /** count(ab): BPE's rule, as Hugging Face tokenizers' WordPieceTrainer. The default. */
        FREQUENCY,
        /** count(ab) / (count(a) count(b)): the WordPiece likelihood score. */
        LIKELIHOOD
    }

    private final List<String> vocab;
    private final Map<String, Integer> ids = new HashMap<>();
    private final BasicTokenizer basic;
    private final int padId, unkId, clsId, sepId, maskId;

    private WordPieceTokenizer(List<String> vocab, boolean lowercase, String source) {
        this.vocab = List.copyOf(vocab);
        for (int i = 0; i < vocab.size(); i++) ids.put(vocab.get(i), i); // a repeated token keeps its last id, as in HF
        this.basic = new BasicTokenizer(lowercase);
        this.padId = special("[PAD]", source);
        this.unkId = special("[UNK]", source);
        this.clsId = special("[CLS]", source);
        this.sepId = special("[SEP]", source);
        this.maskId = special("[MASK]", source);
    }

    private int special(String token, String source) {
        Integer id = ids.get(token);
        if (id == null) throw new IllegalArgumentException(source + ": vocabulary has no " + token + " token");
        return id;
    }

    /** Reads a Hugging Face {@code vocab.txt}; {@code lowercase} as the model was trained (uncased = true). */
    public static WordPieceTokenizer load(Path vocabTxt, boolean lowercase) {
        List<String> lines;
        try {
            lines = Files.readAllLines(vocabTxt, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read vocabulary " + vocabTxt + ": " + e.getMessage(), e);
        }
        return new WordPieceTokenizer(lines, lowercase, vocabTxt.toString());
    }

    /** Trains a vocabulary of (at least the specials and alphabet, else) {@code vocabSize} tokens by frequency. */
    public static WordPieceTokenizer train(Iterable<String> corpus, int vocabSize, boolean lowercase) {
        return train(corpus, vocabSize, lowercase, MergeScore.FREQUENCY);
    }

    /** As {@link #train(Iterable, int, boolean)}, with a choice of merge score. */
    public static WordPieceTokenizer train(Iterable<String> corpus, int vocabSize, boolean lowercase, MergeScore score) {
        List<String> vocab = WordPieceTrainer.train(corpus, vocabSize, new BasicTokenizer(lowercase), score);
        return new WordPieceTokenizer(vocab, lowercase, "trained vocabulary");
    }

    /** Writes the vocabulary as {@code vocab.txt}, atomically (a temp file in the same folder, then a move). */
    public void save(Path vocabTxt) {
        Path dir = vocabTxt.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, vocabTxt.getFileName().toString(), ".tmp");
            try {
                Files.write(tmp, vocab, StandardCharsets.UTF_8);
                try {
                    Files.move(tmp, vocabTxt, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, vocabTxt, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write vocabulary " + vocabTxt + ": " + e.getMessage(), e);
        }
    }

    /** WordPiece tokens of {@code text}, e.g. {@code [the, heart, is, en, ##lar, ##ged, .]}. */
    public List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        for (String word : basic.tokenize(text)) wordPiece(word, out);
        return out;
    }

    /** Greedy longest-match-first split of one word, or [UNK] for the whole word. */
    private void wordPiece(String word, List<String> out) {
        int[] cps = word.codePoints().toArray();
        if (cps.length > MAX_WORD_CHARS) {
            out.add(vocab.get(unkId));
            return;
        }
        int mark = out.size();
        for (int start = 0; start < cps.length; ) {
            String piece = null;
            int end = cps.length;
            for (; end > start; end--) {
                String sub = (start > 0 ? "##" : "") + new String(cps, start, end - start);
                if (ids.containsKey(sub)) {
                    piece = sub;
                    break;
                }
            }
            if (piece == null) {
                out.subList(mark, out.size()).clear();
                out.add(vocab.get(unkId));
                return;
            }
            out.add(piece);
            start = end;
        }
    }

    /** Token ids of {@code text}, without [CLS]/[SEP]. */
    public int[] encode(String text) {
        return tokenize(text).stream().mapToInt(ids::get).toArray();
    }

    /**
     * Text of {@code ids}: tokens joined by spaces with " ##" glued back ("en ##lar ##ged" to "enlarged"),
     * [PAD] skipped, other specials kept. Lower-casing, accents and spacing around punctuation are not undone.
     */
    public String decode(int[] tokenIds) {
        StringBuilder sb = new StringBuilder();
        for (int id : tokenIds) {
            if (id == padId) continue;
            if (!sb.isEmpty()) sb.append(' ');
            sb.append(token(id));
        }
        return sb.toString().replace(" ##", "").strip();
    }

    /**
     * Encodes a report as {@code [CLS] s0 s1 ... [SEP] [PAD]...} of length {@code maxLen}, each token tagged
     * with its sentence; see the class note for which sentences are kept.
     *
     * <pre>{@code
     * Encoded e = tok.encodeReport(List.of("No effusion.", "Heart is normal."), 16);
     * // sentenceIndex: -1, 0 0 0, 1 1 1 1, -1, -1 ... ; numSentences 2
     * }</pre>
     */
    public Encoded encodeReport(List<String> sentences, int maxLen) {
        if (maxLen < 2) throw new IllegalArgumentException("maxLen must be >= 2 for [CLS] and [SEP], got " + maxLen);
        int[] ids = new int[maxLen], mask = new int[maxLen], sent = new int[maxLen];
        Arrays.fill(ids, padId);
        Arrays.fill(sent, -1);
        ids[0] = clsId;
        int pos = 1, n = 0;
        for (String s : sentences) {
            int[] t = encode(s);
            if (t.length == 0) continue;
            int room = maxLen - 1 - pos; // keep one slot for [SEP]
            if (t.length > room) {
                if (n > 0) break;
                t = Arrays.copyOf(t, room); // the first sentence alone is too long: cut it
                if (t.length == 0) break;
            }
            for (int id : t) {
                ids[pos] = id;
                sent[pos++] = n;
            }
            n++;
        }
        ids[pos++] = sepId;
        Arrays.fill(mask, 0, pos, 1);
        return new Encoded(ids, mask, sent, n);
    }

    /** Encodes a prompt or short text as {@code [CLS] tokens [SEP] [PAD]...}, cut to fit, all in sentence 0. */
    public Encoded encodeText(String text, int maxLen) {
        return encodeReport(List.of(text), maxLen);
    }

    /** Stacks encodings of one length into flat (B, maxLen) arrays; same as {@link EncodedBatch#of}. */
    public static EncodedBatch batch(List<Encoded> items) {
        return EncodedBatch.of(items);
    }

    public int vocabSize() {
        return vocab.size();
    }

    /** The id of {@code token}, or {@link #unkId()} if it is not in the vocabulary (as HF's convert_tokens_to_ids). */
    public int id(String token) {
        return ids.getOrDefault(token, unkId);
    }

    public boolean contains(String token) {
        return ids.containsKey(token);
    }

    /** The token with id {@code id}. */
    public String token(int id) {
        return vocab.get(id);
    }

    public boolean lowercase() {
        return basic.lowercase();
    }

    public int padId() { return padId; }

    public int unkId() { return unkId; }

    public int clsId() { return clsId; }

    public int sepId() { return sepId; }

    public int maskId() { return maskId; }
}
