package mlip.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import mlip.data.synth.SynthCxr;
import mlip.data.synth.SynthStudy;
import mlip.loss.MlipLoss;
import mlip.model.Batch;
import mlip.model.MlipConfig;
import mlip.model.MlipModel;
import mlip.model.Prompts;
import mlip.optim.AdamW;
import mlip.tensor.Device;
import mlip.tensor.Generator;
import mlip.tensor.cpu.Parallel;
import mlip.text.WordPieceTokenizer;
import mlip.train.TrainData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mlip bench step --config bench-small}: full MLIP training steps — forward, every active loss,
 * backward, AdamW — on one batch of SynthCXR studies. Prints the median step time and the GFLOP/s of the
 * matmul work (2mnk per product, backward = 2x forward), counted by {@link #flops}.
 */
@Command(name = "step", mixinStandardHelpOptions = true, description = "Time full MLIP training steps (forward, losses, backward, AdamW).")
public final class StepBench implements Callable<Integer> {

    @Option(names = "--config", defaultValue = "bench-small", description = "Preset or config file. Default: ${DEFAULT-VALUE}.")
    String config;

    @Option(names = "--reps", defaultValue = "5", description = "Timed steps after the warm-up steps; the median is reported.")
    int reps;

    @Option(names = "--ablate", description = "Loss terms to switch off (as pretrain).")
    String ablate;

    @Option(names = "--batch", description = "Override optim.batchSize (e.g. to time paper-vitb16 on a CPU at a batch that fits).")
    Integer batch;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed steps before the timed ones. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda[:i] or cuda-emu. Default: ${DEFAULT-VALUE}.")
    String device;

    @Override
    public Integer call() {
        MlipConfig cfg = MlipConfig.load(config).ablate(ablate);
        if (batch != null) cfg.optim.batchSize = batch;
        cfg.validate();
        Device dev = Device.parse(device);
        int b = cfg.optim.batchSize, size = cfg.vision.imageSize;
        List<SynthStudy> studies = SynthCxr.generateRange(cfg.seed, 0, b, size, SynthCxr.Hardness.DEFAULT);
        List<String> corpus = new ArrayList<>();
        for (SynthStudy s : studies) corpus.addAll(TrainData.sentences(s.report()));
        WordPieceTokenizer tok = WordPieceTokenizer.train(corpus, cfg.text.vocab, true);
        cfg.text.vocab = Math.max(cfg.text.vocab, tok.vocabSize());
        Batch data = TrainData.ofStudies(studies, tok, cfg.text.maxLen, cfg.text.maxSentences).to(dev);
        MlipModel model = new MlipModel(cfg, new Generator(cfg.seed));
        model.to(dev);
        AdamW opt = new AdamW(model.namedParameters(), cfg.optim.lr);
        Generator noise = new Generator(cfg.seed, 1, 0);
        Prompts prompts = Prompts.continuous(tok, cfg.loss.promptContext, 16).to(dev);
        double gflop = flops(cfg) / 1e9;
        System.out.printf("step %s B=%d image=%d patch=%d kept=%d vision D=%d x%d text D=%d x%d device=%s threads=%d%n", cfg.name, b, size, cfg.vision.patch,
                cfg.keptPatches(), cfg.vision.dim, cfg.vision.depth, cfg.text.dim, cfg.text.depth, dev, Parallel.defaultPool().threads());
        double[] t = new double[Math.max(1, reps)];
        try {
            timeSteps(model, data, noise, prompts, opt, t);
        } catch (OutOfMemoryError e) {
            System.err.printf("step %s: out of memory at B=%d with a %.1f GB heap; time a smaller batch (--batch 16) and/or give the JVM more "
                    + "(MLIP_JAVA_OPTS=-Xmx18g)%n", cfg.name, b, Runtime.getRuntime().maxMemory() / 1e9);
            return 1;
        }
        Arrays.sort(t);
        double med = t[t.length / 2];
        String at = batch == null && dev.equals(Device.CPU) ? "" : String.format(" (B=%d on %s)", b, dev);
        System.out.printf("step %s%s ms=%.1f gflops=%.1f (%.2f GFLOP of matmul per step)%n", cfg.name, at, med, gflop / (med / 1e3), gflop);
        return 0;
    }

    /** Runs the warm-up and timed steps; t[i] = ms of timed step i. */
    private void timeSteps(MlipModel model, Batch data, Generator noise, Prompts prompts, AdamW opt, double[] t) {
        for (int i = -Math.max(0, warmup); i < t.length; i++) {
            long t0 = System.nanoTime();
            MlipLoss.Terms terms = MlipLoss.compute(model, data, noise, prompts);
            opt.zeroGrad();
            terms.total().backward();
            opt.step();
            terms.total().item();                                            // waits for a device to finish the step
            if (i >= 0) t[i] = (System.nanoTime() - t0) / 1e6;
            if (i == t.length - 1) {
                StringBuilder sb = new StringBuilder();
                for (var e : terms.terms().entrySet()) sb.append(' ').append(e.getKey()).append('=').append(String.format("%.3f", e.getValue().item()));
                System.out.println("terms" + sb);
            }
        }
    }

    /** Matmul FLOPs of one training step: forward products x 3 (forward + two backward products). */
    static double flops(MlipConfig c) {
        double b = c.optim.batchSize;
        double pp = c.vision.patch * c.vision.patch;
        int n = c.numPatches(), k = c.keptPatches(), dv = c.vision.dim, dt = c.text.dim, t = c.text.maxLen, e = c.loss.projDim;
        double tv = k + 1;
        double fwd = 2 * b * n * pp * dv                                                          // patch embedding (all patches)
                + c.vision.depth * block(b, tv, dv, c.vision.mlp)                                  // ViT on kept patches
                + c.text.depth * block(b, t, dt, c.text.mlp)                                       // text encoder
                + 2 * b * (dv * e * (1 + k)) + 2 * b * (dt * e * (1 + c.text.maxSentences))         // projections
                + 2 * b * c.text.maxSentences * t * dt;                                            // sentence pooling
        if (c.loss.mim && c.loss.mask) {
            int dd = c.loss.decoderDim;
            fwd += 2 * b * k * dv * dd + c.loss.decoderDepth * block(b, n, dd, 2 * dd) + 2 * b * n * dd * pp;
        }
        if (c.loss.local) fwd += 2 * b * b * k * c.text.maxSentences * e;                       // OT cosine blocks
        return 3 * fwd;
    }

    private static double block(double b, double tokens, int d, int mlp) {
        return 2 * b * tokens * d * (3.0 * d) + 2 * b * tokens * d * d + 2 * 2 * b * tokens * tokens * d + 2 * 2 * b * tokens * d * mlp;
    }
}
