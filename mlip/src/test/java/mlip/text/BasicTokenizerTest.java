package mlip.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class BasicTokenizerTest {
    private final BasicTokenizer uncased = new BasicTokenizer(true);
    private final BasicTokenizer cased = new BasicTokenizer(false);

    @Test
    void lowercaseVersusCased() {
        assertEquals(List.of("hello", ",", "world", "!"), uncased.tokenize("Hello, World!"));
        assertEquals(List.of("Hello", ",", "World", "!"), cased.tokenize("Hello, World!"));
    }

    @Test
    void accentsStrippedOnlyWhenUncased() {
        assertEquals(List.of("hello", "ca", "naive"), uncased.tokenize("Héllo Ça naïve"));
        assertEquals(List.of("Héllo", "Ça", "naïve"), cased.tokenize("Héllo Ça naïve"));
        assertEquals(List.of("é"), cased.tokenize("e\u0301")); // NFC composes
        assertEquals(List.of("e"), new BasicTokenizer(false, true).tokenize("é"));
    }

    @Test
    void punctuationSplitsIntoTokens() {
        assertEquals(List.of("2", ".", "5cm", "(", "approx", ".", ")", "$", "3", "^", "`", "~", "_", "x"),
                uncased.tokenize("2.5cm (approx.) $3^`~_x"));
        // Unicode P* categories: em dash (Pd), guillemets (Pi/Pf), inverted question mark (Po)
        assertEquals(List.of("a", "\u2014", "b", "\u00ab", "x", "\u00bb", "\u00bf", "y"),
                cased.tokenize("a\u2014b \u00abx\u00bb \u00bfy"));
        // symbols that are not punctuation stay inside words: plus-minus (Sm), degree (So)
        assertEquals(List.of("5\u00b13\u00b0"), cased.tokenize("5\u00b13\u00b0"));
    }

    @Test
    void cjkCharactersAreSeparateTokens() {
        assertEquals(List.of("ab", "\u4e2d", "\u6587", "c"), cased.tokenize("ab\u4e2d\u6587c"));
    }

    @Test
    void controlCharactersRemovedWhitespaceSplits() {
        assertEquals(List.of("abc", "d", "e", "f"), cased.tokenize("a\u0000b\u200bc\td\u00a0e\r\nf\ufffd"));
        assertEquals(List.of("a", "bc"), cased.tokenize("a\u2028b\u000bc")); // U+2028 splits (Python split()); VT is Cc: removed
        assertEquals(List.of(), cased.tokenize(" \t\n "));
    }
}
