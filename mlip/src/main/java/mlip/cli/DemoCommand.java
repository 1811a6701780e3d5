package mlip.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mlip.data.Chexpert5x200;
import mlip.data.MimicCxrJpg;
import mlip.data.SynthAnnotations;
import mlip.data.synth.SentenceAnnotation;
import mlip.data.synth.SynthCxr;
import mlip.eval.Embedder;
import mlip.eval.PointingGame;
import mlip.eval.ZeroShot;
import mlip.model.MlipConfig;
import mlip.model.Prompts;
import mlip.train.Checkpoint;
import mlip.eval.EvalData;
import mlip.train.Pretrain;
import mlip.train.Pretrained;
import mlip.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mlip demo}: the main job. Generates SynthCXR (once), pretrains the {@code demo-tiny} preset on
 * the CPU, then evaluates zero-shot classification on the SynthCXR 5x200 split and the pointing game:
 *
 * <pre>
 *   zeroshot synthcxr-5x200 acc=0.812 f1=0.805 chance=0.200
 *   pointing synthcxr acc=0.412 chance=0.083
 *   demo done in 312 s
 * </pre>
 *
 * {@code --ablate local,mask,mim} trains the global-only (CLIP) baseline on the same data, seed and steps.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Generate SynthCXR, pretrain MLIP (demo-tiny) on the CPU, evaluate zero-shot and pointing.")
public final class DemoCommand implements Runnable, MlipSubcommand {

    @Option(names = "--out", defaultValue = "runs/demo", description = "Working directory (data set and runs). Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--config", defaultValue = "demo-tiny", description = "Preset or config file. Default: ${DEFAULT-VALUE}.")
    String config;

    @Option(names = "--ablate", description = "Loss terms to switch off: e.g. local,mask,mim for the global-only baseline.")
    String ablate;

    @Option(names = "--steps", description = "Override optim.steps.")
    Integer steps;

    @Option(names = "--studies", description = "Override the number of SynthCXR training studies.")
    Integer studies;

    @Option(names = "--seed", description = "Override the seed.")
    Long seed;

    @Option(names = "--no-eval", description = "Skip the full evaluation (probe, segmentation, retrieval, grounding, pictures) and the report.")
    boolean noEval;

    @Option(names = "--fresh", description = "Retrain even if the run directory already has a finished checkpoint.")
    boolean fresh;

    @Override
    public void run() {
        long t0 = System.nanoTime();
        MlipConfig cfg = MlipConfig.load(config).ablate(ablate);
        if (steps != null) cfg.optim.withSteps(steps);
        if (studies != null) cfg.data.synthStudies = studies;
        if (seed != null) cfg.seed = seed;
        cfg.validate();                                   // before minutes of data generation, not after
        Path data = out.resolve("synthcxr");
        ensureSynth(data, cfg);
        String runName = ablate == null || ablate.isBlank() ? "mlip" : "ablate-" + ablate.replace(',', '-');
        Path run = out.resolve(runName);
        try {
            if (fresh && Files.exists(run)) Checkpoint.deleteTree(run);
            Pretrain.Run r = Pretrain.prepare(cfg, data, run, true);
            if (r.resumed()) System.err.println("demo: continuing " + run + " from step " + r.trainer().step());
            Trainer.Result res = r.trainer().run();
            if (Double.isNaN(res.lastLoss())) System.err.printf("demo: %s was already trained (%d steps)%n", runName, r.trainer().step());
            else System.err.printf("demo: trained %s for %d steps (last loss %.3f)%n", runName, res.steps(), res.lastLoss());
            r.model().train(false);
            Embedder emb = new Embedder(r.model(), r.tokenizer());
            ZeroShot.Result zs = zeroShot(emb, data, cfg.vision.imageSize);
            System.out.println(zs.line("synthcxr-5x200"));
            PointingGame.Result pg = pointing(emb, data, cfg);
            System.out.println(pg.line("synthcxr"));
            System.err.printf("demo: data, training, zero-shot and pointing took %.0f s%n", (System.nanoTime() - t0) / 1e9);
            if (!noEval) {
                long te = System.nanoTime();
                Pretrained p = Pretrained.load(run);
                EvalData d = EvalData.load(data, cfg.vision.imageSize, cfg.data.synthStudies);
                DemoReport.evaluate(p, d, data, 3, 1);
                Path md = DemoReport.write(out);
                System.err.printf("demo: evaluation %.0f s%n", (System.nanoTime() - te) / 1e9);
                System.out.println("report " + md + " (and report.html)");
            }
            System.out.printf("demo done in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Writes SynthCXR into {@code root} unless a complete copy is there. */
    static void ensureSynth(Path root, MlipConfig cfg) {
        if (Files.exists(root.resolve(SynthCxr.INFO_JSON))) return;
        SynthCxr.Options o = SynthCxr.Options.defaults().withStudies(cfg.data.synthStudies).withSize(cfg.vision.imageSize)
                .withEvalPerClass(cfg.data.evalPerClass);
        SynthCxr.Summary s = SynthCxr.write(root, o);
        System.err.printf("synthcxr: %d train, %d validate, %d test studies in %s (%.1f s)%n", s.train(), s.validate(), s.test(), root, s.millis() / 1e3);
    }

    static ZeroShot.Result zeroShot(Embedder emb, Path data, int size) {
        Chexpert5x200 eval = Chexpert5x200.load(data.resolve(SynthCxr.EVAL_CSV), data);
        List<float[]> images = new ArrayList<>();
        int[] classes = new int[eval.items().size()];
        for (int i = 0; i < classes.length; i++) {
            images.add(MimicCxrJpg.readImage(eval.items().get(i).image(), size));
            classes[i] = eval.items().get(i).label();
        }
        return ZeroShot.evaluate(emb, images, classes, size, Prompts.templates());
    }

    /** The pointing game on the 5x200 evaluation studies: every sentence that names a finding, against that finding's mask. */
    static PointingGame.Result pointing(Embedder emb, Path data, MlipConfig cfg) throws java.io.IOException {
        int size = cfg.vision.imageSize;
        Chexpert5x200 eval = Chexpert5x200.load(data.resolve(SynthCxr.EVAL_CSV), data);
        SynthAnnotations ann = SynthAnnotations.load(data);
        List<PointingGame.Study> studies = new ArrayList<>();
        for (Chexpert5x200.Item it : eval.items()) {
            SynthAnnotations.Entry e = ann.get(it.id());
            if (e == null) continue;
            List<String> sentences = new ArrayList<>();
            List<PointingGame.Target> targets = new ArrayList<>();
            for (int k = 0; k < e.sentences().size(); k++) {
                SentenceAnnotation s = e.sentences().get(k);
                sentences.add(s.text());
                if (s.finding() != null && e.maskFiles().containsKey(s.finding())) targets.add(new PointingGame.Target(k, e.mask(s.finding(), size)));
            }
            if (!targets.isEmpty()) studies.add(new PointingGame.Study(MimicCxrJpg.readImage(e.image(), size), sentences, targets));
        }
        return PointingGame.evaluate(emb, studies, size, cfg.vision.patch);
    }
}
