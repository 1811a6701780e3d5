package mlip.cuda;

import mlip.tensor.Device;

/** The conformance suite on the emulator: every kernel runs here on every build, GPU or not. */
class CudaEmuConformanceTest extends BackendConformance {
    private static final Device EMU = Device.parse("cuda-emu");

    @Override
    protected Device device() {
        return EMU;
    }
}
