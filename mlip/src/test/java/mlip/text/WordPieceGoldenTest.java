package mlip.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Our BasicTokenizer + WordPiece against a pure-Python reference of BERT's rules
 * (tools/reference/make_pretrained_golden.py) on the checked-in clinical_sentences.txt: abbreviations,
 * numbers ("5.2 cm", "T-11"), punctuation, slashes, dashes and curly quotes, accents (composed and
 * decomposed), CJK, NBSP / thin space / tab, soft hyphen and zero-width space (control characters, dropped),
 * a word over 100 characters, upper case. The vocabulary splits most words into pieces.
 */
class WordPieceGoldenTest {
    static final Path G = Path.of("src", "test", "resources", "golden", "pretrained");

    @Test
    void reproducesBertsIdsCasedAndUncased() throws Exception {
        JsonNode golden = new ObjectMapper().readTree(G.resolve("wordpiece_expected.json").toFile());
        List<String> lines = Arrays.asList(Files.readString(G.resolve("clinical_sentences.txt"), StandardCharsets.UTF_8).split("\n"));
        JsonNode cases = golden.get("cases");
        assertEquals(lines.size(), cases.size(), "one golden case per line of clinical_sentences.txt");
        List<String> failures = new ArrayList<>();
        int compared = 0;
        for (String casing : new String[]{"uncased", "cased"}) {
            WordPieceTokenizer tok = WordPieceTokenizer.load(G.resolve(golden.get("vocab").asText()), casing.equals("uncased"));
            for (int i = 0; i < cases.size(); i++) {
                JsonNode c = cases.get(i);
                String text = c.get("text").asText();
                assertEquals(lines.get(i), text, "line " + (i + 1) + " of clinical_sentences.txt");
                List<String> want = new ArrayList<>();
                c.get(casing).get("tokens").forEach(t -> want.add(t.asText()));
                int[] wantIds = new int[c.get(casing).get("ids").size()];
                for (int k = 0; k < wantIds.length; k++) wantIds[k] = c.get(casing).get("ids").get(k).asInt();
                List<String> got = tok.tokenize(text);
                int[] gotIds = tok.encode(text);
                if (!got.equals(want) || !Arrays.equals(gotIds, wantIds)) {
                    failures.add(casing + " line " + (i + 1) + " " + text + "\n   want " + want + " " + Arrays.toString(wantIds) + "\n   got  " + got + " " + Arrays.toString(gotIds));
                }
                compared++;
            }
        }
        assertEquals(2 * lines.size(), compared);
        assertTrue(failures.isEmpty(), failures.size() + " of " + compared + " differ:\n" + String.join("\n", failures));
    }
}
