package mlip.tensor;

import java.util.Optional;

/**
 * How a backend that lives in another module (CUDA) makes itself known: list the implementation in
 * {@code META-INF/services/mlip.tensor.BackendProvider}.
 */
public interface BackendProvider {
    /** The backend for {@code device}, or empty when this provider does not serve that device type. */
    Optional<Backend> backendFor(Device device);
}
