package mlip.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mlip.data.synth.Finding;
import mlip.data.synth.SynthCxr;
import mlip.data.synth.SynthStudy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SynthCxr.write → MimicCxrJpg / Chexpert5x200 / SynthAnnotations round trip on a small seeded set
 * (40 train + 4 validate + 5x4 eval studies at 64 px).
 */
class SynthLayoutTest {

    static final long SEED = 99L;
    static final int N = 64;
    static final SynthCxr.Options OPTIONS = SynthCxr.Options.defaults().withStudies(40).withSize(N).withSeed(SEED)
            .withEvalPerClass(4).withValidateFraction(0.1).withProgress(false);

    @TempDir
    static Path root;
    static Map<String, SynthStudy> generated = new HashMap<>();

    @BeforeAll
    static void writeLayout() throws Exception {
        SynthCxr.Summary s = SynthCxr.write(root, OPTIONS);
        assertEquals(40, s.train());
        assertEquals(4, s.validate());
        assertEquals(20, s.test());
        for (int i = 0; i < 44; i++) {
            SynthStudy st = SynthCxr.generate(SEED, i, N);
            generated.put(st.dicomId(), st);
        }
        for (int[] cls : SynthCxr.evalIndices(SEED, 44, 4)) {
            for (int i : cls) {
                SynthStudy st = SynthCxr.generate(SEED, i, N);
                generated.put(st.dicomId(), st);
            }
        }
    }

    @Test
    void mimicLoaderReadsEveryStudyWithLabelsReportsAndImages() throws Exception {
        MimicCxrJpg data = MimicCxrJpg.load(root);
        assertEquals(64, data.studies().size());
        assertEquals(0, data.skipped());
        assertEquals(40, data.studies("train").size());
        assertEquals(4, data.studies("validate").size());
        assertEquals(20, data.studies("test").size());
        List<MimicCxrJpg.Sample> samples = data.readAll(N);
        assertEquals(64, samples.size());
        for (MimicCxrJpg.Sample smp : samples) {
            SynthStudy g = generated.get(smp.study().dicomId());
            assertNotNull(g, smp.study().dicomId());
            assertEquals(g.subjectId(), smp.study().subjectId());
            assertEquals(g.studyId(), smp.study().studyId());
            assertArrayEquals(g.labels(), smp.study().labels14()); // NaN == NaN for Arrays.equals(float[])
            assertEquals(g.report(), smp.report());
            double diff = 0;
            for (int p = 0; p < N * N; p++) {
                diff += Math.abs(g.image()[p] - smp.image()[p]);
            }
            assertTrue(diff / (N * N) < 0.02, "JPEG round trip mean abs error " + diff / (N * N));
        }
        // resized read: area average of the 64 px image
        float[] small = MimicCxrJpg.readImage(samples.get(0).study().image(), 16);
        float[] full = samples.get(0).image();
        double m = 0;
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                m += full[i * N + j];
            }
        }
        assertEquals(m / 16, small[0], 1e-5);
    }

    @Test
    void viewFilterUsesMetadata() throws Exception {
        assertEquals(64, MimicCxrJpg.load(root, root, Set.of("PA")).studies().size());
        assertEquals(0, MimicCxrJpg.load(root, root, Set.of("LATERAL")).studies().size());
    }

    @Test
    void fiveByTwoHundredHasExactlyOnePositivePerRowAndNoTrainStudy() throws Exception {
        Chexpert5x200 ev = Chexpert5x200.load(root.resolve(SynthCxr.EVAL_CSV));
        assertEquals(20, ev.items().size());
        assertArrayEquals(new int[] {4, 4, 4, 4, 4}, ev.classCounts());
        assertEquals(0, ev.skipped());
        MimicCxrJpg data = MimicCxrJpg.load(root);
        Set<String> train = new HashSet<>();
        data.studies("train").forEach(s -> train.add(s.dicomId()));
        Map<String, Study> byId = new HashMap<>();
        data.studies().forEach(s -> byId.put(s.dicomId(), s));
        for (Chexpert5x200.Item it : ev.items()) {
            assertFalse(train.contains(it.id()));
            assertTrue(Files.isRegularFile(it.image()));
            SynthStudy g = generated.get(it.id());
            Finding cls = SynthCxr.EVAL_CLASSES.get(it.label());
            assertEquals(cls.label(), it.className());
            for (Finding f : SynthCxr.EVAL_CLASSES) {
                assertEquals(f == cls, g.findingSet().contains(f), it.id() + " " + g.findings());
            }
            // the CheXpert CSV agrees with the class
            float[] l = byId.get(it.id()).labels14();
            assertEquals(1f, l[ChexpertLabels.index(cls.label())]);
            assertEquals(it.image(), byId.get(it.id()).image());
        }
    }

    @Test
    void annotationsRoundTripSentencesAndMasks() throws Exception {
        SynthAnnotations ann = SynthAnnotations.load(root);
        assertEquals(64, ann.size());
        int masks = 0;
        for (SynthAnnotations.Entry e : ann.entries()) {
            SynthStudy g = generated.get(e.dicomId());
            assertEquals(g.sentences(), e.sentences());
            assertEquals(g.masks().keySet(), e.maskFiles().keySet());
            assertEquals(N, e.size());
            assertTrue(Files.isRegularFile(e.image()));
            for (Finding f : e.maskFiles().keySet()) {
                assertArrayEquals(g.masks().get(f), e.mask(f, N)); // PNG is lossless
                float[] coarse = e.mask(f, 8); // per 8x8 "patch" coverage
                double sum = 0;
                double full = 0;
                for (float v : coarse) {
                    assertTrue(v >= 0 && v <= 1);
                    sum += v;
                }
                for (float v : g.masks().get(f)) {
                    full += v;
                }
                assertEquals(full / 64.0, sum, 1e-3);
                masks++;
            }
        }
        assertTrue(masks > 20);
    }

    @Test
    void csvFilesAreWellFormedAndOrdered() throws Exception {
        Csv.Table chex = Csv.read(root.resolve(MimicCxrJpg.CHEXPERT_CSV));
        assertEquals(16, chex.header().size());
        assertEquals(ChexpertLabels.MIMIC_CSV_ORDER, chex.header().subList(2, 16));
        Csv.Table meta = Csv.read(root.resolve(MimicCxrJpg.METADATA_CSV));
        assertEquals(List.of("dicom_id", "subject_id", "study_id", "ViewPosition", "Rows", "Columns"), meta.header());
        assertEquals("64", meta.rows().get(0).get(4));
        Csv.Table split = Csv.read(root.resolve(MimicCxrJpg.SPLIT_CSV));
        assertEquals(List.of("dicom_id", "study_id", "subject_id", "split"), split.header());
        assertEquals(64, split.rows().size());
        // writing again with the same options gives byte-identical index files
        Path again = root.resolveSibling(root.getFileName() + "-again");
        SynthCxr.write(again, OPTIONS);
        for (String f : List.of(MimicCxrJpg.SPLIT_CSV, MimicCxrJpg.CHEXPERT_CSV, SynthCxr.EVAL_CSV, SynthCxr.ANNOTATIONS_JSONL)) {
            assertEquals(Files.readString(root.resolve(f)), Files.readString(again.resolve(f)), f);
        }
    }
}
