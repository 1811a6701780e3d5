package mlip.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.net.URL;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import mlip.tensor.DType;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads a file PyTorch wrote (tools/reference/make_optim_io_golden.py): BF16, F16 and I64 tensors stored as torch
 * stores them, each beside torch's own conversion to F32/I32. Our conversions must agree bit for bit.
 */
class SafetensorsTorchGoldenTest {
    @TempDir
    Path dir;

    private static Map<String, Tensor> golden() throws Exception {
        URL u = SafetensorsTorchGoldenTest.class.getResource("/golden/dtypes.safetensors");
        assertNotNull(u, "golden/dtypes.safetensors is missing from the test resources; run tools/reference/make_optim_io_golden.py");
        return Safetensors.read(Path.of(u.toURI()));
    }

    @Test
    void halfPrecisionAndI64ConvertAsTorchConverts() throws Exception {
        Map<String, Tensor> t = golden();
        for (String k : List.of("bf16", "f16", "i64", "f16.scalar")) {
            Tensor ours = t.get(k), torch = t.get(k + (k.startsWith("i64") ? ".as_i32" : ".as_f32"));
            SafetensorsTest.assertBitEqual(k, torch, ours);
        }
        assertEquals(DType.F32, t.get("bf16").dtype());
        assertArrayEquals(new int[]{2, 5}, t.get("bf16").shape());
        assertArrayEquals(new int[0], t.get("f16.scalar").shape());
        assertArrayEquals(new int[]{0, 3}, t.get("bf16.empty").shape());
        assertEquals(Float.POSITIVE_INFINITY, t.get("f16").toFloatArray()[8], "1e30 overflows F16 to inf");
    }

    @Test
    void aTorchWrittenFileSurvivesOurRewrite() throws Exception {
        Map<String, Tensor> t = golden();
        Path f = dir.resolve("copy.safetensors");
        Safetensors.write(f, t);
        Map<String, Tensor> back = Safetensors.read(f);
        assertEquals(List.copyOf(t.keySet()), List.copyOf(back.keySet()));
        for (String k : t.keySet()) SafetensorsTest.assertBitEqual(k, t.get(k), back.get(k));
    }
}
