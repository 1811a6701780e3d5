package mlip.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import mlip.data.ChexpertLabels;
import mlip.data.MimicCxrJpg;
import mlip.data.Study;
import mlip.model.Batch;
import mlip.model.Prompts;
import mlip.tensor.Tensor;
import mlip.text.Encoded;
import mlip.text.ReportSections;
import mlip.text.SentenceSplitter;
import mlip.text.WordPieceTokenizer;

/**
 * The training set: reports split into sentences and tokenised once, labels as multi-hot rows over
 * {@link Prompts#CLASSES}, and the images either decoded and resized once into memory (a set whose pixels
 * fit in {@link #IN_MEMORY_BYTES}: SynthCXR, subsets) or streamed — decoded per batch from their files,
 * the next batch on a background thread while the current step runs (MIMIC-CXR at 224 px would need 43 GB).
 * Batches are drawn in a per-epoch permutation fixed by (seed, epoch), so the data position is just the
 * step number: a resumed run sees exactly the batches the uninterrupted run would have, in either mode.
 *
 * <p>Streaming meets a corrupt image only when a batch needs it: that slot then takes the next study of the
 * permutation that decodes (deterministic for fixed files), and the image is counted in {@link #skipped()}.
 *
 * <pre>{@code
 * TrainData d = TrainData.load(root, "train", tokenizer, 96, 64, 8);
 * Batch b = d.batch(step, 64, seed);
 * }</pre>
 */
public final class TrainData {
    /** Sets whose decoded pixels take more than this stream from disk instead. */
    public static final long IN_MEMORY_BYTES = 4L << 30;

    private final List<float[]> images = new ArrayList<>();          // in memory: one (size*size) row per study
    private final List<Path> files = new ArrayList<>();              // streaming: the image file per study
    private final java.util.concurrent.atomic.AtomicInteger corrupt = new java.util.concurrent.atomic.AtomicInteger();
    private java.util.concurrent.ExecutorService prefetcher;          // streaming: decodes the next batch
    private java.util.concurrent.Future<float[][]> next;
    private long nextStep = -1;
    private final List<Encoded> reports = new ArrayList<>();
    private final List<float[]> labels = new ArrayList<>();
    private final int size, maxLen, maxSentences;

    private TrainData(int size, int maxLen, int maxSentences) {
        this.size = size;
        this.maxLen = maxLen;
        this.maxSentences = maxSentences;
    }

    /** The sentences of a report's FINDINGS and IMPRESSION (what both pretraining and the vocabulary see). */
    public static List<String> sentences(String report) {
        return SentenceSplitter.split(ReportSections.findingsAndImpression(report));
    }

    /** Loads the studies of {@code split} ("train", "validate", "test") from a MIMIC-CXR-JPG layout; unreadable ones are skipped. */
    public static TrainData load(Path root, String split, WordPieceTokenizer tok, int size, int maxLen, int maxSentences) {
        return load(root, split, tok, size, maxLen, maxSentences, 0);
    }

    /**
     * As {@link #load(Path, String, WordPieceTokenizer, int, int, int)}, keeping only the first {@code maxStudies}
     * studies of the split (0: all) — a smoke run or a data-size study on real data.
     */
    public static TrainData load(Path root, String split, WordPieceTokenizer tok, int size, int maxLen, int maxSentences, int maxStudies) {
        return load(root, split, tok, size, maxLen, maxSentences, maxStudies, java.util.Set.of(), IN_MEMORY_BYTES);
    }

    /**
     * As above, keeping only images whose metadata ViewPosition is in {@code views} (empty: all), streaming when the
     * decoded pixels would exceed {@code inMemoryBytes} (tests force either mode).
     */
    public static TrainData load(Path root, String split, WordPieceTokenizer tok, int size, int maxLen, int maxSentences, int maxStudies,
                                 java.util.Set<String> views, long inMemoryBytes) {
        MimicCxrJpg set = views.isEmpty() ? MimicCxrJpg.load(root) : MimicCxrJpg.load(root, root, views);
        List<Study> studies = set.studies(split);
        if (studies.isEmpty()) throw new IllegalArgumentException(root + ": no studies in split '" + split + "'");
        if (maxStudies > 0 && studies.size() > maxStudies) studies = studies.subList(0, maxStudies);
        if ((long) studies.size() * size * size * Float.BYTES > inMemoryBytes) return stream(set, studies, tok, size, maxLen, maxSentences);
        List<MimicCxrJpg.Sample> samples = set.readAll(studies, size);
        TrainData d = new TrainData(size, maxLen, maxSentences);
        Encoded[] enc = new Encoded[samples.size()];
        IntStream.range(0, samples.size()).parallel().forEach(i -> {
            List<String> sent = sentences(samples.get(i).report());
            enc[i] = tok.encodeReport(sent.subList(0, Math.min(sent.size(), maxSentences)), maxLen);
        });
        for (int i = 0; i < samples.size(); i++) {
            d.images.add(samples.get(i).image());
            d.reports.add(enc[i]);
            d.labels.add(multiHot(samples.get(i).study().labels14()));
        }
        return d;
    }

    /** Multi-hot over {@link Prompts#CLASSES} from CheXpert's 14 values (1 = positive; 0, -1, NaN = not). */
    public static float[] multiHot(float[] chexpert14) {
        float[] y = new float[Prompts.CLASSES.size()];
        for (int c = 0; c < y.length; c++) {
            int col = ChexpertLabels.index(Prompts.CHEXPERT.get(c));
            y[c] = chexpert14[col] == 1f ? 1f : 0f;
        }
        return y;
    }

    /** Streaming: reports read and encoded now, images left on disk (those whose report cannot be read are skipped). */
    private static TrainData stream(MimicCxrJpg set, List<Study> studies, WordPieceTokenizer tok, int size, int maxLen, int maxSentences) {
        TrainData d = new TrainData(size, maxLen, maxSentences);
        Encoded[] enc = new Encoded[studies.size()];
        IntStream.range(0, studies.size()).parallel().forEach(i -> {
            try {
                List<String> sent = sentences(java.nio.file.Files.readString(studies.get(i).report()));
                enc[i] = tok.encodeReport(sent.subList(0, Math.min(sent.size(), maxSentences)), maxLen);
            } catch (java.io.IOException | java.io.UncheckedIOException e) {
                enc[i] = null;                                               // counted below
            }
        });
        for (int i = 0; i < studies.size(); i++) {
            if (enc[i] == null) {
                d.corrupt.incrementAndGet();
                continue;
            }
            d.files.add(studies.get(i).image());
            d.reports.add(enc[i]);
            d.labels.add(multiHot(studies.get(i).labels14()));
        }
        d.prefetcher = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "train-data-prefetch");
            t.setDaemon(true);
            return t;
        });
        System.err.printf("data: streaming %d studies from disk (%.1f GB of pixels at %d px would not fit in memory)%n",
                d.files.size(), (double) d.files.size() * size * size * Float.BYTES / 1e9, size);
        return d;
    }

    /** Whether images are decoded per batch from disk. */
    public boolean streaming() {
        return prefetcher != null;
    }

    /** Studies left out: unreadable reports at load, and (streaming) images that failed to decode in a batch. */
    public int skipped() {
        return corrupt.get();
    }

    public int size() {
        return streaming() ? files.size() : images.size();
    }

    /** Image side in pixels. */
    public int imageSize() {
        return size;
    }

    /** The {@code step}-th batch of {@code batchSize}: epoch e = step*B / n uses permutation(seed, e). */
    public Batch batch(long step, int batchSize, long seed) {
        if (!streaming()) return build(indices(step, batchSize, seed));
        float[][] pixels;
        try {
            pixels = step == nextStep && next != null ? next.get() : decode(step, batchSize, seed);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while decoding a batch", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("decoding batch " + step + ": " + e.getCause().getMessage(), e.getCause());
        }
        nextStep = step + 1;
        next = prefetcher.submit(() -> decode(step + 1, batchSize, seed));
        int[] idx = new int[batchSize];
        List<float[]> im = new ArrayList<>();
        for (int i = 0; i < batchSize; i++) {
            idx[i] = (int) pixels[batchSize][i];                           // the study each slot ended on
            im.add(pixels[i]);
        }
        return pack(im, idx);
    }

    /** Study index per slot of the {@code step}-th batch. */
    private int[] indices(long step, int batchSize, long seed) {
        int n = size();
        int[] idx = new int[batchSize];
        for (int i = 0; i < batchSize; i++) {
            long pos = step * batchSize + i;
            idx[i] = permutation(seed, pos / n, n)[(int) (pos % n)];
        }
        return idx;
    }

    /**
     * Streaming: the batch's images, rows 0..B-1, and in row B the study index each slot ended on (a slot whose
     * image does not decode moves on through the permutation: the same replacement on every run).
     */
    private float[][] decode(long step, int batchSize, long seed) {
        int n = size();
        float[][] out = new float[batchSize + 1][];
        out[batchSize] = new float[batchSize];
        for (int i = 0; i < batchSize; i++) {
            long pos = step * batchSize + i;
            for (int tries = 0; ; tries++) {
                if (tries == n) throw new IllegalStateException("no training image decodes (" + n + " tried)");
                long p = pos + (long) tries * batchSize;
                int study = permutation(seed, p / n, n)[(int) (p % n)];
                try {
                    out[i] = mlip.data.Images.readSquare(files.get(study), size);
                    out[batchSize][i] = study;
                    break;
                } catch (java.io.IOException | RuntimeException e) {
                    corrupt.incrementAndGet();
                    System.err.println("data: skipping corrupt image " + files.get(study) + ": " + e.getMessage());
                }
            }
        }
        return out;
    }

    private int[] cachedPerm;
    private long cachedEpoch = -1;

    private synchronized int[] permutation(long seed, long epoch, int n) {
        if (epoch != cachedEpoch) {                                          // (the prefetcher may ask for the next epoch: recomputed, never wrong)
            int[] p = new int[n];
            for (int i = 0; i < n; i++) p[i] = i;
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            cachedPerm = p;
            cachedEpoch = epoch;
        }
        return cachedPerm;
    }

    /** A batch of the given studies, in order (streaming: their images decoded now). */
    public Batch build(int[] idx) {
        List<float[]> im = new ArrayList<>();
        for (int i : idx) {
            if (!streaming()) {
                im.add(images.get(i));
                continue;
            }
            try {
                im.add(mlip.data.Images.readSquare(files.get(i), size));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(files.get(i) + ": " + e.getMessage(), e);
            }
        }
        return pack(im, idx);
    }

    private Batch pack(List<float[]> im, int[] idx) {
        List<Encoded> en = new ArrayList<>();
        List<float[]> lb = new ArrayList<>();
        for (int i : idx) {
            en.add(reports.get(i));
            lb.add(labels.get(i));
        }
        return toBatch(im, en, lb, size, maxSentences);
    }

    /** One batch of generated SynthCXR studies (benchmarks and tests): reports split and tokenised as in training. */
    public static Batch ofStudies(List<mlip.data.synth.SynthStudy> studies, WordPieceTokenizer tok, int maxLen, int maxSentences) {
        List<float[]> images = new ArrayList<>();
        List<Encoded> reports = new ArrayList<>();
        List<float[]> labels = new ArrayList<>();
        for (var s : studies) {
            images.add(s.image());
            List<String> sent = sentences(s.report());
            reports.add(tok.encodeReport(sent.subList(0, Math.min(sent.size(), maxSentences)), maxLen));
            labels.add(multiHot(s.labels()));
        }
        return toBatch(images, reports, labels, studies.get(0).size(), maxSentences);
    }

    /** Packs images (each size*size), encoded reports and labels (or null) into tensors. */
    public static Batch toBatch(List<float[]> images, List<Encoded> reports, List<float[]> labels, int size, int maxSentences) {
        int b = images.size(), t = reports.get(0).ids().length, m = maxSentences;
        float[] img = new float[b * size * size];
        int[] ids = new int[b * t], att = new int[b * t];
        float[] pool = new float[b * m * t], smask = new float[b * m];
        for (int i = 0; i < b; i++) {
            System.arraycopy(images.get(i), 0, img, i * size * size, size * size);
            Encoded e = reports.get(i);
            System.arraycopy(e.ids(), 0, ids, i * t, t);
            System.arraycopy(e.attentionMask(), 0, att, i * t, t);
            int[] count = new int[m];
            for (int k = 0; k < t; k++) if (e.sentenceIndex()[k] >= 0 && e.sentenceIndex()[k] < m) count[e.sentenceIndex()[k]]++;
            for (int k = 0; k < t; k++) {
                int s = e.sentenceIndex()[k];
                if (s >= 0 && s < m) pool[(i * m + s) * t + k] = 1f / count[s];
            }
            for (int s = 0; s < m; s++) smask[i * m + s] = count[s] > 0 ? 1f : 0f;
        }
        Tensor lab = null;
        if (labels != null) {
            int c = labels.get(0).length;
            float[] l = new float[b * c];
            for (int i = 0; i < b; i++) System.arraycopy(labels.get(i), 0, l, i * c, c);
            lab = Tensor.of(l, b, c);
        }
        return new Batch(Tensor.of(img, b, 1, size, size), Tensor.of(ids, b, t), Tensor.of(att, b, t), Tensor.of(pool, b, m, t),
                Tensor.of(smask, b, m), lab);
    }
}
