package mlip.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class SentenceSplitterTest {
    @Test
    void sentenceEnds() {
        assertEquals(List.of("The lungs are clear.", "Is there an effusion?", "Heart size normal!", "Stable mediastinum"),
                SentenceSplitter.split("The lungs are clear. Is there an effusion?\nHeart size normal!   Stable mediastinum"));
    }

    @Test
    void decimalsAndNumbersAtSentenceEnd() {
        assertEquals(List.of("A 2.5 cm nodule is seen.", "It measures 1.2 x 3.4 cm.", "The heart measures 12.",
                        "The lungs are clear."),
                SentenceSplitter.split("A 2.5 cm nodule is seen. It measures 1.2 x 3.4 cm. The heart measures 12. The lungs are clear."));
    }

    @Test
    void abbreviationsAndInitials() {
        assertEquals(List.of("Small effusion, approx. 2 cm in depth.", "Findings e.g. atelectasis are absent.",
                        "Discussed with Dr. J. Smith by phone."),
                SentenceSplitter.split("Small effusion, approx. 2 cm in depth. Findings e.g. atelectasis are absent. "
                        + "Discussed with Dr. J. Smith by phone."));
    }

    @Test
    void numberedListsOneSentencePerItemNumberRemoved() {
        assertEquals(List.of("Mild cardiomegaly.", "No pleural effusion."),
                SentenceSplitter.split("1. Mild cardiomegaly. 2. No pleural effusion."));
        assertEquals(List.of("Right lower lobe opacity", "No pneumothorax"),
                SentenceSplitter.split("1.  Right lower lobe opacity\n 2.  No pneumothorax"));
        assertEquals(List.of("Lines in place.", "Lungs clear."),
                SentenceSplitter.split("Impression: (1) Lines in place. (2) Lungs clear.")); // "Impression:" is a 1-token fragment
        // an item with two sentences gives both, fragments dropped
        assertEquals(List.of("Improved since prior.", "No effusion seen."),
                SentenceSplitter.split("1. Edema. Improved since prior. 2) No effusion seen."));
    }

    @Test
    void fragmentsUnderTwoTokensDropped() {
        assertEquals(List.of("The heart is normal."), SentenceSplitter.split("No. Unchanged. ___. - -. The heart is normal."));
        assertEquals(List.of("No.", "Unchanged."), SentenceSplitter.split("No. Unchanged.", 1));
    }

    @Test
    void blankLinesEndSentencesAndWhitespaceIsNormalised() {
        assertEquals(List.of("Lungs are clear", "No effusion here."),
                SentenceSplitter.split("Lungs  are\n clear\n \nNo\teffusion here."));
        assertEquals(List.of("(See prior report.)", "Lungs clear now."), SentenceSplitter.split("(See prior report.) Lungs clear now."));
        assertEquals(List.of(), SentenceSplitter.split("  \n "));
    }
}
