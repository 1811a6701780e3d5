package mlip.bench;

import java.util.List;
import java.util.concurrent.Callable;
import mlip.cuda.JCudaDevice;
import mlip.cuda.KernelLab;
import mlip.tensor.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mlip bench kernels [--device cuda|cuda-emu]}: the kernel lab. Every version of every CUDA kernel
 * family is checked against a plain Java reference, then the passing versions are timed (CUDA events,
 * L2 flushed) and printed in GB/s or GFLOP/s beside the device's roofline. On {@code cuda-emu} the
 * checks are real and the times are labelled as not meaningful.
 */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = "Check every CUDA kernel version against its CPU reference, then time the passing ones.")
public final class KernelsBench implements Callable<Integer> {

    @Option(names = "--device", defaultValue = "cuda", description = "cuda[:i] (a GPU) or cuda-emu (the CPU emulator). Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--size", description = "SMALL or LARGE problems (default: LARGE on a GPU, SMALL on cuda-emu).")
    KernelLab.Size size;

    @Option(names = "--reps", defaultValue = "5", description = "Timed runs per kernel; the median is reported.")
    int reps;

    @Override
    public Integer call() {
        Device d = Device.parse(device);
        JCudaDevice dev;
        try {
            dev = JCudaDevice.open(d);
        } catch (RuntimeException e) {
            System.err.println("bench kernels: " + e.getMessage());
            return 1;
        }
        KernelLab.Size s = size != null ? size : dev.isEmulator() ? KernelLab.Size.SMALL : KernelLab.Size.LARGE;
        List<KernelLab.Result> results = new KernelLab(dev, s).run(System.out, Math.max(1, reps));
        long failed = results.stream().filter(r -> !r.passed()).count();
        System.out.printf("%d kernel versions checked, %d failed%n", results.size(), failed);
        return failed == 0 ? 0 : 1;
    }
}
