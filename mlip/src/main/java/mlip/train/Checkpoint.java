package mlip.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import mlip.io.Safetensors;
import mlip.tensor.Tensor;

/**
 * Checkpoints of a run directory, written so that a crash never leaves a half-written one behind:
 *
 * <pre>
 *   run/checkpoints/step-000250/model.safetensors       the model's state dict
 *   run/checkpoints/step-000250/optimizer.safetensors   AdamW moments and step counts
 *   run/checkpoints/step-000250/trainer.json            step, config, RNG offset, vocabulary file
 *   run/checkpoints/latest                              "step-000250"
 * </pre>
 *
 * A checkpoint is assembled in a temporary directory and renamed into place (atomic on one file
 * system); {@code latest} is replaced the same way afterwards, so it always names a complete one.
 */
public final class Checkpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a checkpoint holds. */
    public record Loaded(Path dir, Map<String, Tensor> model, Map<String, Tensor> optimizer, JsonNode trainer) {
        public long step() {
            return trainer.get("step").asLong();
        }
    }

    private Checkpoint() {
    }

    public static Path root(Path run) {
        return run.resolve("checkpoints");
    }

    /** Writes step {@code step}'s checkpoint and points {@code latest} at it; returns its directory. */
    public static Path save(Path run, long step, Map<String, Tensor> model, Map<String, Tensor> optimizer, ObjectNode trainer) {
        try {
            Path root = root(run);
            Files.createDirectories(root);
            String name = String.format("step-%06d", step);
            Path tmp = Files.createTempDirectory(root, name + ".tmp-");
            Safetensors.write(tmp.resolve("model.safetensors"), model);
            Safetensors.write(tmp.resolve("optimizer.safetensors"), optimizer);
            trainer.put("step", step);
            Files.writeString(tmp.resolve("trainer.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(trainer));
            Path dst = root.resolve(name);
            if (Files.exists(dst)) deleteTree(dst);
            move(tmp, dst);
            Path latestTmp = Files.createTempFile(root, "latest", ".tmp");
            Files.writeString(latestTmp, name + "\n", StandardCharsets.UTF_8);
            move(latestTmp, root.resolve("latest"));
            return dst;
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint of step " + step + " in " + run + ": " + e.getMessage(), e);
        }
    }

    /** The directory {@code latest} names, or null when the run has none. */
    public static Path latestDir(Path run) {
        Path latest = root(run).resolve("latest");
        if (!Files.exists(latest)) return null;
        try {
            return root(run).resolve(Files.readString(latest).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(latest + ": " + e.getMessage(), e);
        }
    }

    /** The checkpoint {@code latest} names, or null when the run has none. */
    public static Loaded loadLatest(Path run) {
        Path dir = latestDir(run);
        return dir == null ? null : load(dir);
    }

    public static Loaded load(Path dir) {
        try {
            return new Loaded(dir, Safetensors.read(dir.resolve("model.safetensors")), Safetensors.read(dir.resolve("optimizer.safetensors")),
                    JSON.readTree(dir.resolve("trainer.json").toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint " + dir + ": " + e.getMessage(), e);
        }
    }

    static ObjectNode newState() {
        return JSON.createObjectNode();
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Deletes a directory tree (children first). */
    public static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
