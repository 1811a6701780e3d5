package mlip.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import mlip.io.Safetensors;
import mlip.io.StateDicts;
import mlip.model.MlipConfig;
import mlip.model.MlipModel;
import mlip.tensor.Generator;
import mlip.text.WordPieceTokenizer;

/**
 * A trained model for evaluation: its config, vocabulary and weights, loaded strictly from a run directory
 * (its latest checkpoint) or from one checkpoint directory inside it, in eval mode.
 *
 * <pre>{@code
 * Pretrained p = Pretrained.load(Path.of("runs/demo/mlip"));          // or .../checkpoints/step-001000
 * Embedder e = new Embedder(p.model(), p.tokenizer());
 * }</pre>
 */
public record Pretrained(Path run, Path checkpoint, MlipConfig cfg, WordPieceTokenizer tokenizer, MlipModel model, long step) {

    /** {@code path} is a run directory (config.json, vocab.txt, checkpoints/) or a checkpoint directory in one. */
    public static Pretrained load(Path path) {
        Path ck = Files.exists(path.resolve("model.safetensors")) ? path : Checkpoint.latestDir(path);
        if (ck == null) throw new IllegalArgumentException(path + ": neither a checkpoint directory (model.safetensors) nor a run with checkpoints/latest");
        Path run = Files.exists(path.resolve("config.json")) ? path : ck.getParent().getParent();
        Path config = run.resolve("config.json"), vocab = run.resolve("vocab.txt");
        for (Path p : new Path[]{config, vocab}) {
            if (!Files.exists(p)) throw new IllegalArgumentException(run + ": missing " + p.getFileName() + " (written by pretrain next to checkpoints/)");
        }
        MlipConfig cfg = MlipConfig.load(config.toString());
        WordPieceTokenizer tok = WordPieceTokenizer.load(vocab, cfg.text.lowercase);
        MlipModel model = new MlipModel(cfg, new Generator(cfg.seed));
        try {
            var rep = StateDicts.load(model.namedParameters(), Safetensors.read(ck.resolve("model.safetensors")), true);
            if (!rep.complete()) throw new IllegalArgumentException(ck + ": weights do not match the run's config: " + rep);
        } catch (IOException e) {
            throw new UncheckedIOException(ck + ": " + e.getMessage(), e);
        }
        model.train(false);
        return new Pretrained(run, ck, cfg, tok, model, Checkpoint.load(ck).step());
    }
}
