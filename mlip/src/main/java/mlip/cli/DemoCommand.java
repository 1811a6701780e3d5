package mlip.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import mlip.data.synth.SynthCxr;
import mlip.eval.Embedder;
import mlip.eval.EvalData;
import mlip.eval.PointingGame;
import mlip.eval.ZeroShot;
import mlip.model.MlipConfig;
import mlip.model.Prompts;
import mlip.train.Checkpoint;
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
            int size = cfg.vision.imageSize;
            EvalData d = EvalData.load(data, size, noEval ? 0 : cfg.data.synthStudies);      // read once, for every evaluation
            System.out.println(ZeroShot.evaluate(emb, d.evalImages(), d.evalClasses(), size, Prompts.templates()).line("synthcxr-5x200"));
            System.out.println(PointingGame.evaluate(emb, d.pointingStudies(), size, cfg.vision.patch).line("synthcxr"));
            System.err.printf("demo: data, training, zero-shot and pointing took %.0f s%n", (System.nanoTime() - t0) / 1e9);
            if (!noEval) {
                long te = System.nanoTime();
                Pretrained p = Pretrained.load(run);
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
}
