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
 * The training set in memory: images decoded and resized once, reports split into sentences and
 * tokenised once, labels as multi-hot rows over {@link Prompts#CLASSES}. Batches are drawn in a
 * per-epoch permutation fixed by (seed, epoch), so the data position is just the step number: a
 * resumed run sees exactly the batches the uninterrupted run would have.
 *
 * <pre>{@code
 * TrainData d = TrainData.load(root, "train", tokenizer, 96, 64, 8);
 * Batch b = d.batch(step, 64, seed);
 * }</pre>
 */
public final class TrainData {
    private final List<float[]> images = new ArrayList<>();
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
        MimicCxrJpg set = MimicCxrJpg.load(root);
        List<Study> studies = set.studies(split);
        if (studies.isEmpty()) throw new IllegalArgumentException(root + ": no studies in split '" + split + "'");
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

    public int size() {
        return images.size();
    }

    /** Image side in pixels. */
    public int imageSize() {
        return size;
    }

    /** The {@code step}-th batch of {@code batchSize}: epoch e = step*B / n uses permutation(seed, e). */
    public Batch batch(long step, int batchSize, long seed) {
        int n = images.size();
        int[] idx = new int[batchSize];
        for (int i = 0; i < batchSize; i++) {
            long pos = step * batchSize + i;
            idx[i] = permutation(seed, pos / n, n)[(int) (pos % n)];
        }
        return build(idx);
    }

    private int[] cachedPerm;
    private long cachedEpoch = -1;

    private synchronized int[] permutation(long seed, long epoch, int n) {
        if (epoch != cachedEpoch) {
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

    /** A batch of the given studies, in order. */
    public Batch build(int[] idx) {
        List<float[]> im = new ArrayList<>();
        List<Encoded> en = new ArrayList<>();
        List<float[]> lb = new ArrayList<>();
        for (int i : idx) {
            im.add(images.get(i));
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
