package mlip.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the FINDINGS and IMPRESSION sections of a radiology report (MIMIC-CXR layout).
 *
 * <pre>{@code
 * String text = ReportSections.findingsAndImpression(
 *     "INDICATION: Cough.\n\nFINDINGS: Lungs are clear.\n\nIMPRESSION: No acute process.");
 * // "Lungs are clear.\n\nNo acute process."
 * List<String> sentences = SentenceSplitter.split(text);
 * }</pre>
 *
 * The rules:
 * <ul>
 *   <li>A <b>header</b> is a name followed by a colon at the start of a line (leading blanks allowed). Known
 *       names count in any case ("Findings:", "IMPRESSION:"); any other name counts only when written in
 *       capitals with at least 3 letters ("WET READ:", "PA AND LATERAL:"), so a sentence such as
 *       "Heart size: normal." is not a header. A section's text runs from its colon to the next header.</li>
 *   <li>FINDINGS, and FINDINGS AND IMPRESSION (or FINDINGS/IMPRESSION), are findings; IMPRESSION(S) and
 *       CONCLUSION(S) are the impression. Repeated sections (an addendum) are concatenated in order.</li>
 *   <li><b>Fallback</b> when neither kind of section exists: the text after the last "obvious" header
 *       paragraph (EXAMINATION, INDICATION, TECHNIQUE, COMPARISON, HISTORY, ... or any capitalised header),
 *       where such a header's paragraph runs to the next blank line (and over the following paragraph when
 *       the header line itself is empty); a "FINAL REPORT" line is dropped. With no header at all the
 *       whole report is the findings. The fallback text is returned as findings, the impression empty.</li>
 * </ul>
 */
public final class ReportSections {
    private ReportSections() {}

    /** A report's findings and impression; either may be empty, neither is null. */
    public record Sections(String findings, String impression) {}

    private enum Kind { FINDINGS, IMPRESSION, OTHER }

    private static final Map<String, Kind> KNOWN = Map.ofEntries(
            Map.entry("FINDINGS", Kind.FINDINGS), Map.entry("FINDING", Kind.FINDINGS),
            Map.entry("FINDINGS AND IMPRESSION", Kind.FINDINGS), Map.entry("FINDINGS AND IMPRESSIONS", Kind.FINDINGS),
            Map.entry("FINDINGS IMPRESSION", Kind.FINDINGS), Map.entry("IMPRESSION AND FINDINGS", Kind.FINDINGS),
            Map.entry("IMPRESSION", Kind.IMPRESSION), Map.entry("IMPRESSIONS", Kind.IMPRESSION),
            Map.entry("CONCLUSION", Kind.IMPRESSION), Map.entry("CONCLUSIONS", Kind.IMPRESSION),
            Map.entry("EXAMINATION", Kind.OTHER), Map.entry("EXAM", Kind.OTHER), Map.entry("INDICATION", Kind.OTHER),
            Map.entry("INDICATIONS", Kind.OTHER), Map.entry("TECHNIQUE", Kind.OTHER), Map.entry("COMPARISON", Kind.OTHER),
            Map.entry("COMPARISONS", Kind.OTHER), Map.entry("HISTORY", Kind.OTHER), Map.entry("CLINICAL HISTORY", Kind.OTHER),
            Map.entry("CLINICAL INFORMATION", Kind.OTHER), Map.entry("REASON FOR EXAM", Kind.OTHER),
            Map.entry("REASON FOR EXAMINATION", Kind.OTHER), Map.entry("TYPE OF EXAMINATION", Kind.OTHER),
            Map.entry("PROCEDURE", Kind.OTHER), Map.entry("WET READ", Kind.OTHER), Map.entry("NOTIFICATION", Kind.OTHER),
            Map.entry("RECOMMENDATION", Kind.OTHER), Map.entry("RECOMMENDATIONS", Kind.OTHER),
            Map.entry("ADDENDUM", Kind.OTHER));

    private static final Pattern HEADER = Pattern.compile(
            "^[ \\t]*([A-Za-z][A-Za-z ()/&-]{0,60}?)[ \\t]*:", Pattern.MULTILINE);
    private static final Pattern FINAL_REPORT = Pattern.compile(
            "^[ \\t]*FINAL REPORT[ \\t]*$", Pattern.MULTILINE | Pattern.CASE_INSENSITIVE);
    private static final Pattern BLANK_LINE = Pattern.compile("\\n[ \\t\\x0B\\f]*\\n");

    private record Header(Kind kind, int start, int contentStart) {}

    /** The findings followed by the impression, separated by a blank line (see the class note for the rules). */
    public static String findingsAndImpression(String report) {
        Sections s = extract(report);
        if (s.findings().isEmpty()) return s.impression();
        if (s.impression().isEmpty()) return s.findings();
        return s.findings() + "\n\n" + s.impression();
    }

    /** The findings and impression of {@code report}, each trimmed. */
    public static Sections extract(String report) {
        String text = FINAL_REPORT.matcher(report.replace("\r\n", "\n").replace('\r', '\n')).replaceAll("");
        List<Header> headers = headers(text);
        StringBuilder findings = new StringBuilder(), impression = new StringBuilder();
        for (int h = 0; h < headers.size(); h++) {
            Header hd = headers.get(h);
            if (hd.kind() == Kind.OTHER) continue;
            int end = h + 1 < headers.size() ? headers.get(h + 1).start() : text.length();
            append(hd.kind() == Kind.FINDINGS ? findings : impression, text.substring(hd.contentStart(), end));
        }
        if (findings.isEmpty() && impression.isEmpty()) {
            int bodyStart = 0;
            for (Header hd : headers) bodyStart = Math.max(bodyStart, paragraphEnd(text, hd.contentStart()));
            append(findings, text.substring(bodyStart));
        }
        return new Sections(findings.toString(), impression.toString());
    }

    private static List<Header> headers(String text) {
        List<Header> out = new ArrayList<>();
        Matcher m = HEADER.matcher(text);
        while (m.find()) {
            String name = m.group(1).trim();
            String key = name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z]+", " ").trim();
            Kind kind = KNOWN.get(key);
            if (kind == null && name.equals(name.toUpperCase(Locale.ROOT)) && key.replace(" ", "").length() >= 3) {
                kind = Kind.OTHER;
            }
            if (kind != null) out.add(new Header(kind, m.start(), m.end()));
        }
        return out;
    }

    /** End of the paragraph holding {@code from}; if the rest of that line is blank, of the next paragraph. */
    private static int paragraphEnd(String text, int from) {
        int eol = text.indexOf('\n', from);
        if (eol >= 0 && text.substring(from, eol).isBlank()) {
            while (eol < text.length() && Character.isWhitespace(text.charAt(eol))) eol++;
            from = eol;
        }
        Matcher m = BLANK_LINE.matcher(text);
        return m.find(from) ? m.end() : text.length();
    }

    private static void append(StringBuilder sb, String part) {
        String p = part.strip();
        if (p.isEmpty()) return;
        if (!sb.isEmpty()) sb.append("\n\n");
        sb.append(p);
    }
}
