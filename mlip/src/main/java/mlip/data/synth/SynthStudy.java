package mlip.data.synth;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One generated study: a single PA image, its report, labels and per-finding masks.
 *
 * <p>Arrays are (size*size) row-major, row 0 at the top; the image's left half is the patient's
 * right. {@code labels} has the 14 CheXpert labels in {@link mlip.data.ChexpertLabels#LABELS} order
 * with 1 (positive), 0 (explicitly negated) and NaN (not mentioned). A record compares arrays by
 * reference; compare pixels with {@link java.util.Arrays#equals(float[], float[])}.
 *
 * @param index     position in the generator's sequence ({@link SynthCxr#generate(long, int, int)})
 * @param subjectId 8-digit MIMIC-style subject id (10000000..19999999)
 * @param studyId   8-digit MIMIC-style study id (50000000..59999999)
 * @param dicomId   MIMIC-style image id, five dash-separated groups of 8 hex digits
 * @param scanner   which simulated scanner (0..{@link SynthCxr#SCANNERS}-1) made the image
 * @param image     (size*size) gray values in [0,1]
 * @param report    full report text ("FINDINGS: ... IMPRESSION: ...")
 * @param sentences the FINDINGS and IMPRESSION sentences in report order, with the finding each describes
 * @param findings  the findings present, in drawing order
 * @param masks     (size*size) 0/1 mask per present finding
 * @param labels    14 CheXpert labels
 */
public record SynthStudy(int index, int subjectId, int studyId, String dicomId, int scanner, int size,
                         float[] image, String report, List<SentenceAnnotation> sentences,
                         List<FindingInstance> findings, Map<Finding, float[]> masks, float[] labels) {

    /** The set of present findings. */
    public Set<Finding> findingSet() {
        return findings.stream().map(FindingInstance::finding).collect(Collectors.toCollection(() -> java.util.EnumSet.noneOf(Finding.class)));
    }

    /** MIMIC folder of the subject, e.g. {@code files/p13/p13000017}. */
    public String subjectFolder() {
        String p = "p" + subjectId;
        return "files/" + p.substring(0, 3) + "/" + p;
    }

    /** Image path relative to the data set root: {@code files/p1X/pXXXXXXXX/sXXXXXXXX/<dicomId>.jpg}. */
    public String imagePath() {
        return subjectFolder() + "/s" + studyId + "/" + dicomId + ".jpg";
    }

    /** Report path relative to the data set root: {@code files/p1X/pXXXXXXXX/sXXXXXXXX.txt}. */
    public String reportPath() {
        return subjectFolder() + "/s" + studyId + ".txt";
    }
}
