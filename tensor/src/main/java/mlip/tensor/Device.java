package mlip.tensor;

import java.util.Locale;

/**
 * Where a tensor lives: {@code cpu}, {@code cuda} (the real driver) or {@code cuda-emu} (the CPU
 * emulator of the CUDA driver), with an ordinal for multi-device machines.
 *
 * <pre>{@code
 * Device d = Device.parse("cuda:1");   // type "cuda", index 1
 * Tensor x = Tensor.zeros(2, 3).to(Device.CPU);
 * }</pre>
 */
public record Device(String type, int index) {

    public static final Device CPU = new Device("cpu", 0);

    public Device {
        type = type.toLowerCase(Locale.ROOT);
        if (index < 0) throw new IllegalArgumentException("Device: negative index " + index + " for " + type);
    }

    /** Parses {@code "cpu"}, {@code "cuda"}, {@code "cuda:1"}, {@code "cuda-emu"}. */
    public static Device parse(String spec) {
        String s = spec.trim();
        int colon = s.lastIndexOf(':');
        if (colon < 0) return new Device(s, 0);
        try {
            return new Device(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Device: cannot parse '" + spec + "' (expected e.g. cpu, cuda, cuda:1, cuda-emu)");
        }
    }

    public boolean isCpu() {
        return type.equals("cpu");
    }

    @Override
    public String toString() {
        return index == 0 ? type : type + ":" + index;
    }
}
