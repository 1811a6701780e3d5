package mlip.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import mlip.tensor.Tolerance;
import org.junit.jupiter.api.Test;

/** The README's cuda-emu example, line for line, checked against the same code on the CPU. */
class CudaReadmeExampleTest {

    @Test
    void readmeExampleRunsOnTheEmulatorAndMatchesTheCpu() {
        Device emu = Device.parse("cuda-emu");                 // "cuda" on a machine with an NVIDIA GPU
        Generator g = new Generator(0);
        Tensor q = Tensor.randn(g, 4, 64, 32).to(emu);         // (B, N, d): copied to (emulated) device memory
        Tensor k = Tensor.randn(g, 4, 64, 32).to(emu);
        Tensor att = q.matmul(k.transpose(1, 2))               // (B, N, N): batched SGEMM through cuBLAS' API
                .mul(1 / Math.sqrt(32))                        // binary_kernel2 on a broadcast scalar
                .softmax(-1);                                  // softmax_forward_kernel2: a warp per row, one pass
        Tensor top = att.topk(5, -1, true).indices();          // topk_kernel1: (B, N, 5) I32
        double[] host = att.to(Device.CPU).toDoubleArray();    // back to the CPU

        Generator c = new Generator(0);
        Tensor qc = Tensor.randn(c, 4, 64, 32), kc = Tensor.randn(c, 4, 64, 32);
        Tensor attCpu = qc.matmul(kc.transpose(1, 2)).mul(1 / Math.sqrt(32)).softmax(-1);
        assertEquals(emu, att.device());
        assertEquals(DType.I32, top.dtype());
        assertEquals(4 * 64 * 64, host.length);
        Tolerance.assertClose("attention", att.to(Device.CPU), attCpu);
        assertArrayEquals(attCpu.topk(5, -1, true).indices().toDoubleArray(), top.to(Device.CPU).toDoubleArray());
    }
}
