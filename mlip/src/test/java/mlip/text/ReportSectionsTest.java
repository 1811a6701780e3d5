package mlip.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ReportSectionsTest {
    private static final String MIMIC = """
                                             FINAL REPORT
             EXAMINATION:  CHEST (PA AND LAT)
             \s
             INDICATION:  ___ year old woman with cough and
             fever, eval for pneumonia.
             \s
             TECHNIQUE:  Chest PA and lateral
             \s
             COMPARISON:  ___
             \s
             FINDINGS:\s
             \s
             The lungs are clear without focal consolidation.  No pleural effusion or
             pneumothorax.  Heart size is normal.
             \s
             IMPRESSION:\s
             \s
             No acute cardiopulmonary process.
            """;

    @Test
    void mimicFindingsAndImpression() {
        ReportSections.Sections s = ReportSections.extract(MIMIC);
        assertEquals("The lungs are clear without focal consolidation.  No pleural effusion or\n"
                + " pneumothorax.  Heart size is normal.", s.findings());
        assertEquals("No acute cardiopulmonary process.", s.impression());
        assertEquals(s.findings() + "\n\n" + s.impression(), ReportSections.findingsAndImpression(MIMIC));
    }

    @Test
    void impressionOnlyWithNumberedListEndsAtNextHeader() {
        String r = """
                INDICATION: Fever.
                IMPRESSION: 1. Right lower lobe pneumonia. 2. No effusion.
                NOTIFICATION: The findings were discussed with Dr. ___ at 10:30 by phone.
                """;
        assertEquals("1. Right lower lobe pneumonia. 2. No effusion.", ReportSections.findingsAndImpression(r));
        assertEquals("", ReportSections.extract(r).findings());
    }

    @Test
    void combinedHeaderAndConclusionAnyCase() {
        assertEquals("Lungs are clear.", ReportSections.findingsAndImpression(
                "Comparison: none.\nFINDINGS AND IMPRESSION: Lungs are clear."));
        assertEquals("Heart is enlarged.\n\nCardiomegaly.", ReportSections.findingsAndImpression(
                "Findings:\nHeart is enlarged.\nConclusion: Cardiomegaly."));
    }

    @Test
    void mixedCaseSentenceWithColonIsNotAHeader() {
        ReportSections.Sections s = ReportSections.extract(
                "FINDINGS: Lungs clear.\nHeart size: normal.\nWET READ: ok\nIMPRESSION: Normal study.");
        assertEquals("Lungs clear.\nHeart size: normal.", s.findings());
        assertEquals("Normal study.", s.impression());
    }

    @Test
    void withoutFindingsOrImpressionTakesTextAfterTheLastHeaderParagraph() {
        String r = """
                 FINAL REPORT
                 PORTABLE CHEST OF ___
                 INDICATION: Cough,
                 rule out pneumonia.

                 COMPARISON: None.

                 PA and lateral views of the chest. The lungs are clear.

                 No effusion.
                """;
        assertEquals("PA and lateral views of the chest. The lungs are clear.\n\n No effusion.",
                ReportSections.findingsAndImpression(r));
    }

    @Test
    void emptyHeaderLineTakesTheNextParagraph() {
        assertEquals("Heart size normal. Lungs clear.",
                ReportSections.findingsAndImpression("HISTORY:\n\nCough.\n\nHeart size normal. Lungs clear.\n"));
    }

    @Test
    void noHeadersAtAllIsAllFindings() {
        assertEquals("The lungs are clear. No effusion.",
                ReportSections.findingsAndImpression("  The lungs are clear. No effusion.\r\n"));
        assertEquals("", ReportSections.findingsAndImpression("INDICATION: cough.\nCOMPARISON: none."));
    }
}
