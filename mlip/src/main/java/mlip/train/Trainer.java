package mlip.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import mlip.autograd.Variable;
import mlip.io.StateDicts;
import mlip.loss.MlipLoss;
import mlip.model.Batch;
import mlip.model.MlipConfig;
import mlip.model.MlipModel;
import mlip.model.Prompts;
import mlip.optim.AdamW;
import mlip.optim.GradClip;
import mlip.optim.WarmupCosine;
import mlip.tensor.Device;
import mlip.tensor.Generator;

/**
 * The pretraining loop: AdamW with warmup + cosine, global-norm clipping, a progress bar (loss, rate,
 * ETA), metrics as JSON lines, atomic checkpoints every {@code checkpointEvery} steps and at the end.
 *
 * <p><b>Resume is exact.</b> Everything a step depends on is either in the checkpoint (weights, AdamW
 * moments and step counts, the Gumbel generator's Philox offset) or a pure function of the step number
 * (the batch: {@link TrainData#batch}; the learning rate), and the CPU kernels are deterministic. So N
 * steps straight and k steps + resume + (N - k) steps give bit-identical weights (tested).
 *
 * <p>A NaN or infinite loss term stops the run with {@link Diverged}, naming the step and the term; the
 * last good checkpoint stays as it was.
 */
public final class Trainer {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Thrown when a loss term is not finite. */
    public static final class Diverged extends RuntimeException {
        public Diverged(String msg) {
            super(msg);
        }
    }

    public record Result(long steps, double lastLoss, Path checkpoint, double seconds) {
    }

    private final MlipConfig cfg;
    private final MlipModel model;
    private final TrainData data;
    private final Prompts prompts;
    private final Path run;
    private final AdamW opt;
    private final Generator noise;
    private final Device device;   // where the model's parameters live (MlipModel.to): batches follow them
    private boolean progress = true;
    private long step;

    public Trainer(MlipConfig cfg, MlipModel model, TrainData data, Prompts prompts, Path run) {
        this.cfg = cfg;
        this.model = model;
        this.data = data;
        this.device = model.logitScale.value().device();
        this.prompts = prompts == null ? null : prompts.to(device);
        this.run = run;
        var o = cfg.optim;
        this.opt = new AdamW(model.namedParameters(), o.lr, o.beta1, o.beta2, 1e-8, o.weightDecay);
        this.noise = new Generator(cfg.seed, 1, 0);
    }

    /** Turns the progress bar off (tests, logs). */
    public Trainer quiet() {
        progress = false;
        return this;
    }

    // Without a terminal (logs, CI) a redrawing bar would write a line per update: print a plain line every 10%.
    private static final boolean TERMINAL = System.console() != null;

    /** Restores weights, optimizer, RNG offset and the step from the run's latest checkpoint; false if none. */
    public boolean resume() {
        Checkpoint.Loaded ck = Checkpoint.loadLatest(run);
        if (ck == null) return false;
        var rep = StateDicts.load(model.namedParameters(), ck.model(), true);
        if (!rep.missing().isEmpty() || !rep.unexpected().isEmpty()) {
            throw new IllegalStateException("resume from " + ck.dir() + ": checkpoint does not match the model: " + rep);
        }
        opt.loadStateDict(ck.optimizer());
        noise.take(ck.trainer().get("noise_offset").asLong() - noise.offset());
        step = ck.step();
        return true;
    }

    public long step() {
        return step;
    }

    /** Trains until {@code cfg.optim.steps}. */
    public Result run() {
        return runUntil(cfg.optim.steps);
    }

    /** Trains until step {@code stop} (at most the configured steps), as if the run were interrupted there. */
    public Result runUntil(long stop) {
        var o = cfg.optim;
        long end = Math.min(stop, o.steps);
        WarmupCosine sched = new WarmupCosine(o.lr, o.warmupSteps, o.steps, o.minLr);
        long t0 = System.nanoTime(), startStep = step;
        double last = Double.NaN;
        Path lastCk = null; // this call's last checkpoint, for the result
        try (BufferedWriter metrics = Files.newBufferedWriter(metricsFile(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
             ProgressBar bar = progress && TERMINAL ? new ProgressBarBuilder().setTaskName("pretrain").setInitialMax(o.steps).setStyle(ProgressBarStyle.ASCII)
                     .setUpdateIntervalMillis(1000).showSpeed().build() : null) {
            if (bar != null) bar.stepTo(step);
            while (step < end) {
                long ts = System.nanoTime();
                double lr = sched.lr(step);
                opt.setLr(lr);
                Batch batch = data.batch(step, o.batchSize, cfg.seed).to(device);     // the only host-to-device copies of a step
                MlipLoss.Terms terms = MlipLoss.compute(model, batch, noise, prompts, step);
                ObjectNode line = JSON.createObjectNode().put("step", step + 1);
                for (Map.Entry<String, Variable> e : terms.terms().entrySet()) {
                    double v = e.getValue().item();
                    if (!Double.isFinite(v)) {
                        Path good = Checkpoint.latestDir(run);
                        throw new Diverged("step " + (step + 1) + ": loss term '" + e.getKey() + "' is " + v + "; stopping"
                                + (good != null ? " (last good checkpoint: " + good + ")" : " (no checkpoint was written yet)"));
                    }
                    line.put(e.getKey(), v);
                }
                opt.zeroGrad();
                terms.total().backward();
                double gnorm = GradClip.clipGlobalNorm(model.namedParameters().values(), o.gradClip);
                opt.step();
                step++;
                last = terms.total().item();
                line.put("loss", last).put("lr", lr).put("grad_norm", gnorm).put("ms", (System.nanoTime() - ts) / 1e6);
                if (step % o.logEvery == 0 || step == o.steps) {
                    metrics.write(JSON.writeValueAsString(line));
                    metrics.newLine();
                    metrics.flush();
                }
                if (bar != null) {
                    bar.setExtraMessage(String.format("loss %.3f", last));
                    bar.step();
                } else if (progress && (step % Math.max(1, o.steps / 10) == 0 || step == end)) {
                    double el = (System.nanoTime() - t0) / 1e9;
                    System.err.printf("pretrain step %d/%d loss %.4f %.2f steps/s%n", step, o.steps, last, (step - startStep) / Math.max(1e-9, el));
                }
                if (step % o.checkpointEvery == 0 || step == o.steps) lastCk = checkpoint();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(run.resolve("metrics.jsonl") + ": " + e.getMessage(), e);
        }
        return new Result(step, last, lastCk, (System.nanoTime() - t0) / 1e9);
    }

    /** Writes a checkpoint of the current state now. */
    public Path checkpoint() {
        ObjectNode state = Checkpoint.newState();
        state.put("noise_offset", noise.offset());
        state.put("seed", cfg.seed);
        state.put("config", cfg.toJson());
        return Checkpoint.save(run, step, model.stateDict(), opt.stateDict(), state);
    }

    private Path metricsFile() throws IOException {
        Files.createDirectories(run);
        return run.resolve("metrics.jsonl");
    }
}
