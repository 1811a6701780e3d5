package mlip.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordPieceTokenizerTest {
    // ids are line numbers; the specials are scattered to show they are looked up by name
    static final List<String> VOCAB = List.of("[PAD]", "un", "##aff", "##able", "the", "heart", "is", "en", "##lar",
            "##ged", ".", "!", "runn", "##ing", "run", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "##a", "The");

    @TempDir Path dir;
    WordPieceTokenizer tok;

    @BeforeEach
    void load() throws IOException {
        Path vocab = dir.resolve("vocab.txt");
        Files.write(vocab, VOCAB);
        tok = WordPieceTokenizer.load(vocab, true);
    }

    @Test
    void specialsByName() {
        assertEquals(List.of(0, 15, 16, 17, 18), List.of(tok.padId(), tok.unkId(), tok.clsId(), tok.sepId(), tok.maskId()));
        assertEquals(VOCAB.size(), tok.vocabSize());
        assertEquals(5, tok.id("heart"));
        assertEquals(tok.unkId(), tok.id("lungs"));
        assertEquals("##aff", tok.token(2));
    }

    @Test
    void greedyLongestMatchFirst() {
        assertEquals(List.of("un", "##aff", "##able"), tok.tokenize("unaffable"));
        assertEquals(List.of("un", "##able"), tok.tokenize("UNABLE"));
        assertEquals(List.of("runn", "##ing"), tok.tokenize("running")); // not run + ##n...
        assertEquals(List.of("run"), tok.tokenize("run"));
        assertEquals(List.of("the", "heart", "is", "en", "##lar", "##ged", "."), tok.tokenize("The heart is enlarged."));
        assertArrayEquals(new int[] {4, 5, 6, 7, 8, 9, 10}, tok.encode("The heart is enlarged."));
    }

    @Test
    void unknownWordsBecomeOneUnk() {
        assertEquals(List.of("[UNK]", "!"), tok.tokenize("lungs!"));
        assertEquals(List.of("[UNK]"), tok.tokenize("unx")); // "un" matches but "##x" does not: the whole word
        assertEquals(List.of("a", "##a"), tok.tokenize("aa"));
        assertEquals(List.of("[UNK]"), tok.tokenize("a".repeat(101))); // over 100 characters
        assertEquals(100, tok.tokenize("a".repeat(100)).size());
    }

    @Test
    void casedKeepsCase(@TempDir Path d) throws IOException {
        Path vocab = d.resolve("vocab.txt");
        Files.write(vocab, VOCAB);
        WordPieceTokenizer cased = WordPieceTokenizer.load(vocab, false);
        assertEquals(List.of("The", "heart", "[UNK]"), cased.tokenize("The heart UNABLE"));
    }

    @Test
    void decodeGluesContinuationsAndSkipsPadding() {
        int[] ids = tok.encode("The heart is enlarged, unaffable!");
        assertEquals("the heart is enlarged [UNK] unaffable !", tok.decode(ids));
        assertEquals("[CLS] run [SEP]", tok.decode(new int[] {16, 14, 17, 0, 0}));
    }

    @Test
    void missingSpecialNamesTheFile() throws IOException {
        Path bad = dir.resolve("bad-vocab.txt");
        Files.write(bad, VOCAB.subList(0, 18)); // no [MASK]
        var e = assertThrows(IllegalArgumentException.class, () -> WordPieceTokenizer.load(bad, true));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("[MASK]"), e.getMessage());
        var io = assertThrows(java.io.UncheckedIOException.class, () -> WordPieceTokenizer.load(dir.resolve("none.txt"), true));
        assertTrue(io.getMessage().contains("none.txt"), io.getMessage());
    }

    // "the heart." = 3 tokens, "is enlarged." = 5, "unaffable!" = 4
    static final List<String> REPORT = List.of("the heart.", "is enlarged.", "unaffable!");

    @Test
    void encodeReportTagsSentencesAndPads() {
        Encoded e = tok.encodeReport(REPORT, 16);
        assertArrayEquals(new int[] {16, 4, 5, 10, 6, 7, 8, 9, 10, 1, 2, 3, 11, 17, 0, 0}, e.ids());
        assertArrayEquals(new int[] {-1, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, -1, -1, -1}, e.sentenceIndex());
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, e.attentionMask());
        assertEquals(3, e.numSentences());
        assertEquals(14, tok.encodeReport(REPORT, 14).attentionMask().length); // exact fit
        assertEquals(3, tok.encodeReport(REPORT, 14).numSentences());
    }

    @Test
    void encodeReportDropsSentencesThatDoNotFitAndEverythingAfter() {
        Encoded e = tok.encodeReport(REPORT, 12); // CLS + 3 + 5 = 9; the 4-token sentence needs 13 with SEP
        assertArrayEquals(new int[] {16, 4, 5, 10, 6, 7, 8, 9, 10, 17, 0, 0}, e.ids());
        assertArrayEquals(new int[] {-1, 0, 0, 0, 1, 1, 1, 1, 1, -1, -1, -1}, e.sentenceIndex());
        assertEquals(2, e.numSentences());
        // the 3-token sentence after the 5-token one would fit, but order is kept: it is dropped too
        Encoded f = tok.encodeReport(List.of("the heart.", "is enlarged.", "the heart."), 9);
        assertArrayEquals(new int[] {16, 4, 5, 10, 17, 0, 0, 0, 0}, f.ids());
        assertEquals(1, f.numSentences());
    }

    @Test
    void encodeReportCutsOnlyATooLongFirstSentence() {
        Encoded e = tok.encodeReport(REPORT, 4);
        assertArrayEquals(new int[] {16, 4, 5, 17}, e.ids());
        assertArrayEquals(new int[] {-1, 0, 0, -1}, e.sentenceIndex());
        assertEquals(1, e.numSentences());
        Encoded empty = tok.encodeReport(List.of(), 3);
        assertArrayEquals(new int[] {16, 17, 0}, empty.ids());
        assertEquals(0, empty.numSentences());
        assertEquals(0, tok.encodeReport(REPORT, 2).numSentences());
        assertThrows(IllegalArgumentException.class, () -> tok.encodeReport(REPORT, 1));
    }

    @Test
    void encodeTextIsOneSentence() {
        Encoded e = tok.encodeText("The heart is enlarged.", 8);
        assertArrayEquals(new int[] {16, 4, 5, 6, 7, 8, 9, 17}, e.ids()); // cut to fit
        assertArrayEquals(new int[] {-1, 0, 0, 0, 0, 0, 0, -1}, e.sentenceIndex());
        assertEquals(1, e.numSentences());
    }

    @Test
    void batchFlattensRowMajor() {
        Encoded a = tok.encodeReport(REPORT, 6), b = tok.encodeText("run", 6);
        EncodedBatch batch = WordPieceTokenizer.batch(List.of(a, b));
        assertEquals(2, batch.batchSize());
        assertEquals(6, batch.seqLen());
        assertArrayEquals(new int[] {16, 4, 5, 10, 17, 0, 16, 14, 17, 0, 0, 0}, batch.ids());
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0}, batch.attentionMask());
        assertArrayEquals(new int[] {-1, 0, 0, 0, -1, -1, -1, 0, -1, -1, -1, -1}, batch.sentenceIndex());
        assertArrayEquals(new int[] {1, 1}, batch.sentenceCounts());
        assertEquals(1, batch.maxSentences());
        assertThrows(IllegalArgumentException.class,
                () -> WordPieceTokenizer.batch(List.of(a, tok.encodeText("run", 7))));
    }
}
