package mlip.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import mlip.tensor.cpu.CpuBackend;

/** Finds the backend of a {@link Device}: {@code cpu} is built in, others come from {@link BackendProvider}s. */
public final class Backends {
    private static final Map<Device, Backend> CACHE = new ConcurrentHashMap<>();

    private Backends() {
    }

    /** The backend for {@code device}; throws naming the device and what is available when none serves it. */
    public static Backend forDevice(Device device) {
        if (device.isCpu()) return CpuBackend.defaultBackend();
        return CACHE.computeIfAbsent(device, d -> {
            List<String> seen = new ArrayList<>();
            for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
                seen.add(p.getClass().getName());
                var b = p.backendFor(d);
                if (b.isPresent()) return b.get();
            }
            throw new IllegalArgumentException("no backend for device '" + d + "' (providers on the class path: "
                    + (seen.isEmpty() ? "none; only cpu is available" : String.join(", ", seen)) + ")");
        });
    }
}
