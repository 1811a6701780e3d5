package mlip.cuda;

import mlip.tensor.Backends;
import mlip.tensor.Device;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/**
 * The conformance suite on a real GPU (device {@code cuda}). Tagged {@code gpu}: Maven runs it in its own
 * JVM (a process holds one libcuda.so.1, and the emulator's is loaded in the main test JVM). Without a
 * GPU every test is skipped, and the reason is printed.
 */
@Tag("gpu")
class CudaGpuConformanceTest extends BackendConformance {
    private static final Device GPU = Device.parse("cuda");

    private static String noGpu;

    @BeforeAll
    static void probeGpu() {
        try {
            Backends.forDevice(GPU);
        } catch (RuntimeException e) {
            noGpu = "skipping the conformance suite on device cuda: " + e.getMessage();
            System.err.println(noGpu);
        }
    }

    @BeforeEach
    void needsGpu() {
        if (noGpu != null) Assumptions.abort(noGpu); // each test is reported as skipped
    }

    @Override
    protected Device device() {
        return GPU;
    }
}
