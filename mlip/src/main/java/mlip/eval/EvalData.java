package mlip.eval;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import mlip.data.Chexpert5x200;
import mlip.data.MimicCxrJpg;
import mlip.data.SynthAnnotations;
import mlip.data.synth.Finding;
import mlip.data.synth.SentenceAnnotation;
import mlip.data.synth.SynthCxr;
import mlip.train.TrainData;

/*
 * Design note — which studies each evaluation uses (SynthCXR, or any MIMIC-CXR-JPG-layout root that also
 * has a 5x200 CSV):
 *   zero-shot, probe test, segmentation test, grounding: the 5x200 evaluation studies (one finding each);
 *   probe and segmentation training: the training split (1%/10%/100% drawn from it by Subsets);
 *   retrieval: the 5x200 studies against their own reports (both directions);
 *   binary zero-shot tasks (pneumothorax / consolidation against normal): the validation split.
 * Pixel masks come from SynthCXR's annotations; a root without them has no segmentation or grounding.
 */

/**
 * The evaluation studies of a data root, read once and shared by every evaluation.
 *
 * <pre>{@code
 * EvalData d = EvalData.load(Path.of("runs/demo/synthcxr"), 96, 4000);
 * ZeroShot.evaluate(embedder, d.evalImages(), d.evalClasses(), 96, Prompts.templates());
 * }</pre>
 *
 * @param evalImages    the 5x200 images (size*size each)
 * @param evalClasses   their class in 0..4 (Chexpert5x200.CLASSES)
 * @param evalReports   their report sentences (FINDINGS + IMPRESSION)
 * @param evalMasks     per eval study, the union of its finding masks (size*size, fraction covered), or null without annotations
 * @param evalTargets   per eval study, the (sentence index, finding mask) pairs for grounding, or null without annotations
 * @param evalFindings  the finding name of each of those targets
 * @param trainImages   training-split images for the probe and the segmentation decoder
 * @param trainLabels   their multi-hot labels over Prompts.CLASSES
 * @param trainMasks    their union masks (all zero for a normal study), or null without annotations
 * @param valImages     validation-split images (the binary zero-shot tasks: a finding against normal studies)
 * @param valLabels     their multi-hot labels over Prompts.CLASSES
 */
public record EvalData(int size, List<float[]> evalImages, int[] evalClasses, List<List<String>> evalReports, List<float[]> evalMasks,
                       List<List<PointingGame.Target>> evalTargets, List<List<String>> evalFindings, List<float[]> trainImages, List<float[]> trainLabels,
                       List<float[]> trainMasks, List<float[]> valImages, List<float[]> valLabels) {

    /** Reads the 5x200 split and up to {@code maxTrain} training studies (in split order) at {@code size} px. */
    public static EvalData load(Path root, int size, int maxTrain) {
        Path csv = root.resolve(SynthCxr.EVAL_CSV);
        if (!Files.exists(csv)) throw new IllegalArgumentException(root + ": no " + SynthCxr.EVAL_CSV + " (the 5x200 evaluation split)");
        Chexpert5x200 eval = Chexpert5x200.load(csv, root);
        SynthAnnotations ann = Files.exists(root.resolve(SynthCxr.ANNOTATIONS_JSONL)) ? SynthAnnotations.load(root) : null;
        MimicCxrJpg set = MimicCxrJpg.load(root);
        Map<String, mlip.data.Study> byDicom = new java.util.HashMap<>();
        for (mlip.data.Study s : set.studies()) byDicom.put(s.dicomId(), s);

        List<float[]> images = new ArrayList<>(), masks = ann == null ? null : new ArrayList<>();
        List<List<String>> reports = new ArrayList<>();
        List<List<PointingGame.Target>> targets = ann == null ? null : new ArrayList<>();
        List<List<String>> findings = ann == null ? null : new ArrayList<>();
        int[] classes = new int[eval.items().size()];
        for (int i = 0; i < classes.length; i++) {
            Chexpert5x200.Item it = eval.items().get(i);
            images.add(MimicCxrJpg.readImage(it.image(), size));
            classes[i] = it.label();
            mlip.data.Study st = byDicom.get(it.id());
            reports.add(st == null ? List.of() : TrainData.sentences(read(st.report())));
            if (ann != null) {
                SynthAnnotations.Entry e = ann.get(it.id());
                masks.add(e == null ? new float[size * size] : union(e, size));
                List<PointingGame.Target> t = new ArrayList<>();
                List<String> names = new ArrayList<>();
                if (e != null) {
                    for (int k = 0; k < e.sentences().size(); k++) {
                        SentenceAnnotation s = e.sentences().get(k);
                        if (s.finding() != null && e.maskFiles().containsKey(s.finding())) {
                            t.add(new PointingGame.Target(k, e.mask(s.finding(), size)));
                            names.add(s.finding().token());
                        }
                    }
                    reports.set(i, e.sentences().stream().map(SentenceAnnotation::text).toList());   // sentence indices refer to these
                }
                targets.add(t);
                findings.add(names);
            }
        }

        List<mlip.data.Study> train = set.studies("train");
        train = train.subList(0, Math.min(maxTrain, train.size()));
        List<float[]> trainImages = new ArrayList<>(), trainLabels = new ArrayList<>(), trainMasks = ann == null ? null : new ArrayList<>();
        for (MimicCxrJpg.Sample s : set.readAll(train, size)) {
            trainImages.add(s.image());
            trainLabels.add(TrainData.multiHot(s.study().labels14()));
            if (ann != null) {
                SynthAnnotations.Entry e = ann.get(s.study().dicomId());
                trainMasks.add(e == null ? new float[size * size] : union(e, size));
            }
        }
        List<float[]> valImages = new ArrayList<>(), valLabels = new ArrayList<>();
        for (MimicCxrJpg.Sample s : set.readAll(set.studies("validate"), size)) {
            valImages.add(s.image());
            valLabels.add(TrainData.multiHot(s.study().labels14()));
        }
        return new EvalData(size, images, classes, reports, masks, targets, findings, trainImages, trainLabels, trainMasks, valImages, valLabels);
    }

    /** The evaluation studies that have finding targets, in order, as the pointing game and grounding take them. */
    public List<PointingGame.Study> pointingStudies() {
        List<PointingGame.Study> out = new ArrayList<>();
        if (evalTargets == null) return out;
        for (int i = 0; i < evalImages.size(); i++) {
            if (!evalTargets.get(i).isEmpty()) out.add(new PointingGame.Study(evalImages.get(i), evalReports.get(i), evalTargets.get(i)));
        }
        return out;
    }

    /** The finding names of {@link #pointingStudies()}' targets, parallel to it. */
    public List<List<String>> pointingFindings() {
        List<List<String>> out = new ArrayList<>();
        if (evalTargets == null) return out;
        for (int i = 0; i < evalImages.size(); i++) if (!evalTargets.get(i).isEmpty()) out.add(evalFindings.get(i));
        return out;
    }

    /** The union of a study's finding masks (max of the per-finding coverage fractions). */
    static float[] union(SynthAnnotations.Entry e, int size) {
        float[] m = new float[size * size];
        for (Finding f : e.maskFiles().keySet()) {
            float[] one = e.mask(f, size);
            for (int i = 0; i < m.length; i++) m[i] = Math.max(m[i], one[i]);
        }
        return m;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(p + ": " + e.getMessage(), e);
        }
    }
}
