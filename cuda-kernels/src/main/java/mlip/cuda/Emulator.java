package mlip.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Makes JCuda bind to the CUDA emulator instead of a real driver.
 *
 * <p>JCuda's JNI library ({@code libJCudaDriver-12.0.0-linux-x86_64.so}) names {@code libcuda.so.1} as a
 * needed library and JCublas2's names {@code libcublas.so.12}. The dynamic linker satisfies a needed
 * library by soname from the libraries already in the process, so loading the emulator's
 * {@code libcuda.so.1} and {@code libcublas.so.12} (built by {@code build-kernels.sh} into this jar's
 * resources) with {@link System#load} <em>before any JCuda class is touched</em> makes JCuda call them.
 * From then on the one device implementation, {@link JCudaDevice}, runs unchanged.
 *
 * <p>A process holds one {@code libcuda.so.1}: after {@link #preload()}, device {@code cuda} is the
 * emulator too, so {@link JCudaDevice} refuses to open both kinds in one JVM.
 */
public final class Emulator {
    private static final String RESOURCE_DIR = "/mlip/cuda/emu/";
    private static volatile boolean loaded;

    private Emulator() {
    }

    /** Loads the emulated driver and cuBLAS once; throws naming what is missing when they were not built. */
    public static synchronized void preload() {
        if (loaded) return;
        Path dir = extract("libcuda.so.1", "libcublas.so.12");
        System.load(dir.resolve("libcuda.so.1").toString());
        System.load(dir.resolve("libcublas.so.12").toString());
        loaded = true;
    }

    /** True once {@link #preload()} ran in this process. */
    public static boolean isLoaded() {
        return loaded;
    }

    // Resources in a jar have no file path: copy them to a private temporary directory (deleted at exit).
    private static Path extract(String... names) {
        try {
            Path dir = Files.createTempDirectory("mlip-cuda-emu");
            dir.toFile().deleteOnExit();
            for (String name : names) {
                try (InputStream in = Emulator.class.getResourceAsStream(RESOURCE_DIR + name)) {
                    if (in == null) {
                        throw new IllegalStateException("cuda-emu: " + name + " is not in the cuda-kernels jar (resource "
                                + RESOURCE_DIR + name + "); it is built by cuda-kernels/build-kernels.sh when g++ is"
                                + " installed — rebuild with g++ on the PATH");
                    }
                    Path p = dir.resolve(name);
                    Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
                    p.toFile().deleteOnExit();
                }
            }
            return dir;
        } catch (IOException e) {
            throw new IllegalStateException("cuda-emu: cannot extract the emulator libraries: " + e.getMessage(), e);
        }
    }
}
