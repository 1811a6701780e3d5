package mlip.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import mlip.text.WordPieceTokenizer.MergeScore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordPieceTrainerTest {

    private static List<String> vocab(WordPieceTokenizer t) {
        return IntStream.range(0, t.vocabSize()).mapToObj(t::token).toList();
    }

    @Test
    void layoutSpecialsThenAlphabetThenMerges() {
        // pairs: (a,##b) x3, (a,##c) x1, (x,##y) x1
        WordPieceTokenizer t = WordPieceTokenizer.train(List.of("ab AB ab", "ac xy"), 19, true);
        assertEquals(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "x", "y",
                "##a", "##b", "##c", "##x", "##y", "ab", "ac", "xy"), vocab(t)); // only 3 merges exist
        assertEquals(List.of(0, 1, 2, 3, 4), List.of(t.padId(), t.unkId(), t.clsId(), t.sepId(), t.maskId()));
        assertEquals(List.of("ab", "[UNK]", "b", "##a"), t.tokenize("ab q ba"));
    }

    @Test
    void frequencyVersusLikelihoodAndLexicographicTies() {
        List<String> corpus = List.of("ab ab ab ac xy");
        // frequency: ab (3) first; then ac and xy tie at 1 and "a" < "x"
        assertEquals(List.of("ab", "ac", "xy"), vocab(WordPieceTokenizer.train(corpus, 18, true)).subList(15, 18));
        // likelihood: xy = 1/(1*1) first; ab = 3/(4*3) and ac = 1/(4*1) tie at 0.25, "##b" < "##c"
        assertEquals(List.of("xy", "ab", "ac"),
                vocab(WordPieceTokenizer.train(corpus, 18, true, MergeScore.LIKELIHOOD)).subList(15, 18));
    }

    @Test
    void continuationMergesAndRepeatedSymbols() {
        // "aaaa" = a ##a ##a ##a: (##a,##a) x2 beats (a,##a) x1 -> a ##aa ##a (left to right, no overlap);
        // then (a,##aa) and (##aa,##a) tie at 1 and "##aa" < "a" -> a ##aaa; then aaaa
        WordPieceTokenizer t = WordPieceTokenizer.train(List.of("aaaa"), 100, true);
        assertEquals(List.of("##aa", "##aaa", "aaaa"), vocab(t).subList(7, vocab(t).size()));
        assertEquals(List.of("aaaa"), t.tokenize("aaaa"));
        assertEquals(List.of("aaaa", "##a"), t.tokenize("aaaaa")); // greedy: longest prefix first
    }

    @Test
    void deterministicAndIndependentOfCorpusOrder() {
        List<String> corpus = SyntheticReports.generate(500, 7);
        List<String> shuffled = new ArrayList<>(corpus);
        Collections.shuffle(shuffled, new Random(3));
        List<String> v1 = vocab(WordPieceTokenizer.train(corpus, 400, true));
        assertEquals(400, v1.size());
        assertEquals(v1, vocab(WordPieceTokenizer.train(corpus, 400, true)));
        assertEquals(v1, vocab(WordPieceTokenizer.train(shuffled, 400, true)));
        List<String> l1 = vocab(WordPieceTokenizer.train(corpus, 400, true, MergeScore.LIKELIHOOD));
        assertEquals(l1, vocab(WordPieceTokenizer.train(shuffled, 400, true, MergeScore.LIKELIHOOD)));
    }

    @Test
    void trainSaveLoadRoundTrip(@TempDir Path dir) throws IOException {
        List<String> corpus = SyntheticReports.generate(300, 11);
        for (boolean lower : new boolean[] {true, false}) {
            WordPieceTokenizer trained = WordPieceTokenizer.train(corpus, 300, lower);
            Path file = dir.resolve("sub/vocab-" + lower + ".txt");
            trained.save(file);
            trained.save(file); // overwrite in place
            WordPieceTokenizer loaded = WordPieceTokenizer.load(file, lower);
            assertEquals(vocab(trained), vocab(loaded));
            for (String text : SyntheticReports.generate(50, 99)) {
                assertArrayEquals(trained.encode(text), loaded.encode(text), text);
            }
        }
        try (Stream<Path> files = Files.list(dir.resolve("sub"))) {
            assertEquals(2, files.count(), "no temp files left behind");
        }
    }

    @Test
    void trainedVocabularyCoversItsCorpusWithoutUnk() {
        List<String> corpus = SyntheticReports.generate(200, 5);
        WordPieceTokenizer t = WordPieceTokenizer.train(corpus, 200, true);
        for (String text : corpus) {
            for (int id : t.encode(text)) assertTrue(id != t.unkId(), text);
        }
        // the decoded text is the basic tokenization joined by spaces
        String text = corpus.getFirst();
        assertEquals(String.join(" ", new BasicTokenizer(true).tokenize(text)), t.decode(t.encode(text)));
    }

    /** Guards against an accidental quadratic trainer: 5000 reports to 1000 tokens in a few seconds. */
    @Test
    void trainsThousandTokensOnFiveThousandReportsQuickly() {
        List<String> corpus = SyntheticReports.generate(5000, 1);
        for (MergeScore score : MergeScore.values()) {
            long t0 = System.nanoTime();
            WordPieceTokenizer t = WordPieceTokenizer.train(corpus, 1000, true, score);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("train %s: %d reports -> %d tokens in %.2f s%n", score, corpus.size(), t.vocabSize(), s);
            assertEquals(1000, t.vocabSize());
            assertTrue(s < 20, "training took " + s + " s");
        }
    }
}
