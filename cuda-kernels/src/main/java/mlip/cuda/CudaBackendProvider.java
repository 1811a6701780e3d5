package mlip.cuda;

import java.util.Optional;
import mlip.tensor.Backend;
import mlip.tensor.BackendProvider;
import mlip.tensor.Device;

/** Serves devices {@code cuda[:i]} (the real driver) and {@code cuda-emu} (the emulator) with a {@link CudaBackend}. */
public final class CudaBackendProvider implements BackendProvider {
    @Override
    public Optional<Backend> backendFor(Device device) {
        String type = device.type();
        if (!type.equals("cuda") && !type.equals("cuda-emu")) return Optional.empty();
        return Optional.of(new CudaBackend(JCudaDevice.open(device)));
    }
}
