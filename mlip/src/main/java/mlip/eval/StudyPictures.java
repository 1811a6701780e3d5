package mlip.eval;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mlip.data.MimicCxrJpg;
import mlip.data.SynthAnnotations;
import mlip.data.synth.SentenceAnnotation;
import mlip.train.Pretrained;
import mlip.viz.Heatmap;
import mlip.viz.PatchMaskPicture;

/**
 * The pictures of one study under a trained model: for every finding sentence of its report (every sentence
 * when none names a finding), the patches it matched — by cosine and by the OT plan — over the image, with the
 * sentence as caption; and the semantic-integrity scores with the patches masked encoding would keep.
 *
 * <pre>{@code
 * List<Path> pngs = StudyPictures.write(Pretrained.load(run), annotations.get(dicomId), Path.of("pics"));
 * }</pre>
 */
public final class StudyPictures {
    private StudyPictures() {
    }

    /** Writes {@code <id>-cosine.png}, {@code <id>-ot.png} and {@code <id>-patches.png} into {@code out}; returns their paths. */
    public static List<Path> write(Pretrained p, SynthAnnotations.Entry study, Path out) {
        int size = p.cfg().vision.imageSize, grid = size / p.cfg().vision.patch;
        float[] image = MimicCxrJpg.readImage(study.image(), size);
        List<String> sentences = study.sentences().stream().map(SentenceAnnotation::text).toList();
        Embedder e = new Embedder(p.model(), p.tokenizer());
        int m = Math.min(sentences.size(), p.cfg().text.maxSentences);
        Grounding.Maps maps = Grounding.maps(e, image, size, sentences.subList(0, m), p.cfg().loss.otEps, p.cfg().loss.otIterations);
        List<Integer> shown = new ArrayList<>();
        for (int k = 0; k < m; k++) if (study.sentences().get(k).finding() != null && maps.cosine()[k] != null) shown.add(k);
        if (shown.isEmpty()) for (int k = 0; k < m; k++) if (maps.cosine()[k] != null) shown.add(k);
        List<BufferedImage> cos = new ArrayList<>(), ot = new ArrayList<>();
        for (int k : shown) {
            cos.add(Heatmap.overlay(image, size, maps.cosine()[k], grid, "cosine: " + sentences.get(k)));
            ot.add(Heatmap.overlay(image, size, maps.plan()[k], grid, "OT plan: " + sentences.get(k)));
        }
        String id = study.dicomId().length() > 8 ? study.dicomId().substring(0, 8) : study.dicomId();
        List<Path> written = new ArrayList<>();
        Path pc = out.resolve(id + "-cosine.png"), po = out.resolve(id + "-ot.png"), pm = out.resolve(id + "-patches.png");
        Heatmap.write(Heatmap.row(cos), pc);
        Heatmap.write(Heatmap.row(ot), po);
        float[] scores = e.integrityScores(image, size);
        Heatmap.write(PatchMaskPicture.of(image, size, grid, scores, topK(scores, p.cfg().keptPatches())), pm);
        written.add(pc);
        written.add(po);
        written.add(pm);
        return written;
    }

    /** Indices of the k largest scores (ties: lower index first), in ascending index order. */
    static int[] topK(float[] scores, int k) {
        Integer[] idx = new Integer[scores.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        java.util.Arrays.sort(idx, (a, b) -> scores[a] != scores[b] ? Float.compare(scores[b], scores[a]) : Integer.compare(a, b));
        int[] out = new int[Math.min(k, idx.length)];
        for (int i = 0; i < out.length; i++) out[i] = idx[i];
        java.util.Arrays.sort(out);
        return out;
    }
}
