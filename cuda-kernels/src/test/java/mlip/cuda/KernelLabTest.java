package mlip.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import mlip.tensor.Device;
import org.junit.jupiter.api.Test;

/**
 * Every version of every kernel family (also those the backend does not call: older versions, GELU,
 * layer-norm and cross-entropy backward, AdamW) against its plain Java reference, on the emulator.
 */
class KernelLabTest {

    @Test
    void everyKernelVersionMatchesItsReference() {
        JCudaDevice dev = JCudaDevice.open(Device.parse("cuda-emu"));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<KernelLab.Result> results = new KernelLab(dev, KernelLab.Size.SMALL).run(new PrintStream(buf, true, StandardCharsets.UTF_8), 1);
        String table = buf.toString(StandardCharsets.UTF_8);
        System.out.print(table);
        List<KernelLab.Result> failed = results.stream().filter(r -> !r.passed()).toList();
        assertEquals(List.of(), failed, table);
        assertTrue(table.contains("NOT meaningful"), "emulator timings must be labelled");
        // Each family has its versions: older ones are kept next to the production one.
        Set<String> multi = results.stream().collect(Collectors.groupingBy(KernelLab.Result::family, Collectors.counting()))
                .entrySet().stream().filter(e -> e.getValue() >= 2).map(java.util.Map.Entry::getKey).collect(Collectors.toSet());
        for (String f : List.of("unary (exp)", "binary (add)", "reduce (sum rows)", "softmax", "layernorm forward", "sgemm", "topk mask", "attention forward")) {
            assertTrue(multi.contains(f), f + " should have at least two versions:\n" + table);
        }
    }
}
