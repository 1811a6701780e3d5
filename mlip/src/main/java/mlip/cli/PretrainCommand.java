package mlip.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import mlip.model.MlipConfig;
import mlip.tensor.Device;
import mlip.train.Pretrain;
import mlip.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mlip pretrain --config demo-tiny --data synth --out runs/x}: MLIP pretraining on a
 * MIMIC-CXR-JPG-layout directory (or SynthCXR, generated into the run directory when {@code --data synth}).
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true, description = "Pretrain MLIP on a MIMIC-CXR-JPG-layout directory or on SynthCXR.")
public final class PretrainCommand implements Callable<Integer>, MlipSubcommand {

    @Option(names = "--config", defaultValue = "demo-tiny", description = "A preset (demo-tiny, bench-small, paper-vitb16) or a .json/.yaml file. Default: ${DEFAULT-VALUE}.")
    String config;

    @Option(names = "--data", defaultValue = "synth", description = "A MIMIC-CXR-JPG-layout directory, or 'synth' to generate SynthCXR. Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--out", defaultValue = "runs/pretrain", description = "Run directory (checkpoints, metrics.jsonl, vocab.txt). Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda[:i] or cuda-emu (the CUDA emulator: correctness, not speed). Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--steps", description = "Override optim.steps.")
    Integer steps;

    @Option(names = "--batch", description = "Override optim.batchSize.")
    Integer batch;

    @Option(names = "--seed", description = "Override the seed.")
    Long seed;

    @Option(names = "--ablate", description = "Loss terms to switch off, comma-separated: global, local, mask, mim, label.")
    String ablate;

    @Option(names = "--resume", description = "Continue from the run directory's latest checkpoint.")
    boolean resume;

    @Override
    public Integer call() {
        MlipConfig cfg = MlipConfig.load(config).ablate(ablate);
        if (steps != null) cfg.optim.withSteps(steps);
        if (batch != null) cfg.optim.batchSize = batch;
        if (seed != null) cfg.seed = seed;
        cfg.validate();
        Path root = data.equals("synth") ? out.resolve("synthcxr") : Path.of(data);
        if (data.equals("synth")) DemoCommand.ensureSynth(root, cfg);
        else if (!Files.isDirectory(root)) {
            System.err.println("pretrain: --data " + data + " is not a directory");
            return 2;
        }
        try {
            Pretrain.Run run = Pretrain.prepare(cfg, root, out, resume, Device.parse(device));
            if (run.resumed()) System.err.println("pretrain: resumed at step " + run.trainer().step());
            Trainer.Result r = run.trainer().run();
            System.out.printf("pretrain %s steps=%d loss=%.4f time=%.0f s checkpoint=%s%n", cfg.name, r.steps(), r.lastLoss(), r.seconds(), r.checkpoint());
            return 0;
        } catch (Trainer.Diverged e) {
            System.err.println("pretrain: " + e.getMessage());
            return 1;
        }
    }
}
