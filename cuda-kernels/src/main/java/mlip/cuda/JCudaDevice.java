package mlip.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import mlip.tensor.Device;

/**
 * One CUDA device through JCuda: the same code drives a real GPU ({@code cuda}) and the emulator
 * ({@code cuda-emu}, whose {@code libcuda.so.1} is preloaded by {@link Emulator}).
 *
 * <p>What it does: loads the PTX of every kernel family from the jar ({@code cuModuleLoadData}, NUL
 * terminated; compute_90 PTX on sm_90+ devices, compute_80 otherwise), maps kernel names to functions,
 * retains the primary context (the one cuBLAS uses too), and launches with typed arguments on the
 * default stream. JCuda exceptions are enabled, so every failing call throws; {@link #launch} adds the
 * kernel, the geometry and the driver's error string (the emulator's names the block and threads).
 *
 * <pre>{@code
 * JCudaDevice dev = JCudaDevice.open(Device.parse("cuda-emu"));
 * CUdeviceptr x = dev.alloc(4L * n);
 * dev.launch("fill_kernel1_f32", dev.grid1d(n), 256, 0, x, n, 1.0);
 * }</pre>
 *
 * <p>Thread safety: every method is synchronized; one stream serialises the work anyway.
 */
public final class JCudaDevice {
    /** The kernel families: one {@code .cu} file, one PTX module each. */
    static final List<String> FAMILIES = List.of("elementwise", "gelu", "reduce", "random", "indexing", "adamw",
            "softmax", "layernorm", "crossentropy", "sgemm", "topk", "topk_mask", "patch_sentence_ot", "attention");

    private static final Pattern ENTRY = Pattern.compile("^\\.visible \\.entry (\\w+)\\(", Pattern.MULTILINE);
    private static final Map<Device, JCudaDevice> OPEN = new HashMap<>();
    private static String kind; // "cuda" or "cuda-emu": one driver per process

    private final Device device;
    private final CUcontext context = new CUcontext();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final String name;
    private final int smCount, ccMajor, ccMinor;
    private final cublasHandle cublas; // null when libcublas.so.12 is not there
    private final String cublasProblem;

    /**
     * The device for {@code cuda[:i]} or {@code cuda-emu}, opened once per process. Throws a one-line
     * {@link IllegalStateException} naming what is missing (driver, device, PTX).
     */
    public static synchronized JCudaDevice open(Device device) {
        String type = device.type();
        if (!type.equals("cuda") && !type.equals("cuda-emu")) throw new IllegalArgumentException("JCudaDevice: not a CUDA device: " + device);
        if (kind != null && !kind.equals(type)) {
            throw new IllegalStateException(type + ": this process already uses " + kind + "; one process holds one libcuda.so.1"
                    + " (the real driver or the emulator), so cuda and cuda-emu cannot be mixed");
        }
        JCudaDevice d = OPEN.get(device);
        if (d == null) {
            if (type.equals("cuda-emu")) Emulator.preload();
            d = new JCudaDevice(device);
            OPEN.put(device, d);
            kind = type;
        }
        return d;
    }

    private JCudaDevice(Device device) {
        this.device = device;
        boolean emu = device.type().equals("cuda-emu");
        try {
            JCudaDriver.setExceptionsEnabled(true);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            String why = String.valueOf(e.getMessage()).contains("libcuda.so.1") ? "libcuda.so.1 cannot be loaded" : firstLine(e);
            throw new IllegalStateException(device + ": no CUDA driver (" + why + "); install the NVIDIA driver, or use --device cuda-emu");
        }
        CUdevice dev = new CUdevice();
        try {
            cuInit(0);
            int[] count = {0};
            cuDeviceGetCount(count);
            if (device.index() >= count[0]) {
                throw new IllegalStateException(device + ": no such device (" + count[0] + " CUDA device(s) present)");
            }
            cuDeviceGet(dev, device.index());
            cuDevicePrimaryCtxRetain(context, dev);
            cuCtxSetCurrent(context);
        } catch (CudaException e) {
            throw new IllegalStateException(device + ": the CUDA driver has no usable device (" + e.getMessage() + ")");
        }
        byte[] nameBytes = new byte[256];
        cuDeviceGetName(nameBytes, nameBytes.length, dev);
        name = new String(nameBytes, StandardCharsets.US_ASCII).trim().replace("\0", "");
        smCount = attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        ccMajor = attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        ccMinor = attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        loadModules(ccMajor >= 9 ? "compute_90" : "compute_80", emu);

        // cuBLAS shares the primary context (cublasCreate binds to the current one).
        cublasHandle h = null;
        String problem = null;
        try {
            JCublas2.setExceptionsEnabled(true);
            h = new cublasHandle();
            JCublas2.cublasCreate(h);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | CudaException e) {
            h = null;
            problem = firstLine(e);
        }
        cublas = h;
        cublasProblem = problem;
    }

    private static int attribute(CUdevice dev, int attr) {
        int[] v = {0};
        cuDeviceGetAttribute(v, attr, dev);
        return v[0];
    }

    private void loadModules(String arch, boolean emu) {
        for (String family : FAMILIES) {
            String resource = "/mlip/cuda/ptx/" + arch + "/" + family + ".ptx";
            byte[] ptx = readResource(resource);
            if (ptx == null) {
                throw new IllegalStateException(device + ": kernel PTX " + resource + " is not in the cuda-kernels jar; it is built"
                        + " by cuda-kernels/build-kernels.sh when nvcc is installed — rebuild with nvcc on the PATH");
            }
            // cuModuleLoadData takes a NUL-terminated image.
            byte[] image = new byte[ptx.length + 1];
            System.arraycopy(ptx, 0, image, 0, ptx.length);
            CUmodule module = new CUmodule();
            cuModuleLoadData(module, image);
            Matcher m = ENTRY.matcher(new String(ptx, StandardCharsets.US_ASCII));
            while (m.find()) {
                CUfunction f = new CUfunction();
                cuModuleGetFunction(f, module, m.group(1));
                functions.put(m.group(1), f);
            }
        }
    }

    private static byte[] readResource(String path) {
        try (InputStream in = JCudaDevice.class.getResourceAsStream(path)) {
            if (in == null) return null;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private static String firstLine(Throwable e) {
        String s = String.valueOf(e.getMessage());
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    public Device device() {
        return device;
    }

    /** The device name the driver reports (the emulator says so in its name). */
    public String name() {
        return name;
    }

    public int multiprocessorCount() {
        return smCount;
    }

    /** Compute capability as {major, minor}. */
    public int[] computeCapability() {
        return new int[]{ccMajor, ccMinor};
    }

    /** True when GEMMs can go through cuBLAS ({@code libcublas.so.12} loaded). */
    public boolean hasCublas() {
        return cublas != null;
    }

    /** Why cuBLAS is not available, or null. */
    public String cublasProblem() {
        return cublasProblem;
    }

    cublasHandle cublas() {
        if (cublas == null) throw new IllegalStateException(device + ": cuBLAS is not available (" + cublasProblem + ")");
        return cublas;
    }

    /** True when a kernel of this name was loaded. */
    public boolean hasKernel(String kernel) {
        return functions.containsKey(kernel);
    }

    // ------------------------------------------------------------------ memory

    /** {@code bytes} of device memory (at least 4, so empty tensors still own a valid pointer); not zeroed. */
    public synchronized CUdeviceptr alloc(long bytes) {
        cuCtxSetCurrent(context);
        CUdeviceptr p = new CUdeviceptr();
        cuMemAlloc(p, Math.max(4, bytes));
        return p;
    }

    public synchronized void free(CUdeviceptr p) {
        cuCtxSetCurrent(context); // the cleaner thread frees too
        cuMemFree(p);
    }

    public synchronized void zero(CUdeviceptr p, long bytes) {
        cuCtxSetCurrent(context); // the driver needs it current on the calling thread
        if (bytes > 0) cuMemsetD8(p, (byte) 0, bytes);
    }

    /** {@code -Dmlip.cuda.traceCopies=true}: print the Java caller of every host-device copy (finding syncs that should not be there). */
    private static final boolean TRACE_COPIES = Boolean.getBoolean("mlip.cuda.traceCopies");

    private static void traceCopy(String what, long bytes) {
        StringBuilder sb = new StringBuilder("copy " + what + " " + bytes + " B");
        StackWalker.getInstance().walk(f -> f.skip(2).limit(6).toList()).forEach(f -> sb.append(" < ").append(f.getClassName().replaceAll(".*\\.", "")).append('.').append(f.getMethodName()));
        System.err.println(sb);
    }

    public synchronized void copyHtoD(CUdeviceptr dst, Pointer src, long bytes) {
        cuCtxSetCurrent(context); // the driver needs it current on the calling thread
        if (bytes > 0) cuMemcpyHtoD(dst, src, bytes);
        mlip.tensor.DeviceTransfers.hostToDevice(bytes);
        if (TRACE_COPIES) traceCopy("host-to-device", bytes);
    }

    public synchronized void copyDtoH(Pointer dst, CUdeviceptr src, long bytes) {
        cuCtxSetCurrent(context); // the driver needs it current on the calling thread
        if (bytes > 0) cuMemcpyDtoH(dst, src, bytes);
        mlip.tensor.DeviceTransfers.deviceToHost(bytes);
        if (TRACE_COPIES) traceCopy("device-to-host", bytes);
    }

    public synchronized void copyDtoD(CUdeviceptr dst, CUdeviceptr src, long bytes) {
        cuCtxSetCurrent(context); // the driver needs it current on the calling thread
        if (bytes > 0) cuMemcpyDtoD(dst, src, bytes);
    }

    public synchronized void synchronize() {
        cuCtxSetCurrent(context); // the driver needs it current on the calling thread
        cuCtxSynchronize();
    }

    // ------------------------------------------------------------------ launches

    /** Blocks for a grid-stride kernel over {@code n} elements with 256 threads: capped at 32 per SM. */
    public int grid1d(int n) {
        int blocks = (n + 255) / 256;
        return Math.max(1, Math.min(blocks, 32 * smCount));
    }

    /** A 1-d launch: {@code blocks} x {@code threads}. */
    public void launch(String kernel, int blocks, int threads, int sharedBytes, Object... args) {
        launch(kernel, new int[]{blocks, 1, 1}, new int[]{threads, 1, 1}, sharedBytes, args);
    }

    /**
     * Launches {@code kernel} on the default stream. Arguments: {@link CUdeviceptr} (a null pointer is
     * {@code new CUdeviceptr()}), {@link Integer}, {@link Long}, {@link Float}, {@link Double}, and
     * {@code int[]} for a struct passed by value (e.g. a {@code Layout}).
     */
    public synchronized void launch(String kernel, int[] grid, int[] block, int sharedBytes, Object... args) {
        CUfunction f = functions.get(kernel);
        if (f == null) throw new IllegalArgumentException(device + ": no kernel named '" + kernel + "' in the loaded PTX");
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case CUdeviceptr p -> Pointer.to(p);
                case Integer v -> Pointer.to(new int[]{v});
                case Long v -> Pointer.to(new long[]{v});
                case Float v -> Pointer.to(new float[]{v});
                case Double v -> Pointer.to(new double[]{v});
                case int[] struct -> Pointer.to(struct);
                default -> throw new IllegalArgumentException("launch " + kernel + ": unsupported argument type "
                        + args[i].getClass().getName() + " at position " + i);
            };
        }
        try {
            cuCtxSetCurrent(context);
            cuLaunchKernel(f, grid[0], grid[1], grid[2], block[0], block[1], block[2], sharedBytes, null, Pointer.to(params), null);
        } catch (CudaException e) {
            throw new IllegalStateException(device + ": launch of " + kernel + " grid " + java.util.Arrays.toString(grid) + " block "
                    + java.util.Arrays.toString(block) + " shared " + sharedBytes + " failed: " + e.getMessage() + errorDetail(e.getMessage()), e);
        }
    }

    // The driver's text for an error name (JCuda's exception carries only the CUresult name); the
    // emulator answers with the kernel, block and threads of the last failure.
    private static String errorDetail(String resultName) {
        try {
            int code = jcuda.driver.CUresult.class.getField(resultName.trim()).getInt(null);
            String[] s = {null};
            cuGetErrorString(code, s);
            return s[0] == null ? "" : " (" + s[0] + ")";
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "";
        }
    }

    /** Milliseconds of device time {@code work} takes, measured with CUDA events around it. */
    public synchronized float time(Runnable work) {
        cuCtxSetCurrent(context);
        CUevent start = new CUevent(), stop = new CUevent();
        cuEventCreate(start, 0);
        cuEventCreate(stop, 0);
        try {
            cuEventRecord(start, null);
            work.run();
            cuEventRecord(stop, null);
            cuEventSynchronize(stop);
            float[] ms = {0};
            cuEventElapsedTime(ms, start, stop);
            return ms[0];
        } finally {
            cuEventDestroy(start);
            cuEventDestroy(stop);
        }
    }

    /** True when this device is the emulator (its timings mean nothing). */
    public boolean isEmulator() {
        return device.type().equals("cuda-emu");
    }
}
