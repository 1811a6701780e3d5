package mlip.tensor;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Host-device copy counters, kept by device backends (the CUDA driver wrapper counts every copy), so a test
 * can assert that a training step copies only what it must: the batch in, the loss values out. A silent
 * fallback to the CPU would show up here as extra copies.
 *
 * <pre>{@code
 * DeviceTransfers.Count before = DeviceTransfers.count();
 * trainer.runUntil(step + 1);
 * DeviceTransfers.Count step = DeviceTransfers.count().minus(before);   // step.hostToDevice(), step.deviceToHost()
 * }</pre>
 */
public final class DeviceTransfers {
    private static final AtomicLong H2D = new AtomicLong(), D2H = new AtomicLong(), H2D_BYTES = new AtomicLong(), D2H_BYTES = new AtomicLong();

    private DeviceTransfers() {
    }

    /** Copies and bytes in each direction since the JVM started (or between two counts, by {@link #minus}). */
    public record Count(long hostToDevice, long deviceToHost, long hostToDeviceBytes, long deviceToHostBytes) {
        public Count minus(Count earlier) {
            return new Count(hostToDevice - earlier.hostToDevice, deviceToHost - earlier.deviceToHost,
                    hostToDeviceBytes - earlier.hostToDeviceBytes, deviceToHostBytes - earlier.deviceToHostBytes);
        }
    }

    public static Count count() {
        return new Count(H2D.get(), D2H.get(), H2D_BYTES.get(), D2H_BYTES.get());
    }

    /** Called by a device backend for every host-to-device copy. */
    public static void hostToDevice(long bytes) {
        H2D.incrementAndGet();
        H2D_BYTES.addAndGet(bytes);
    }

    /** Called by a device backend for every device-to-host copy. */
    public static void deviceToHost(long bytes) {
        D2H.incrementAndGet();
        D2H_BYTES.addAndGet(bytes);
    }
}
