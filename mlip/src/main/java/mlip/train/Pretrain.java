package mlip.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mlip.data.MimicCxrJpg;
import mlip.data.Study;
import mlip.model.MlipConfig;
import mlip.model.MlipModel;
import mlip.model.PretrainedWeights;
import mlip.model.Prompts;
import mlip.tensor.Device;
import mlip.tensor.Generator;
import mlip.text.WordPieceTokenizer;

/**
 * One pretraining run from a config and a MIMIC-CXR-JPG-layout directory: the vocabulary (loaded from
 * {@code text.vocabFile} or the {@code vocab.txt} of the {@code text.pretrained} BERT directory, from the run
 * directory when resuming, or trained on the training reports; kept as {@code run/vocab.txt} in every case,
 * which evaluation reads), the data in memory, the model (a fresh run starts from the pretrained encoders
 * the config names, a resumed one from its checkpoint), the {@link Trainer}.
 *
 * <pre>{@code
 * Pretrain.Run r = Pretrain.prepare(MlipConfig.load("demo-tiny"), Path.of("runs/demo/synthcxr"), Path.of("runs/demo/mlip"), true);
 * r.trainer().run();
 * }</pre>
 */
public final class Pretrain {
    private Pretrain() {
    }

    public record Run(MlipConfig cfg, WordPieceTokenizer tokenizer, TrainData data, MlipModel model, Trainer trainer, boolean resumed) {
    }

    /** Builds everything; with {@code resume}, continues from the run directory's latest checkpoint when there is one. */
    public static Run prepare(MlipConfig cfg, Path dataRoot, Path run, boolean resume) {
        return prepare(cfg, dataRoot, run, resume, Device.CPU);
    }

    /** As {@link #prepare(MlipConfig, Path, Path, boolean)}, training on {@code device} (the model is built on the CPU, then moved). */
    public static Run prepare(MlipConfig cfg, Path dataRoot, Path run, boolean resume, Device device) {
        try {
            Files.createDirectories(run);
            WordPieceTokenizer tok = vocabulary(cfg, dataRoot, run);
            cfg.text.vocab = tok.vocabSize(); // a trained vocabulary keeps its whole alphabet, so it may exceed the request
            MlipModel model = new MlipModel(cfg, new Generator(cfg.seed));
            // Pretrained encoders for a fresh run only (the run's checkpoint wins on resume); loaded before the
            // data, so pretrained weights that do not fit the config fail at once, not after the data load.
            boolean fresh = !resume || Checkpoint.latestDir(run) == null;
            if (fresh) model.loadPretrained().forEach(r -> System.err.println("pretrained: " + r.summary()));
            long t0 = System.nanoTime();
            TrainData data = TrainData.load(dataRoot, "train", tok, cfg.vision.imageSize, cfg.text.maxLen, cfg.text.maxSentences, cfg.data.maxStudies,
                    new java.util.HashSet<>(cfg.data.viewPositions), TrainData.IN_MEMORY_BYTES);
            System.err.printf("data: %d training studies from %s (%.1f s)%n", data.size(), dataRoot, (System.nanoTime() - t0) / 1e9);
            model.to(device);
            Prompts prompts = Prompts.continuous(tok, cfg.loss.promptContext, 16);
            Trainer trainer = new Trainer(cfg, model, data, prompts, run);
            boolean resumed = resume && trainer.resume();
            if (!resumed) Files.writeString(run.resolve("config.json"), cfg.toJson());
            return new Run(cfg, tok, data, model, trainer, resumed);
        } catch (IOException e) {
            throw new UncheckedIOException(run + ": " + e.getMessage(), e);
        }
    }

    /**
     * The run's vocabulary: an explicit file, the pretrained BERT's (with its tokenizer_config's casing, which
     * is written into {@code cfg}), the one saved in the run, or one trained on the training reports.
     */
    static WordPieceTokenizer vocabulary(MlipConfig cfg, Path dataRoot, Path run) throws IOException {
        Path saved = run.resolve("vocab.txt");
        if (cfg.text.vocabFile != null || cfg.text.pretrained != null) {
            Path file;
            if (cfg.text.vocabFile != null) {
                file = Path.of(cfg.text.vocabFile);
            } else {
                Path dir = Path.of(cfg.text.pretrained);
                cfg.text.lowercase = PretrainedWeights.bertLowercase(dir, cfg.text.lowercase);
                file = dir.resolve("vocab.txt");
            }
            WordPieceTokenizer tok = WordPieceTokenizer.load(file, cfg.text.lowercase);
            tok.save(saved); // evaluation (Pretrained.load) reads the run's copy
            return tok;
        }
        if (Files.exists(saved)) return WordPieceTokenizer.load(saved, cfg.text.lowercase);
        List<String> corpus = new ArrayList<>();
        for (Study s : MimicCxrJpg.load(dataRoot).studies("train")) {
            try {
                corpus.addAll(TrainData.sentences(Files.readString(s.report())));
            } catch (IOException e) {
                // an unreadable report is skipped here as the loader skips it
            }
        }
        WordPieceTokenizer tok = WordPieceTokenizer.train(corpus, cfg.text.vocab, cfg.text.lowercase);
        tok.save(saved);
        return tok;
    }
}
