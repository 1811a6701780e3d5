package mlip.data.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import mlip.data.ChexpertLabels;
import org.junit.jupiter.api.Test;

/** The generator alone: determinism, masks, report/label consistency, distribution. Seeded, 64 px. */
class SynthCxrTest {

    static final long SEED = 1234L;
    static final int N = 64;
    static final List<SynthStudy> STUDIES = SynthCxr.generateRange(SEED, 0, 60, N, SynthCxr.Hardness.DEFAULT);

    /** Words that name each finding; a sentence containing one talks about that finding. */
    static final Map<Finding, List<String>> KEYWORDS = Map.of(
            Finding.ATELECTASIS, List.of("atelectasis"),
            Finding.CARDIOMEGALY, List.of("cardiomegaly", "heart", "cardiac", "cardiomediastinal"),
            Finding.CONSOLIDATION, List.of("consolidation"),
            Finding.EDEMA, List.of("edema"),
            Finding.PLEURAL_EFFUSION, List.of("effusion", "costophrenic"),
            Finding.PNEUMOTHORAX, List.of("pneumothorax"));

    static boolean mentions(String sentence, Finding f) {
        String s = sentence.toLowerCase(Locale.ROOT);
        return KEYWORDS.get(f).stream().anyMatch(s::contains);
    }

    @Test
    void generateIsAPureFunctionOfSeedIndexAndSize() {
        SynthStudy a = SynthCxr.generate(SEED, 7, N);
        SynthStudy b = SynthCxr.generate(SEED, 7, N);
        assertArrayEquals(a.image(), b.image());
        assertEquals(a.report(), b.report());
        assertEquals(a.dicomId(), b.dicomId());
        assertEquals(a.findings(), b.findings());
        assertArrayEquals(a.labels(), b.labels());
        for (Finding f : a.masks().keySet()) {
            assertArrayEquals(a.masks().get(f), b.masks().get(f));
        }
        // parallel generation gives the same studies as sequential
        assertArrayEquals(STUDIES.get(7).image(), a.image());
        // another seed or index gives another study
        assertFalse(java.util.Arrays.equals(a.image(), SynthCxr.generate(SEED + 1, 7, N).image()));
        assertFalse(java.util.Arrays.equals(a.image(), SynthCxr.generate(SEED, 8, N).image()));
        // findings and report do not depend on the resolution
        SynthStudy big = SynthCxr.generate(SEED, 7, 96);
        assertEquals(a.report(), big.report());
        assertEquals(a.findings(), big.findings());
        assertEquals(a.dicomId(), big.dicomId());
        // sampleCase draws exactly what generate() draws
        assertEquals(a.findings(), SynthCxr.sampleCase(SEED, 7).findings());
        assertEquals(a.scanner(), SynthCxr.sampleCase(SEED, 7).scanner());
    }

    @Test
    void imagesAreInUnitRangeAndLookLikeAChest() {
        for (SynthStudy s : STUDIES) {
            assertEquals(N * N, s.image().length);
            double corner = 0;
            double centre = 0;
            for (float v : s.image()) {
                assertTrue(v >= 0f && v <= 1f && !Float.isNaN(v));
            }
            for (int i = N * 3 / 4; i < N; i++) {
                corner += s.image()[i * N + 1]; // lower image edge column: background air
                centre += s.image()[i * N + N / 2]; // lower midline: heart / abdomen
            }
            assertTrue(centre > corner + 0.5, "body brighter than the air beside it, study " + s.index());
        }
    }

    @Test
    void masksAreNonEmptyInsideTheBodyAndOnTheReportedSide() {
        int checked = 0;
        for (SynthStudy s : STUDIES) {
            assertEquals(s.findingSet(), s.masks().keySet());
            float[] body = SynthCxr.bodyMask(SEED, s.index(), N);
            for (FindingInstance f : s.findings()) {
                float[] m = s.masks().get(f.finding());
                int count = 0;
                double cx = 0;
                for (int p = 0; p < m.length; p++) {
                    if (m[p] > 0) {
                        assertEquals(1f, m[p]);
                        assertEquals(1f, body[p], f + " mask pixel outside the body in study " + s.index());
                        count++;
                        cx += p % N;
                    }
                }
                assertTrue(count > 0, f + " mask empty in study " + s.index());
                cx /= count;
                // radiological convention: the patient's right is the image's left half
                if (f.location().isRight()) {
                    assertTrue(cx < N / 2.0, f + " should be in the image's left half, centroid x=" + cx);
                } else if (f.location().isLeft()) {
                    assertTrue(cx > N / 2.0, f + " should be in the image's right half, centroid x=" + cx);
                }
                checked++;
            }
        }
        assertTrue(checked > 30, "too few findings to check: " + checked);
    }

    @Test
    void severityScalesTheMask() {
        // same anatomy cannot be forced, so compare mean mask areas per severity over many studies
        double[] area = new double[3];
        int[] n = new int[3];
        for (SynthStudy s : SynthCxr.generateRange(SEED, 0, 300, 48, SynthCxr.Hardness.DEFAULT)) {
            for (FindingInstance f : s.findings()) {
                if (f.finding() == Finding.PLEURAL_EFFUSION || f.finding() == Finding.CONSOLIDATION || f.finding() == Finding.PNEUMOTHORAX) {
                    float[] m = s.masks().get(f.finding());
                    double a = 0;
                    for (float v : m) {
                        a += v;
                    }
                    area[f.severity().level()] += f.location() == Location.BILATERAL ? a / 2 : a;
                    n[f.severity().level()]++;
                }
            }
        }
        for (int k = 0; k < 3; k++) {
            assertTrue(n[k] > 5);
            area[k] /= n[k];
        }
        assertTrue(area[0] < area[1] && area[1] < area[2], "mean areas mild<moderate<severe: " + java.util.Arrays.toString(area));
    }

    @Test
    void reportMentionsExactlyThePresentFindingsAndNegatesOnlyAbsentOnes() {
        for (SynthStudy s : STUDIES) {
            Set<Finding> present = s.findingSet();
            Set<Finding> described = EnumSet.noneOf(Finding.class);
            int findingsAt = s.report().indexOf("FINDINGS:");
            int impressionAt = s.report().indexOf("IMPRESSION:");
            assertTrue(findingsAt >= 0 && impressionAt > findingsAt, s.report());
            for (SentenceAnnotation a : s.sentences()) {
                assertTrue(s.report().indexOf(a.text(), findingsAt) > 0, "sentence not in report: " + a.text());
                assertTrue(a.text().endsWith(".") && a.text().indexOf(". ") < 0, "one sentence per annotation: " + a.text());
                if (a.finding() != null) {
                    described.add(a.finding());
                    FindingInstance f = s.findings().stream().filter(x -> x.finding() == a.finding()).findFirst().orElseThrow();
                    String t = a.text().toLowerCase(Locale.ROOT);
                    assertTrue(mentions(t, a.finding()), a.text());
                    for (Finding other : Finding.values()) {
                        if (other != a.finding()) {
                            assertFalse(mentions(t, other), "'" + a.text() + "' also names " + other);
                        }
                    }
                    if (f.location().isRight()) {
                        assertTrue(t.contains("right") && !t.contains("left"), a.text() + " for " + f);
                    } else if (f.location().isLeft()) {
                        assertTrue(t.contains("left") && !t.contains("right"), a.text() + " for " + f);
                    } else if (f.location() == Location.BILATERAL && f.finding() == Finding.PLEURAL_EFFUSION) {
                        assertTrue(t.contains("bilateral") || t.contains("both"), a.text());
                    }
                } else {
                    for (Finding f : present) {
                        assertFalse(mentions(a.text(), f), "negated/normal sentence '" + a.text() + "' names present " + f);
                    }
                }
            }
            assertEquals(present, described, s.report());
        }
    }

    @Test
    void labelsAgreeWithTheReport() {
        for (SynthStudy s : STUDIES) {
            float[] l = s.labels();
            assertEquals(ChexpertLabels.COUNT, l.length);
            for (Finding f : Finding.values()) {
                float v = l[ChexpertLabels.index(f.label())];
                boolean negated = s.sentences().stream().anyMatch(a -> a.finding() == null && mentions(a.text(), f));
                if (s.findingSet().contains(f)) {
                    assertEquals(1f, v, f + " present: " + s.report());
                } else if (negated) {
                    assertEquals(0f, v, f + " negated: " + s.report());
                } else {
                    assertTrue(Float.isNaN(v), f + " not mentioned should be empty: " + s.report());
                }
            }
            float noFinding = l[ChexpertLabels.NO_FINDING];
            assertEquals(s.findings().isEmpty(), noFinding == 1f);
            for (float v : l) {
                assertTrue(Float.isNaN(v) || v == 0f || v == 1f);
            }
        }
    }

    @Test
    void findingCountsScannersAndEvalClassesFollowTheDesign() {
        int n = 2000;
        int[] count = new int[4];
        int[] scanners = new int[SynthCxr.SCANNERS];
        int[] eval = new int[5];
        int[] severity = new int[3];
        for (int i = 0; i < n; i++) {
            SynthCxr.Case c = SynthCxr.sampleCase(SEED, i);
            count[c.findings().size()]++;
            scanners[c.scanner()]++;
            if (c.evalClass() >= 0) {
                eval[c.evalClass()]++;
            }
            c.findings().forEach(f -> severity[f.severity().level()]++);
        }
        assertEquals(0.25, count[0] / (double) n, 0.04);
        assertEquals(0.50, count[1] / (double) n, 0.04);
        assertEquals(0.25, (count[2] + count[3]) / (double) n, 0.04);
        for (int s : scanners) {
            assertTrue(s > n / 8);
        }
        for (int e : eval) {
            assertTrue(e > n / 20, "every eval class occurs: " + java.util.Arrays.toString(eval));
        }
        for (int s : severity) {
            assertTrue(s > n / 10);
        }
    }

    @Test
    void evalIndicesHaveExactlyOneOfTheFiveClasses() {
        int[][] idx = SynthCxr.evalIndices(SEED, 100, 6);
        assertEquals(5, idx.length);
        for (int k = 0; k < 5; k++) {
            assertEquals(6, idx[k].length);
            for (int i : idx[k]) {
                assertTrue(i >= 100);
                SynthCxr.Case c = SynthCxr.sampleCase(SEED, i);
                assertEquals(k, c.evalClass());
                long five = c.findings().stream().filter(f -> SynthCxr.EVAL_CLASSES.contains(f.finding())).count();
                assertEquals(1, five);
            }
        }
    }

    @Test
    void idsLookLikeMimic() {
        for (SynthStudy s : STUDIES) {
            assertTrue(s.subjectId() >= 10_000_000 && s.subjectId() <= 19_999_999);
            assertTrue(s.studyId() >= 50_000_000 && s.studyId() <= 59_999_999);
            assertTrue(s.dicomId().matches("[0-9a-f]{8}(-[0-9a-f]{8}){4}"), s.dicomId());
            assertTrue(s.imagePath().startsWith("files/p" + Integer.toString(s.subjectId()).substring(0, 2) + "/p" + s.subjectId() + "/s" + s.studyId() + "/"));
            assertNotNull(s.report());
        }
        assertEquals(STUDIES.size(), STUDIES.stream().map(SynthStudy::dicomId).distinct().count());
        assertEquals(STUDIES.size(), STUDIES.stream().map(SynthStudy::subjectId).distinct().count());
        assertNull(Finding.fromLabel("Fracture"));
        assertEquals(Finding.PLEURAL_EFFUSION, Finding.fromToken("pleural_effusion"));
    }
}
