package mlip.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mlip.data.MimicCxrJpg;
import mlip.data.Study;
import mlip.data.synth.SynthCxr;
import mlip.model.Batch;
import mlip.text.WordPieceTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streaming training data (images decoded per batch, the next batch prefetched) against the in-memory set on
 * the same small SynthCXR tree: identical batches step by step, across an epoch boundary and out of order (a
 * resume), the subset option, and a corrupt image replaced deterministically and counted.
 */
class TrainDataStreamingTest {
    private static final int SIZE = 32, MAX_LEN = 48, SENTENCES = 6, B = 5;

    @TempDir
    Path dir;

    private WordPieceTokenizer tokenizer() throws IOException {
        SynthCxr.write(dir, SynthCxr.Options.defaults().withStudies(17).withSize(SIZE).withSeed(9L).withEvalPerClass(1).withValidateFraction(0).withProgress(false));
        List<String> corpus = new ArrayList<>();
        for (Study s : MimicCxrJpg.load(dir).studies("train")) corpus.addAll(TrainData.sentences(Files.readString(s.report())));
        return WordPieceTokenizer.train(corpus, 300, true);
    }

    private static void assertSameBatch(String what, Batch a, Batch b) {
        assertArrayEquals((float[]) a.images().backend().toHost(a.images()), (float[]) b.images().backend().toHost(b.images()), what + " images");
        assertArrayEquals((int[]) a.ids().backend().toHost(a.ids()), (int[]) b.ids().backend().toHost(b.ids()), what + " ids");
        assertArrayEquals((float[]) a.labels().backend().toHost(a.labels()), (float[]) b.labels().backend().toHost(b.labels()), what + " labels");
    }

    @Test
    void streamingGivesTheInMemoryBatches() throws IOException {
        WordPieceTokenizer tok = tokenizer();
        TrainData mem = TrainData.load(dir, "train", tok, SIZE, MAX_LEN, SENTENCES, 0, java.util.Set.of(), Long.MAX_VALUE);
        TrainData disk = TrainData.load(dir, "train", tok, SIZE, MAX_LEN, SENTENCES, 0, java.util.Set.of(), 0);
        assertFalse(mem.streaming());
        assertTrue(disk.streaming());
        assertEquals(mem.size(), disk.size());
        for (int step = 0; step < 9; step++) assertSameBatch("step " + step, mem.batch(step, B, 3), disk.batch(step, B, 3));   // crosses epochs (n < 9 B)
        assertSameBatch("resumed at step 4", mem.batch(4, B, 3), disk.batch(4, B, 3));                                      // out of order: no stale prefetch
        assertEquals(0, disk.skipped());

        TrainData sub = TrainData.load(dir, "train", tok, SIZE, MAX_LEN, SENTENCES, 7, java.util.Set.of(), 0);
        assertEquals(7, sub.size(), "maxStudies keeps the first 7 of the split");
    }

    /** data.viewPositions: a lateral image in the metadata is left out of a frontal-only run. */
    @Test
    void viewPositionsKeepOnlyTheNamedViews() throws IOException {
        WordPieceTokenizer tok = tokenizer();
        Study first = MimicCxrJpg.load(dir).studies("train").get(0);
        Path meta = dir.resolve(MimicCxrJpg.METADATA_CSV);
        List<String> lines = new ArrayList<>(Files.readAllLines(meta));
        for (int i = 1; i < lines.size(); i++) if (lines.get(i).startsWith(first.dicomId() + ",")) lines.set(i, lines.get(i).replace(",PA,", ",LATERAL,"));
        Files.write(meta, lines);
        int all = TrainData.load(dir, "train", tok, SIZE, MAX_LEN, SENTENCES, 0, java.util.Set.of(), Long.MAX_VALUE).size();
        int frontal = TrainData.load(dir, "train", tok, SIZE, MAX_LEN, SENTENCES, 0, java.util.Set.of("PA", "AP"), Long.MAX_VALUE).size();
        assertEquals(all - 1, frontal);
    }

    @Test
    void aCorruptImageIsReplacedTheSameWayEveryTimeAndCounted() throws IOException {
        WordPieceTokenizer tok = tokenizer();
        Study first = MimicCxrJpg.load(dir).studies("train").get(0);
        Files.write(first.image(), new byte[]{1, 2, 3, 4});                           // not an image any more
        TrainData a = TrainData.load(dir, "train", tok, SIZE, MAX_LEN, SENTENCES, 0, java.util.Set.of(), 0), b = TrainData.load(dir, "train", tok, SIZE, MAX_LEN, SENTENCES, 0, java.util.Set.of(), 0);
        int epochSteps = (a.size() + B - 1) / B;                                       // one epoch meets every study once
        for (int step = 0; step < epochSteps; step++) {
            Batch x = a.batch(step, B, 3), y = b.batch(step, B, 3);
            assertSameBatch("step " + step, x, y);
            assertEquals(B, x.images().size(0), "a full batch");
        }
        assertTrue(a.skipped() > 0, "the corrupt image is counted");
        assertEquals(a.skipped(), b.skipped());
    }
}
