package mlip.text;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * BERT's basic tokenization, rule for rule as Hugging Face's {@code BasicTokenizer}: remove control
 * characters and U+0000/U+FFFD, map every whitespace to a space, put spaces around CJK ideographs, NFC,
 * split on whitespace, then per word optionally lower-case and strip accents (NFD, drop category Mn),
 * and split every punctuation character off as its own token.
 *
 * <pre>{@code
 * new BasicTokenizer(true).tokenize("Héllo, World!")   // [hello, ",", world, "!"]
 * new BasicTokenizer(false).tokenize("Héllo, World!")  // [Héllo, ",", World, "!"]
 * }</pre>
 *
 * Decision: as in Hugging Face, accents are stripped exactly when lower-casing (uncased models), unless
 * the two-argument constructor says otherwise. Special tokens written in the text ("[MASK]") are not kept
 * whole: they become "[", "mask", "]" like any other text.
 */
public final class BasicTokenizer {
    private final boolean lowercase;
    private final boolean stripAccents;

    /** Uncased ({@code lowercase = true}: lower-case and strip accents) or cased (neither). */
    public BasicTokenizer(boolean lowercase) {
        this(lowercase, lowercase);
    }

    public BasicTokenizer(boolean lowercase, boolean stripAccents) {
        this.lowercase = lowercase;
        this.stripAccents = stripAccents;
    }

    public boolean lowercase() {
        return lowercase;
    }

    /** Splits {@code text} into words and punctuation, e.g. {@code "2.5cm."} to {@code [2, ., 5cm, .]}. */
    public List<String> tokenize(String text) {
        StringBuilder clean = new StringBuilder(text.length() + 16);
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) return;
            if (isWhitespace(cp) || isLineBreak(cp)) clean.append(' ');
            else if (isCjk(cp)) clean.append(' ').appendCodePoint(cp).append(' ');
            else clean.appendCodePoint(cp);
        });
        String normalized = Normalizer.normalize(clean, Normalizer.Form.NFC);
        List<String> out = new ArrayList<>();
        for (String word : normalized.split(" ")) {
            if (word.isEmpty()) continue;
            if (lowercase) word = word.toLowerCase(Locale.ROOT);
            if (stripAccents) word = stripAccents(word);
            splitOnPunctuation(word, out);
        }
        return out;
    }

    private static String stripAccents(String word) {
        StringBuilder sb = new StringBuilder(word.length());
        Normalizer.normalize(word, Normalizer.Form.NFD).codePoints()
                .filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK)
                .forEach(sb::appendCodePoint);
        return sb.toString();
    }

    private static void splitOnPunctuation(String word, List<String> out) {
        int start = 0;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (isPunctuation(cp)) {
                if (start < i) out.add(word.substring(start, i));
                out.add(word.substring(i, next));
                start = next;
            }
            i = next;
        }
        if (start < word.length()) out.add(word.substring(start));
    }

    /** BERT's {@code _is_whitespace}: space, tab, newline, carriage return, or Unicode category Zs. */
    static boolean isWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    /** U+2028/U+2029 (Zl, Zp) are not BERT whitespace, but Python's {@code str.split()} in BERT splits on them. */
    private static boolean isLineBreak(int cp) {
        int t = Character.getType(cp);
        return t == Character.LINE_SEPARATOR || t == Character.PARAGRAPH_SEPARATOR;
    }

    /** BERT's {@code _is_control}: any category C* except tab, newline and carriage return. */
    static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') return false;
        int t = Character.getType(cp);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.UNASSIGNED
                || t == Character.PRIVATE_USE || t == Character.SURROGATE;
    }

    /** BERT's {@code _is_punctuation}: every non-alphanumeric ASCII symbol, and Unicode categories P*. */
    static boolean isPunctuation(int cp) {
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** BERT's {@code _is_chinese_char}: the CJK Unified Ideographs blocks (not Hiragana, Katakana, Hangul). */
    static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
