package mlip.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import mlip.model.MlipConfig;
import mlip.tensor.Device;
import mlip.tensor.DeviceTransfers;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole MLIP training step (every loss term, backward, clipping, AdamW) on the CUDA emulator against the
 * CPU from the same seed, and the step's host-device traffic.
 *
 * <p>Tolerance: the kernels sum in other orders than the CPU (warp trees, float Sinkhorn), so values agree to
 * float rounding, not bits: loss terms within 1e-5 relative and weights within 1e-5 absolute after 3 steps
 * (the losses of a 3-step CLI run agreed to about 1e-6).
 */
class CudaEmuStepTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void writeData() {
        data = TrainerTest.synth(tmp.resolve("synth"), 24);
    }

    private static MlipConfig tiny() {
        MlipConfig cfg = MlipConfig.load(Path.of("src/test/resources/tiny.yaml").toString());
        cfg.optim.steps = 3;
        cfg.optim.warmupSteps = 1;
        cfg.optim.checkpointEvery = 100;   // only the final checkpoint: step 2 is a pure training step
        cfg.optim.batchSize = 6;
        return cfg;
    }

    @Test
    void aTrainingStepOnCudaEmuMatchesTheCpuAndCopiesOnlyTheBatchInAndTheLossesOut() throws Exception {
        Pretrain.Run cpu = Pretrain.prepare(tiny(), data, tmp.resolve("cpu"), false, Device.CPU);
        cpu.trainer().quiet().run();

        Pretrain.Run emu = Pretrain.prepare(tiny(), data, tmp.resolve("emu"), false, Device.parse("cuda-emu"));
        emu.trainer().quiet().runUntil(1);
        DeviceTransfers.Count before = DeviceTransfers.count();
        emu.trainer().runUntil(2);
        DeviceTransfers.Count step = DeviceTransfers.count().minus(before);
        emu.trainer().run();

        // In: the batch's images, ids, attention mask, sentence pooling, sentence mask and labels.
        // Out: each loss term's value (global, local, mim, label), the total and the gradient norm, plus the
        // index-error flags of the indexing kernels, read in one copy before the first value after the forward
        // and before the gradient norm after the backward (CudaBackend defers them to the next sync).
        assertEquals(6, step.hostToDevice(), "host-to-device copies in one step: " + step);
        assertEquals(6 + 2, step.deviceToHost(), "device-to-host copies in one step: " + step);

        List<JsonNode> a = metrics(tmp.resolve("cpu")), b = metrics(tmp.resolve("emu"));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            for (String term : List.of("global", "local", "mim", "label", "loss", "grad_norm")) {
                double x = a.get(i).get(term).asDouble(), y = b.get(i).get(term).asDouble();
                assertEquals(x, y, 1e-5 * Math.max(1, Math.abs(x)), "step " + (i + 1) + " " + term);
            }
        }
        Map<String, Tensor> wa = cpu.model().stateDict(), wb = emu.model().stateDict();
        assertEquals(wa.keySet(), wb.keySet());
        for (String k : wa.keySet()) {
            assertEquals(Device.parse("cuda-emu"), wb.get(k).device(), k + " left the device");
            double[] x = wa.get(k).toDoubleArray(), y = wb.get(k).to(Device.CPU).toDoubleArray();
            double max = 0;
            for (int i = 0; i < x.length; i++) {
                // A key bias (the text encoder's key.bias, the key third of the ViT's qkv.bias) has an exactly-zero
                // gradient in exact arithmetic (softmax ignores a constant added to every score of a row); AdamW
                // divides its rounding noise by its own size and steps +-lr either way, so no two summation orders
                // agree there. Skipped, for that reason only.
                if (k.endsWith("key.bias") || k.endsWith("qkv.bias") && i >= x.length / 3 && i < 2 * x.length / 3) continue;
                max = Math.max(max, Math.abs(x[i] - y[i]));
            }
            assertTrue(max < 1e-5, k + ": cpu and cuda-emu weights differ by " + max);
        }
    }

    private static List<JsonNode> metrics(Path run) throws Exception {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).toList();
    }
}
