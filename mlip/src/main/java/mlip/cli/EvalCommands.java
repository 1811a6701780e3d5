package mlip.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import mlip.eval.EvalData;
import mlip.eval.EvalSuite;
import mlip.eval.ZeroShot;
import mlip.train.Pretrained;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The evaluation commands on a trained run ({@code --ckpt}: a run directory or one of its checkpoints) and a
 * data root with a 5x200 split ({@code --data}; SynthCXR's also has the masks segmentation needs):
 *
 * <pre>
 *   bin/mlip zeroshot --ckpt runs/demo/mlip --data runs/demo/synthcxr
 *   bin/mlip probe    --ckpt runs/demo/mlip --data runs/demo/synthcxr --fractions 0.01,0.1,1 --seeds 3
 *   bin/mlip segment  --ckpt runs/demo/mlip --data runs/demo/synthcxr
 *   bin/mlip retrieve --ckpt runs/demo/mlip --data runs/demo/synthcxr
 *   bin/mlip ground   --ckpt runs/demo/mlip --data runs/demo/synthcxr
 *   bin/mlip visualize --ckpt runs/demo/mlip --data runs/demo/synthcxr --study 5ac8d084 --out pics
 * </pre>
 */
public final class EvalCommands {
    private EvalCommands() {
    }

    abstract static class Base implements Callable<Integer>, MlipSubcommand {
        @Option(names = "--ckpt", required = true, description = "A run directory (its latest checkpoint) or a checkpoint directory.")
        Path ckpt;

        @Option(names = "--data", defaultValue = "runs/demo/synthcxr", description = "Data root with the 5x200 split. Default: ${DEFAULT-VALUE}.")
        Path data;

        @Option(names = "--max-train", defaultValue = "4000", description = "Training studies the few-shot trainers draw from. Default: ${DEFAULT-VALUE}.")
        int maxTrain;

        Pretrained model;
        EvalData evalData;

        @Override
        public Integer call() {
            long t0 = System.nanoTime();
            model = Pretrained.load(ckpt);
            evalData = EvalData.load(data, model.cfg().vision.imageSize, needsTrain() ? maxTrain : 0);
            for (String line : run()) System.out.println(line);
            System.err.printf("%s: %.0f s%n", getClass().getAnnotation(Command.class).name(), (System.nanoTime() - t0) / 1e9);
            return 0;
        }

        boolean needsTrain() {
            return false;
        }

        abstract List<String> run();
    }

    @Command(name = "zeroshot", mixinStandardHelpOptions = true,
            description = "Zero-shot classification on the 5x200 split: hand-written and learned prompts, global/local/both scores.")
    public static final class ZeroShotCommand extends Base {
        @Option(names = "--no-normalise", description = "Take the raw argmax instead of standardising each class's scores over the images.")
        boolean noNormalise;

        @Override
        List<String> run() {
            List<String> lines = new java.util.ArrayList<>(zeroShotLines(EvalSuite.zeroShot(model, evalData, !noNormalise)));
            EvalSuite.binary(model, evalData).forEach(b -> lines.add(b.line()));
            return lines;
        }
    }

    /** The few-shot commands: fractions of the training labels, seeds per fraction (subset and init). */
    abstract static class FewShotBase extends Base {
        @Option(names = "--fractions", split = ",", defaultValue = "0.01,0.1,1", description = "Default: ${DEFAULT-VALUE}.")
        double[] fractions;

        @Option(names = "--seeds", description = "Seeds per fraction (subset and init). Default: 3 for probe, 1 for segment.")
        Integer seeds;

        @Override
        boolean needsTrain() {
            return true;
        }
    }

    @Command(name = "probe", mixinStandardHelpOptions = true,
            description = "Few-shot linear probe on frozen image features at fractions of the training labels (macro AUC, accuracy).")
    public static final class ProbeCommand extends FewShotBase {
        @Override
        List<String> run() {
            return fewShotLines("probe", EvalSuite.probe(model, evalData, fractions, seeds == null ? 3 : seeds));
        }
    }

    @Command(name = "segment", mixinStandardHelpOptions = true,
            description = "Few-shot segmentation with a frozen encoder and a light decoder at fractions of the masks (mean Dice).")
    public static final class SegmentCommand extends FewShotBase {
        @Override
        List<String> run() {
            return fewShotLines("segment", EvalSuite.segment(model, evalData, fractions, seeds == null ? 1 : seeds));
        }
    }

    @Command(name = "retrieve", mixinStandardHelpOptions = true, description = "Image-report retrieval on the 5x200 studies: Recall@1/5/10 both ways.")
    public static final class RetrieveCommand extends Base {
        @Override
        List<String> run() {
            return EvalSuite.retrieve(model, evalData).entrySet().stream()
                    .map(e -> String.format("retrieve %s=%.3f", e.getKey().replace(' ', '_'), e.getValue())).toList();
        }
    }

    @Command(name = "ground", mixinStandardHelpOptions = true,
            description = "Grounding on the 5x200 studies: pointing game and top-5% mask coverage per finding, cosine map and OT plan.")
    public static final class GroundCommand extends Base {
        @Override
        List<String> run() {
            return EvalSuite.ground(model, evalData).lines();
        }
    }

    @Command(name = "visualize", mixinStandardHelpOptions = true,
            description = "Pictures of one study: per-sentence heatmaps (cosine and OT plan), integrity scores and kept patches; the run's curves.")
    public static final class VisualizeCommand implements Callable<Integer>, MlipSubcommand {
        @Option(names = "--ckpt", required = true, description = "A run directory or a checkpoint directory.")
        Path ckpt;

        @Option(names = "--data", defaultValue = "runs/demo/synthcxr", description = "SynthCXR root (annotations). Default: ${DEFAULT-VALUE}.")
        Path data;

        @Option(names = "--study", required = true, description = "A dicom_id (or a prefix of one) or a study_id.")
        String study;

        @Option(names = "--out", defaultValue = "runs/pictures", description = "Output directory. Default: ${DEFAULT-VALUE}.")
        Path out;

        @Override
        public Integer call() {
            Pretrained p = Pretrained.load(ckpt);
            var ann = mlip.data.SynthAnnotations.load(data);
            var hits = ann.entries().stream().filter(e -> e.dicomId().startsWith(study) || String.valueOf(e.studyId()).equals(study)).toList();
            if (hits.size() != 1) throw new IllegalArgumentException("--study " + study + " matches " + hits.size() + " studies in " + data + " (need exactly one)");
            for (Path png : mlip.eval.StudyPictures.write(p, hits.get(0), out)) System.out.println("wrote " + png);
            Path metrics = p.run().resolve("metrics.jsonl");
            if (java.nio.file.Files.exists(metrics)) {
                mlip.viz.Curves.fromMetricsJsonl(metrics, out.resolve("curves.png"));
                System.out.println("wrote " + out.resolve("curves.png"));
            }
            return 0;
        }
    }

    static List<String> zeroShotLines(Map<String, ZeroShot.Result> results) {
        return results.entrySet().stream().map(e -> String.format("zeroshot %s acc=%.3f f1=%.3f auc=%.3f chance=%.3f", e.getKey(),
                e.getValue().accuracy(), e.getValue().macroF1(), e.getValue().macroAuc(), e.getValue().chance())).toList();
    }

    static List<String> fewShotLines(String what, List<EvalSuite.FewShot> rows) {
        return rows.stream().map(r -> {
            StringBuilder sb = new StringBuilder(String.format("%s %s%% n=%d", what, pct(r.fraction()), r.trainSize()));
            new java.util.TreeMap<>(r.metrics()).forEach((k, v) -> sb.append(' ').append(k).append('=').append(String.format("%.3f±%.3f", v.mean(), v.std())));
            return sb.toString();
        }).toList();
    }

    static String pct(double f) {
        double p = f * 100;
        return p == Math.rint(p) ? String.valueOf((long) p) : String.valueOf(p);
    }
}
