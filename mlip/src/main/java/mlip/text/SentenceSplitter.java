package mlip.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits report text into sentences (DESIGN.md 7: findings + impression, split on sentence ends and
 * numbered lists, fragments under 2 tokens dropped).
 *
 * <pre>{@code
 * SentenceSplitter.split("1. Small left effusion, approx. 2.5 cm. 2. No pneumothorax.")
 * // ["Small left effusion, approx. 2.5 cm.", "No pneumothorax."]
 * }</pre>
 *
 * The rules, in order:
 * <ol>
 *   <li>A blank line always ends a sentence (report paragraphs and sections often lack a final period);
 *       single newlines are ordinary whitespace, since reports wrap lines mid-sentence.</li>
 *   <li>Numbered lists: a marker {@code 1.}, {@code 1)} or {@code (1)} (one or two digits, followed by
 *       whitespace and a non-digit) that starts a line, or follows {@code . ! ? : ;} and whitespace, starts
 *       a new item; the marker is removed. An item may still hold several sentences, split by rule 3. A
 *       wrapped line that happens to start with "12. " is taken for a list marker: a known, rare miss.</li>
 *   <li>Sentence ends: {@code . ? !} (runs like "?!" or "..." and closing {@code ) ] " '} included) followed by
 *       whitespace or the end. Decimals ("2.5 cm") never match since a digit follows the dot. A period
 *       does not end a sentence after an abbreviation from {@link #ABBREVIATIONS} (case-insensitive, e.g.
 *       "approx.", "e.g.", "Dr.") or after a single capital letter (an initial, "J. Smith").</li>
 *   <li>Whitespace is collapsed to single spaces; a sentence with fewer than {@code minTokens} (default 2)
 *       whitespace tokens that hold a letter or digit is dropped ("No.", "Unchanged.", "___.").</li>
 * </ol>
 */
public final class SentenceSplitter {
    /** Words whose trailing period is not a sentence end (lower case, without that period). */
    public static final Set<String> ABBREVIATIONS = Set.of(
            "approx", "e.g", "i.e", "eg", "ie", "dr", "mr", "mrs", "ms", "prof", "vs", "cf", "fig",
            "pt", "st", "resp", "incl", "al", "ca", "a.m", "p.m");

    private static final Pattern PARAGRAPH = Pattern.compile("\\n[ \\t\\x0B\\f]*\\n\\s*");
    private static final Pattern LIST_MARKER = Pattern.compile(
            "(?:^[ \\t]*|(?<=[.!?:;])\\s+)\\(?\\d{1,2}[.)]\\s+(?=[^\\d\\s])", Pattern.MULTILINE);
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private SentenceSplitter() {}

    /** The sentences of {@code text}, whitespace-normalised, in order; fragments under 2 tokens dropped. */
    public static List<String> split(String text) {
        return split(text, 2);
    }

    /** As {@link #split(String)}, dropping sentences with fewer than {@code minTokens} tokens. */
    public static List<String> split(String text, int minTokens) {
        List<String> out = new ArrayList<>();
        String normalized = text.replace("\r\n", "\n").replace('\r', '\n');
        for (String paragraph : PARAGRAPH.split(normalized)) {
            Matcher m = LIST_MARKER.matcher(paragraph);
            int start = 0;
            while (m.find()) {
                splitSentences(paragraph.substring(start, m.start()), minTokens, out);
                start = m.end();
            }
            splitSentences(paragraph.substring(start), minTokens, out);
        }
        return out;
    }

    private static void splitSentences(String s, int minTokens, List<String> out) {
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '.' && c != '?' && c != '!') continue;
            int j = i;
            while (j + 1 < s.length() && ".?!".indexOf(s.charAt(j + 1)) >= 0) j++;
            while (j + 1 < s.length() && ")]\"'".indexOf(s.charAt(j + 1)) >= 0) j++;
            boolean atBreak = j + 1 == s.length() || Character.isWhitespace(s.charAt(j + 1));
            if (atBreak && !(c == '.' && j == i && isAbbreviation(s, i))) {
                emit(s.substring(start, j + 1), minTokens, out);
                start = j + 1;
            }
            i = j;
        }
        emit(s.substring(start), minTokens, out);
    }

    /** Is the word that ends at the period {@code s[dot]} an abbreviation or an initial? */
    private static boolean isAbbreviation(String s, int dot) {
        int b = dot;
        while (b > 0 && !Character.isWhitespace(s.charAt(b - 1))) b--;
        while (b < dot && "([\"'".indexOf(s.charAt(b)) >= 0) b++;
        String word = s.substring(b, dot);
        if (word.length() == 1 && Character.isUpperCase(word.charAt(0))) return true;
        return ABBREVIATIONS.contains(word.toLowerCase(Locale.ROOT));
    }

    private static void emit(String raw, int minTokens, List<String> out) {
        String sentence = WHITESPACE.matcher(raw).replaceAll(" ").trim();
        if (sentence.isEmpty()) return;
        int tokens = 0;
        for (String t : sentence.split(" ")) if (t.codePoints().anyMatch(Character::isLetterOrDigit)) tokens++;
        if (tokens >= minTokens) out.add(sentence);
    }
}
