package mlip.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasOperation;
import mlip.tensor.Backend;
import mlip.tensor.BinaryOp;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Distribution;
import mlip.tensor.ReduceOp;
import mlip.tensor.Reduction;
import mlip.tensor.Shape;
import mlip.tensor.Storage;
import mlip.tensor.Tensor;
import mlip.tensor.UnaryOp;

/**
 * The CUDA backend: every {@link Backend} op as a launch of a hand-written kernel (cuda-kernels/KERNELS.md)
 * through {@link JCudaDevice}; the same class serves a real GPU ({@code cuda}) and the emulator
 * ({@code cuda-emu}).
 *
 * <p>Layout policy, kept simple on purpose: elementwise kernels ({@code unary}, {@code binary},
 * {@code where}, copies) take strided views directly (a {@code Layout} struct per operand, so broadcast
 * stride-0 inputs cost nothing); every other op first makes its input contiguous, and ops along a dim
 * (softmax, topk) move that dim last with a copy. GEMMs go to cuBLAS when {@code libcublas.so.12} loads
 * (real or emulated), else to the project's {@code sgemm_kernel3}; {@code -Dmlip.cuda.gemm=kernel}
 * forces the kernel.
 *
 * <pre>{@code
 * Tensor x = Tensor.rand(new Generator(0), 4, 8).to(Device.parse("cuda-emu"));
 * Tensor p = x.matmul(x.t()).softmax(-1);           // two kernels on the device
 * float[] host = (float[]) p.to(Device.CPU).backend().toHost(p.to(Device.CPU));
 * }</pre>
 */
public final class CudaBackend implements Backend {
    /** Production kernel versions (the numbers in the kernel names). */
    static final String UNARY = "unary_kernel2_", UNARY_STRIDED = "unary_strided_kernel1_",
            BINARY = "binary_kernel2_", BINARY_STRIDED = "binary_strided_kernel1_", WHERE = "where_kernel1_",
            COPY = "copy_kernel1_", FILL = "fill_kernel1_", ARANGE = "arange_kernel1_", RANDOM = "random_kernel1_",
            REDUCE = "reduce_kernel2_", ARGREDUCE = "argreduce_kernel1_", SOFTMAX = "softmax_forward_kernel2_",
            LAYERNORM = "layernorm_forward_kernel2_", CE = "crossentropy_forward_kernel1_",
            SGEMM = "sgemm_kernel3_f32", GEMM_F64 = "gemm_kernel2_f64", GATHER = "gather_kernel1_",
            INDEX_SELECT = "index_select_kernel1_", SCATTER_ADD = "scatter_add_kernel1_", TOPK = "topk_kernel1_",
            OT_FORWARD = "patch_sentence_ot_kernel", OT_BACKWARD_P = "patch_sentence_ot_backward_patches_kernel1_f32",
            OT_BACKWARD_S = "patch_sentence_ot_backward_sentences_kernel1_f32";

    private static final int MAX_DIMS = 8;
    private static final int WARPS_PER_BLOCK = 8; // "warp per row, block 256"

    private final JCudaDevice dev;
    private final boolean useCublas;
    // Index errors are checked without a sync per op: each indexing kernel gets its own flag slot, and all
    // pending slots are read in one copy just before the next device-to-host copy (toHost), which then throws
    // the first failing op's error. A training step thus reads flags once after the forward and once after
    // the backward, instead of once per gather/scatter/embedding/cross-entropy.
    private static final int ERR_SLOTS = 64;
    private final CUdeviceptr errs;   // ERR_SLOTS ints, 0 = no error
    private final List<Pending> pending = new ArrayList<>();

    /** An indexing op whose error flag has not been read yet, and how to report a nonzero flag. */
    private record Pending(String op, IntFunction<RuntimeException> error) {
    }

    public CudaBackend(JCudaDevice dev) {
        this(dev, System.getProperty("mlip.cuda.gemm", "auto"));
    }

    /** {@code gemm}: {@code auto} (cuBLAS when present), {@code cublas} or {@code kernel}. */
    public CudaBackend(JCudaDevice dev, String gemm) {
        this.dev = dev;
        if (!gemm.equals("auto") && !gemm.equals("cublas") && !gemm.equals("kernel")) {
            throw new IllegalArgumentException("-Dmlip.cuda.gemm must be auto, cublas or kernel, got '" + gemm + "'");
        }
        if (gemm.equals("cublas") && !dev.hasCublas()) {
            throw new IllegalStateException(dev.device() + ": -Dmlip.cuda.gemm=cublas but cuBLAS is not available (" + dev.cublasProblem() + ")");
        }
        this.useCublas = !gemm.equals("kernel") && dev.hasCublas();
        this.errs = dev.alloc(4L * ERR_SLOTS);
        dev.zero(errs, 4L * ERR_SLOTS);
    }

    JCudaDevice jcuda() {
        return dev;
    }

    /** True when matmul runs through cuBLAS, false when through the project's SGEMM kernel. */
    public boolean usesCublas() {
        return useCublas;
    }

    @Override
    public Device device() {
        return dev.device();
    }

    // ------------------------------------------------------------------ helpers

    private static String sfx(DType t) {
        return switch (t) {
            case F32 -> "f32";
            case F64 -> "f64";
            case I32 -> "i32";
        };
    }

    private Tensor empty(DType dtype, int[] shape) {
        return Tensor.contiguousOn(new CudaStorage(this, dtype, Shape.numel(shape)), shape);
    }

    private static CUdeviceptr ptr(Tensor t) {
        return ((CudaStorage) t.storage()).at(t.numel() == 0 ? 0 : t.offset());
    }

    /** The kernel-side {@code struct Layout { int rank; int shape[8]; int stride[8]; }} of a view. */
    static int[] layout(Tensor t) {
        int r = t.ndim();
        if (r > MAX_DIMS) throw new IllegalArgumentException(t.device() + ": tensors of more than " + MAX_DIMS + " dims are not supported by the CUDA kernels, got shape " + Shape.str(t.shape()));
        int[] l = new int[1 + 2 * MAX_DIMS];
        l[0] = r;
        for (int d = 0; d < r; d++) {
            l[1 + d] = t.size(d);
            l[1 + MAX_DIMS + d] = t.stride(d);
        }
        return l;
    }

    /** Launch geometry for "warp per row, block 256". */
    private static int warpRowBlocks(int rows) {
        return Math.max(1, (rows + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK);
    }

    /** The error-flag slot for an indexing kernel about to launch; an out-of-range index throws IndexOutOfBoundsException. */
    private CUdeviceptr errSlot(String op) {
        return errSlot(op, code -> new IndexOutOfBoundsException(op + ": an index is out of range (" + device() + ")"));
    }

    private CUdeviceptr errSlot(String op, IntFunction<RuntimeException> error) {
        if (pending.size() == ERR_SLOTS) checkIndexErrors();
        pending.add(new Pending(op, error));
        return errs.withByteOffset(4L * (pending.size() - 1));
    }

    /** Reads every pending flag in one copy and throws the first failing op's error (none pending: no copy). */
    private void checkIndexErrors() {
        if (pending.isEmpty()) return;
        int[] e = new int[pending.size()];
        dev.copyDtoH(Pointer.to(e), errs, 4L * e.length);
        List<Pending> ops = List.copyOf(pending);
        pending.clear();
        dev.zero(errs, 4L * e.length);
        for (int i = 0; i < e.length; i++) if (e[i] != 0) throw ops.get(i).error().apply(e[i]);
    }

    private static void need(boolean ok, String msg) {
        if (!ok) throw new UnsupportedOperationException(msg);
    }

    // ------------------------------------------------------------------ memory

    @Override
    public Storage allocate(DType dtype, int size) {
        CudaStorage s = new CudaStorage(this, dtype, size);
        dev.zero(s.at(0), (long) size * dtype.bytes());
        return s;
    }

    @Override
    public Tensor fromHost(Object data, DType dtype, int[] shape) {
        Tensor t = empty(dtype, shape);
        long bytes = (long) t.numel() * dtype.bytes();
        Pointer host = switch (dtype) {
            case F32 -> Pointer.to((float[]) data);
            case F64 -> Pointer.to((double[]) data);
            case I32 -> Pointer.to((int[]) data);
        };
        dev.copyHtoD(ptr(t), host, bytes);
        return t;
    }

    @Override
    public Object toHost(Tensor x) {
        checkIndexErrors();
        Tensor c = x.isContiguous() ? x : copy(x, x.dtype());
        int n = c.numel();
        long bytes = (long) n * x.dtype().bytes();
        return switch (x.dtype()) {
            case F32 -> {
                float[] a = new float[n];
                dev.copyDtoH(Pointer.to(a), ptr(c), bytes);
                yield a;
            }
            case F64 -> {
                double[] a = new double[n];
                dev.copyDtoH(Pointer.to(a), ptr(c), bytes);
                yield a;
            }
            case I32 -> {
                int[] a = new int[n];
                dev.copyDtoH(Pointer.to(a), ptr(c), bytes);
                yield a;
            }
        };
    }

    @Override
    public Tensor copy(Tensor x, DType dtype) {
        Tensor out = empty(dtype, x.shape());
        copyInto(x, out);
        return out;
    }

    @Override
    public void copyInto(Tensor src, Tensor dst) {
        int n = src.numel();
        if (n == 0) return;
        dev.launch(COPY + sfx(src.dtype()) + "_" + sfx(dst.dtype()), dev.grid1d(n), 256, 0, ptr(dst), layout(dst), ptr(src), layout(src), n);
    }

    /** {@code x} itself when contiguous, else a contiguous copy. */
    private Tensor contig(Tensor x) {
        return x.isContiguous() ? x : copy(x, x.dtype());
    }

    @Override
    public Tensor full(int[] shape, DType dtype, double value) {
        Tensor t = empty(dtype, shape);
        int n = t.numel();
        if (n > 0) dev.launch(FILL + sfx(dtype), dev.grid1d(n), 256, 0, ptr(t), n, value);
        return t;
    }

    @Override
    public Tensor arange(double start, double step, int n, DType dtype) {
        Tensor t = empty(dtype, new int[]{n});
        if (n > 0) dev.launch(ARANGE + sfx(dtype), dev.grid1d(n), 256, 0, ptr(t), n, start, step);
        return t;
    }

    @Override
    public Tensor random(Distribution dist, long seed, long stream, long offset, int[] shape, DType dtype) {
        need(dtype.isFloating(), "random: " + dtype + " is not a floating dtype");
        Tensor t = empty(dtype, shape);
        int n = t.numel();
        if (n > 0) {
            dev.launch(RANDOM + sfx(dtype), dev.grid1d(n), 256, 0, ptr(t), n, seed, stream, offset,
                    dist == Distribution.NORMAL ? 1 : 0);
        }
        return t;
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public Tensor unary(UnaryOp op, Tensor x) {
        Tensor out = empty(x.dtype(), x.shape());
        int n = x.numel();
        if (n == 0) return out;
        String t = sfx(x.dtype());
        if (x.isContiguous()) {
            dev.launch(UNARY + t, dev.grid1d(n), 256, 0, ptr(out), ptr(x), n, op.ordinal());
        } else {
            dev.launch(UNARY_STRIDED + t, dev.grid1d(n), 256, 0, ptr(out), ptr(x), layout(x), n, op.ordinal());
        }
        return out;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Tensor out = empty(a.dtype(), a.shape());
        int n = a.numel();
        if (n == 0) return out;
        if (op == BinaryOp.DIV && a.dtype() == DType.I32) checkNoZero(b);
        String t = sfx(a.dtype());
        if (a.isContiguous() && b.isContiguous()) {
            dev.launch(BINARY + t, dev.grid1d(n), 256, 0, ptr(out), ptr(a), ptr(b), n, op.ordinal());
        } else {
            dev.launch(BINARY_STRIDED + t, dev.grid1d(n), 256, 0, ptr(out), ptr(a), layout(a), ptr(b), layout(b), n, op.ordinal());
        }
        return out;
    }

    // The kernel cannot throw: integer division by zero is found with one reduction (as the CPU, it throws).
    private void checkNoZero(Tensor divisor) {
        Tensor zeros = reduce(ReduceOp.SUM, binary(BinaryOp.EQ, divisor, full(divisor.shape(), DType.I32, 0)), allDims(divisor.ndim()), false);
        if (((int[]) toHost(zeros))[0] != 0) throw new ArithmeticException("div: integer division by zero (" + device() + ")");
    }

    private static int[] allDims(int n) {
        int[] d = new int[n];
        for (int i = 0; i < n; i++) d[i] = i;
        return d;
    }

    @Override
    public Tensor where(Tensor cond, Tensor a, Tensor b) {
        Tensor out = empty(a.dtype(), a.shape());
        int n = a.numel();
        if (n == 0) return out;
        dev.launch(WHERE + sfx(cond.dtype()) + "_" + sfx(a.dtype()), dev.grid1d(n), 256, 0,
                ptr(out), ptr(cond), layout(cond), ptr(a), layout(a), ptr(b), layout(b), n);
        return out;
    }

    // ------------------------------------------------------------------ reductions

    @Override
    public Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepdim) {
        int nd = x.ndim();
        boolean[] red = new boolean[nd];
        for (int d : dims) red[d] = true;
        int[] outShape = reducedShape(x.shape(), red, keepdim);
        // Reduced dims adjacent (d0..d1): view x as (outer, R, inner) in place; otherwise move them last.
        boolean adjacent = dims.length == 0 || dims[dims.length - 1] - dims[0] == dims.length - 1;
        Tensor src = x;
        if (!adjacent) {
            int[] perm = new int[nd];
            int k = 0;
            for (int d = 0; d < nd; d++) if (!red[d]) perm[k++] = d;
            for (int d : dims) perm[k++] = d;
            src = x.permute(perm);
        }
        src = contig(src);
        int outer = 1, r = 1, inner = 1;
        if (dims.length == 0) {
            outer = src.numel();
        } else if (adjacent) {
            for (int d = 0; d < dims[0]; d++) outer *= x.size(d);
            for (int d : dims) r *= x.size(d);
            for (int d = dims[dims.length - 1] + 1; d < nd; d++) inner *= x.size(d);
        } else {
            for (int d = 0; d < nd; d++) {
                if (red[d]) r *= x.size(d);
                else outer *= x.size(d);
            }
        }
        Tensor out = empty(x.dtype(), outShape);
        int outputs = outer * inner;
        if (outputs > 0) {
            dev.launch(REDUCE + sfx(x.dtype()), warpRowBlocks(outputs), 256, 0, ptr(out), ptr(src), outer, r, inner, op.ordinal());
        }
        return out;
    }

    private static int[] reducedShape(int[] shape, boolean[] red, boolean keepdim) {
        int[] out = new int[shape.length];
        int k = 0;
        for (int d = 0; d < shape.length; d++) {
            if (!red[d]) out[k++] = shape[d];
            else if (keepdim) out[k++] = 1;
        }
        return Arrays.copyOf(out, k);
    }

    @Override
    public Tensor argReduce(boolean max, Tensor x, int dim, boolean keepdim) {
        Tensor src = contig(x);
        int outer = 1, inner = 1, r = x.size(dim);
        for (int d = 0; d < dim; d++) outer *= x.size(d);
        for (int d = dim + 1; d < x.ndim(); d++) inner *= x.size(d);
        boolean[] red = new boolean[x.ndim()];
        red[dim] = true;
        Tensor out = empty(DType.I32, reducedShape(x.shape(), red, keepdim));
        int outputs = outer * inner;
        if (outputs > 0) {
            dev.launch(ARGREDUCE + sfx(x.dtype()), warpRowBlocks(outputs), 256, 0, ptr(out), ptr(src), outer, r, inner, max ? 1 : 0);
        }
        return out;
    }

    // ------------------------------------------------------------------ matmul

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        need(a.dtype().isFloating(), "matmul: " + a.dtype() + " is not supported on " + device());
        int nd = a.ndim();
        int m = a.size(-2), k = a.size(-1), n = b.size(-1);
        int[] outShape = a.shape();
        outShape[nd - 1] = n;
        Tensor out = empty(a.dtype(), outShape);
        int batch = m * n == 0 ? 0 : out.numel() / (m * n);
        if (batch == 0) return out;
        if (k == 0) return full(outShape, a.dtype(), 0);
        boolean cublas = useCublas && a.dtype() == DType.F32;
        // cuBLAS needs each matrix row- or column-major with a proper leading dim; the kernels take any strides.
        if (cublas && !blasLayout(a, m, k)) a = a.contiguous();
        if (cublas && !blasLayout(b, k, n)) b = b.contiguous();
        int[] bshape = Arrays.copyOf(outShape, nd - 2);
        int[] aOffs = Shape.batchOffsets(a, bshape), bOffs = Shape.batchOffsets(b, bshape);
        if (cublas) cublasGemm(a, b, out, m, n, k, batch, aOffs, bOffs);
        else kernelGemm(a, b, out, m, n, k, batch, aOffs, bOffs);
        return out;
    }

    private static boolean blasLayout(Tensor t, int rows, int cols) {
        int rs = t.stride(-2), cs = t.stride(-1);
        return (cs == 1 && (rs >= cols || rows == 1)) || (rs == 1 && (cs >= rows || cols == 1));
    }

    /**
     * The row-major/column-major trick: cuBLAS is column-major, and a row-major (M, N) matrix is the
     * column-major (N, M) one, so C = A B is computed as C^T = B^T A^T: cuBLAS gets (B, A) and (N, M).
     * A row-major operand (unit column stride) is "not transposed" with ld = its row stride; a
     * transposed view (unit row stride) is "transposed" with ld = its column stride.
     */
    private void cublasGemm(Tensor a, Tensor b, Tensor out, int m, int n, int k, int batch, int[] aOffs, int[] bOffs) {
        boolean aRow = a.stride(-1) == 1 && (a.stride(-2) >= k || m == 1);
        boolean bRow = b.stride(-1) == 1 && (b.stride(-2) >= n || k == 1);
        int opA = aRow ? cublasOperation.CUBLAS_OP_N : cublasOperation.CUBLAS_OP_T;
        int opB = bRow ? cublasOperation.CUBLAS_OP_N : cublasOperation.CUBLAS_OP_T;
        int lda = aRow ? Math.max(a.stride(-2), Math.max(1, k)) : Math.max(a.stride(-1), Math.max(1, m));
        int ldb = bRow ? Math.max(b.stride(-2), Math.max(1, n)) : Math.max(b.stride(-1), Math.max(1, k));
        Pointer alpha = Pointer.to(new float[]{1f}), beta = Pointer.to(new float[]{0f});
        CUdeviceptr pa = ptr(a), pb = ptr(b), pc = ptr(out);
        long sa = batch > 1 ? aOffs[1] - aOffs[0] : 0, sb = batch > 1 ? bOffs[1] - bOffs[0] : 0;
        boolean uniform = true;
        for (int t = 1; t < batch; t++) uniform &= aOffs[t] - aOffs[t - 1] == sa && bOffs[t] - bOffs[t - 1] == sb;
        synchronized (dev) {
            if (uniform) {
                JCublas2.cublasSgemmStridedBatched(dev.cublas(), opB, opA, n, m, k, alpha, pb, ldb, sb, pa, lda, sa, beta, pc, n,
                        (long) m * n, batch);
            } else {
                for (int t = 0; t < batch; t++) {
                    JCublas2.cublasSgemm(dev.cublas(), opB, opA, n, m, k, alpha, pb.withByteOffset(4L * bOffs[t]), ldb,
                            pa.withByteOffset(4L * aOffs[t]), lda, beta, pc.withByteOffset(4L * t * m * n), n);
                }
            }
        }
    }

    private void kernelGemm(Tensor a, Tensor b, Tensor out, int m, int n, int k, int batch, int[] aOffs, int[] bOffs) {
        Tensor ao = fromHost(aOffs, DType.I32, new int[]{batch}), bo = fromHost(bOffs, DType.I32, new int[]{batch});
        if (a.dtype() == DType.F32) {
            dev.launch(SGEMM, new int[]{(n + 63) / 64, (m + 63) / 64, batch}, new int[]{256, 1, 1}, 0, ptr(out), ptr(a), ptr(b),
                    m, n, k, a.stride(-2), a.stride(-1), b.stride(-2), b.stride(-1), ptr(ao), ptr(bo));
        } else {
            dev.launch(GEMM_F64, new int[]{(n + 15) / 16, (m + 15) / 16, batch}, new int[]{16, 16, 1}, 0, ptr(out), ptr(a), ptr(b),
                    m, n, k, a.stride(-2), a.stride(-1), b.stride(-2), b.stride(-1), ptr(ao), ptr(bo));
        }
    }

    // ------------------------------------------------------------------ indexing

    @Override
    public Tensor gather(Tensor x, int dim, Tensor index) {
        Tensor out = empty(x.dtype(), index.shape());
        int n = index.numel();
        if (n == 0) return out;
        dev.launch(GATHER + sfx(x.dtype()), dev.grid1d(n), 256, 0, ptr(out), ptr(x), layout(x), ptr(index), layout(index), n, dim, errSlot("gather"));
        return out;
    }

    @Override
    public Tensor indexSelect(Tensor x, int dim, Tensor index) {
        Tensor src = contig(x), idx = contig(index);
        int outer = 1, inner = 1, xDim = x.size(dim), nIdx = index.numel();
        for (int d = 0; d < dim; d++) outer *= x.size(d);
        for (int d = dim + 1; d < x.ndim(); d++) inner *= x.size(d);
        int[] shape = x.shape();
        shape[dim] = nIdx;
        Tensor out = empty(x.dtype(), shape);
        int n = out.numel();
        if (n == 0) return out;
        dev.launch(INDEX_SELECT + sfx(x.dtype()), dev.grid1d(n), 256, 0, ptr(out), ptr(src), ptr(idx), outer, xDim, nIdx, inner, errSlot("indexSelect"));
        return out;
    }

    @Override
    public Tensor scatterAdd(Tensor x, int dim, Tensor index, Tensor src) {
        Tensor out = copy(x, x.dtype());
        int n = index.numel();
        if (n == 0) return out;
        dev.launch(SCATTER_ADD + sfx(x.dtype()), dev.grid1d(n), 256, 0, ptr(out), layout(out), ptr(index), layout(index),
                ptr(src), layout(src), n, dim, errSlot("scatterAdd"));
        return out;
    }

    @Override
    public Tensor cat(Tensor[] xs, int dim) {
        int[] shape = xs[0].shape();
        int total = 0;
        for (Tensor x : xs) total += x.size(dim);
        shape[dim] = total;
        Tensor out = empty(xs[0].dtype(), shape);
        int at = 0;
        for (Tensor x : xs) {
            int len = x.size(dim);
            if (len > 0) copyInto(x, out.narrow(dim, at, len));
            at += len;
        }
        return out;
    }

    @Override
    public Tensor[] topk(Tensor x, int k, int dim, boolean largest) {
        int last = x.ndim() - 1;
        Tensor src = contig(dim == last ? x : x.transpose(dim, last));
        int c = src.size(-1), rows = c == 0 ? 0 : src.numel() / c;
        int[] shape = src.shape();
        shape[last] = k;
        Tensor values = empty(x.dtype(), shape), indices = empty(DType.I32, shape);
        if (rows > 0 && k > 0) {
            dev.launch(TOPK + sfx(x.dtype()), rows, 256, 0, ptr(values), ptr(indices), ptr(src), rows, c, k, largest ? 1 : 0);
        }
        if (dim != last) {
            values = contig(values.transpose(dim, last));
            indices = contig(indices.transpose(dim, last));
        }
        return new Tensor[]{values, indices};
    }

    // ------------------------------------------------------------------ top-k masking (topk_mask.cu)

    /** Production topk_mask versions (KERNELS.md "topk_mask.cu"); kernel2's packed scan needs N < 65536. */
    static final String TOPK_MASK = "topk_mask_kernel2_f32", TOPK_MASK_BACKWARD = "topk_mask_backward_kernel1_f32";
    private static final int TOPK_MASK_MAX_N = 65535, TOPK_MASK_BWD_ROWS = 32;

    /**
     * F32 x and scores: one fused launch (radix select of the k-th score, kept indices in ascending patch
     * order, gather of the kept rows), grid B, block 256. Other dtypes and N > 65535 run Backend's
     * composite (device ops only).
     */
    @Override
    public Tensor[] topkGather(Tensor x, Tensor scores, int k) {
        if (x.ndim() != 3 || scores.ndim() != 2 || scores.size(0) != x.size(0) || scores.size(1) != x.size(1)) {
            throw new IllegalArgumentException("topkGather: expects x (B, N, D) and scores (B, N), got " + Shape.str(x.shape()) + " and " + Shape.str(scores.shape()));
        }
        int b = x.size(0), n = x.size(1), d = x.size(2);
        if (k < 0 || k > n) throw new IllegalArgumentException("topkGather: k=" + k + " out of range [0, " + n + "] for x of shape " + Shape.str(x.shape()));
        if (x.dtype() != DType.F32 || scores.dtype() != DType.F32 || n > TOPK_MASK_MAX_N) return Backend.super.topkGather(x, scores, k);
        Tensor xs = contig(x), sc = contig(scores);
        Tensor values = empty(DType.F32, new int[]{b, k, d}), indices = empty(DType.I32, new int[]{b, k});
        if (b > 0 && k > 0) dev.launch(TOPK_MASK, b, 256, 0, ptr(values), ptr(indices), ptr(xs), ptr(sc), b, n, k, d);
        return new Tensor[]{values, indices};
    }

    /**
     * F32: every element of dx (B, n, D) written once (rows not in indices get 0; repeated indices add up in
     * slot order, as the CPU), grid (B, ceil(n / 32)), block 256; other dtypes run Backend's composite.
     */
    @Override
    public Tensor topkGatherBackward(Tensor grad, Tensor indices, int n) {
        if (grad.dtype() != DType.F32) return Backend.super.topkGatherBackward(grad, indices, n);
        int b = grad.size(0), k = grad.size(1), d = grad.size(2);
        Tensor g = contig(grad), idx = contig(indices), dx = empty(DType.F32, new int[]{b, n, d});
        if (b == 0) return dx;
        if (n == 0) {
            if (k > 0) throw new IllegalArgumentException("topkGatherBackward: index out of range [0, 0) (" + device() + ")");
            return dx;
        }
        CUdeviceptr err = errSlot("topkGatherBackward", e -> new IllegalArgumentException("topkGatherBackward: index "
                + (e == 1 ? "< 0" : String.valueOf(e - 1)) + " out of range [0, " + n + ") (" + device() + ")"));
        dev.launch(TOPK_MASK_BACKWARD, new int[]{b, (n + TOPK_MASK_BWD_ROWS - 1) / TOPK_MASK_BWD_ROWS, 1}, new int[]{256, 1, 1}, 0,
                ptr(dx), ptr(g), ptr(idx), b, n, k, d, err);
        return dx;
    }

    // ------------------------------------------------------------------ fused

    @Override
    public Tensor softmax(Tensor x, int dim, boolean log) {
        need(x.dtype().isFloating(), "softmax: " + x.dtype() + " is not a floating dtype");
        int last = x.ndim() - 1;
        Tensor src = contig(dim == last ? x : x.transpose(dim, last));
        Tensor out = empty(x.dtype(), src.shape());
        int c = src.ndim() == 0 ? 1 : src.size(-1), rows = c == 0 ? 0 : src.numel() / c;
        if (rows > 0) dev.launch(SOFTMAX + sfx(x.dtype()), warpRowBlocks(rows), 256, 0, ptr(out), ptr(src), rows, c, log ? 1 : 0);
        return dim == last ? out : contig(out.transpose(dim, last));
    }

    @Override
    public Tensor[] layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        need(x.dtype().isFloating(), "layerNorm: " + x.dtype() + " is not a floating dtype");
        Tensor src = contig(x);
        int c = x.size(-1), rows = c == 0 ? 0 : x.numel() / c;
        int[] statShape = Arrays.copyOf(x.shape(), x.ndim() - 1);
        Tensor out = empty(x.dtype(), x.shape()), mean = empty(x.dtype(), statShape), rstd = empty(x.dtype(), statShape);
        if (rows > 0) {
            CUdeviceptr w = weight == null ? new CUdeviceptr() : ptr(contig(weight));
            CUdeviceptr b = bias == null ? new CUdeviceptr() : ptr(contig(bias));
            dev.launch(LAYERNORM + sfx(x.dtype()), warpRowBlocks(rows), 256, 0, ptr(out), ptr(mean), ptr(rstd), ptr(src), w, b, rows, c, eps);
        }
        return new Tensor[]{out, mean, rstd};
    }

    @Override
    public Tensor crossEntropy(Tensor logits, Tensor target, int ignoreIndex, double labelSmoothing, Reduction reduction) {
        need(logits.dtype().isFloating(), "crossEntropy: " + logits.dtype() + " logits are not floating");
        Tensor lg = contig(logits), tg = contig(target);
        int rows = lg.size(0), c = lg.size(1);
        Tensor losses = empty(logits.dtype(), new int[]{rows});
        if (rows > 0) {
            dev.launch(CE + sfx(logits.dtype()), warpRowBlocks(rows), 256, 0, ptr(losses), ptr(lg), ptr(tg), rows, c, ignoreIndex,
                    labelSmoothing, errSlot("crossEntropy: target"));
        }
        if (reduction == Reduction.NONE) return losses;
        Tensor total = reduce(ReduceOp.SUM, losses, new int[]{0}, false);
        if (reduction == Reduction.SUM) return total;
        // MEAN divides by the rows not ignored, counted on the device (no sync).
        Tensor kept = reduce(ReduceOp.SUM, binary(BinaryOp.NE, tg, full(new int[]{rows}, DType.I32, ignoreIndex)), new int[]{0}, false);
        return binary(BinaryOp.DIV, total, copy(kept, logits.dtype()));
    }

    // ------------------------------------------------------------------ transformer fusions (gelu.cu, layernorm.cu)

    /** Production versions (KERNELS.md "gelu.cu", "layernorm.cu"). */
    static final String BIAS_GELU_FORWARD = "bias_gelu_forward_kernel2_f32", BIAS_GELU_BACKWARD = "bias_gelu_backward_kernel2_f32",
            ADD_LAYERNORM = "add_layernorm_forward_kernel1_f32";

    /** F32: one grid-stride launch, x + bias never written. F64: Backend's composite (device ops). */
    @Override
    public Tensor biasGelu(Tensor x, Tensor bias, boolean tanhApprox) {
        if (x.dtype() != DType.F32) return Backend.super.biasGelu(x, bias, tanhApprox);
        Tensor xc = contig(x), bc = contig(bias);
        Tensor out = empty(DType.F32, x.shape());
        int n = x.numel(), c = bias.numel();
        if (n > 0) dev.launch(BIAS_GELU_FORWARD, dev.grid1d(n), 256, 0, ptr(out), ptr(xc), ptr(bc), n, c, tanhApprox ? 1 : 0);
        return out;
    }

    /** F32: one launch rebuilding x + bias per element; the bias gradient is the engine's column sum of dx. */
    @Override
    public Tensor biasGeluBackward(Tensor dout, Tensor x, Tensor bias, boolean tanhApprox) {
        if (x.dtype() != DType.F32) return Backend.super.biasGeluBackward(dout, x, bias, tanhApprox);
        Tensor xc = contig(x), bc = contig(bias), g = contig(dout);
        Tensor dx = empty(DType.F32, x.shape());
        int n = x.numel(), c = bias.numel();
        if (n > 0) dev.launch(BIAS_GELU_BACKWARD, dev.grid1d(n), 256, 0, ptr(dx), ptr(xc), ptr(bc), ptr(g), n, c, tanhApprox ? 1 : 0);
        return dx;
    }

    /** F32: a warp per row writes the sum and its norm in one pass (block 256 = 8 rows). F64: Backend's composite. */
    @Override
    public Tensor[] addLayerNorm(Tensor x, Tensor y, Tensor weight, Tensor bias, double eps) {
        if (x.dtype() != DType.F32) return Backend.super.addLayerNorm(x, y, weight, bias, eps);
        Tensor xc = contig(x), yc = contig(y);
        int c = x.size(-1), rows = c == 0 ? 0 : x.numel() / c;
        int[] statShape = Arrays.copyOf(x.shape(), x.ndim() - 1);
        Tensor sum = empty(DType.F32, x.shape()), out = empty(DType.F32, x.shape());
        Tensor mean = empty(DType.F32, statShape), rstd = empty(DType.F32, statShape);
        if (rows > 0) {
            CUdeviceptr w = weight == null ? new CUdeviceptr() : ptr(contig(weight));
            CUdeviceptr b = bias == null ? new CUdeviceptr() : ptr(contig(bias));
            dev.launch(ADD_LAYERNORM, warpRowBlocks(rows), 256, 0, ptr(sum), ptr(out), ptr(mean), ptr(rstd), ptr(xc), ptr(yc), w, b, rows, c, eps);
        }
        return new Tensor[]{sum, out, mean, rstd};
    }

    // ------------------------------------------------------------------ attention (attention.cu)

    /** Production attention kernels (KERNELS.md "attention.cu"). */
    static final String ATTENTION_FORWARD = "attention_forward_kernel2_f32", ATTENTION_BACKWARD_PRE = "attention_backward_preprocess_kernel1_f32",
            ATTENTION_BACKWARD = "attention_backward_kernel1_f32";
    /**
     * Largest head dim the attention kernels take: their blocks hold 96 rows of d floats in shared memory
     * (384 d bytes, 48 KB at 128) and a lane owns 4 of the d output columns.
     */
    static final int ATTENTION_MAX_D = 128;
    private static final int ATTENTION_TILE = 32, ATTENTION_THREADS = 128;

    /**
     * F32 with d <= {@value #ATTENTION_MAX_D}: one launch of the flash-style forward (grid B H ceil(Tq / 32), block
     * 128, 384 d bytes of shared memory), out and lse written, nothing of size Tq x Tk. F64, and F32 with a larger
     * d, run Backend's composite (device ops only, never a copy to the CPU).
     */
    @Override
    public Tensor[] attention(Tensor q, Tensor k, Tensor v, Tensor keyPadding) {
        if (q.dtype() != DType.F32 || q.size(-1) > ATTENTION_MAX_D) return Backend.super.attention(q, k, v, keyPadding);
        int b = q.size(0), h = q.size(1), tq = q.size(2), tk = k.size(2), d = q.size(3);
        Tensor qc = contig(q), kc = contig(k), vc = contig(v);
        Tensor out = empty(DType.F32, new int[]{b, h, tq, d}), lse = empty(DType.F32, new int[]{b, h, tq});
        int blocks = b * h * ((tq + ATTENTION_TILE - 1) / ATTENTION_TILE);
        if (blocks > 0 && tk > 0) {
            dev.launch(ATTENTION_FORWARD, blocks, ATTENTION_THREADS, 384 * d, ptr(out), ptr(lse), ptr(qc), ptr(kc), ptr(vc), paddingPtr(keyPadding),
                    b, h, tq, tk, d, (float) (1 / Math.sqrt(d)));
        }
        return new Tensor[]{out, lse};
    }

    /**
     * F32 with d <= {@value #ATTENTION_MAX_D}: D = rowsum(dout * out) (warp per row), then one launch whose first
     * B H ceil(Tk / 32) blocks own 32 keys each (dk, dv) and the next B H ceil(Tq / 32) own 32 queries each (dq),
     * p rebuilt from lse; no atomics, so the gradients are deterministic. Otherwise Backend's composite.
     */
    @Override
    public Tensor[] attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor keyPadding) {
        if (q.dtype() != DType.F32 || q.size(-1) > ATTENTION_MAX_D) return Backend.super.attentionBackward(dout, q, k, v, out, lse, keyPadding);
        int b = q.size(0), h = q.size(1), tq = q.size(2), tk = k.size(2), d = q.size(3);
        Tensor g = contig(dout), o = contig(out), l = contig(lse), qc = contig(q), kc = contig(k), vc = contig(v);
        Tensor dq = empty(DType.F32, q.shape()), dk = empty(DType.F32, k.shape()), dv = empty(DType.F32, v.shape());
        Tensor rowDots = empty(DType.F32, new int[]{b, h, tq});
        int rows = b * h * tq, tiles = (tk + ATTENTION_TILE - 1) / ATTENTION_TILE + (tq + ATTENTION_TILE - 1) / ATTENTION_TILE;
        if (rows > 0) dev.launch(ATTENTION_BACKWARD_PRE, warpRowBlocks(rows), 256, 0, ptr(rowDots), ptr(g), ptr(o), rows, d);
        if (b * h > 0 && tk > 0) {
            dev.launch(ATTENTION_BACKWARD, b * h * tiles, ATTENTION_THREADS, 384 * d, ptr(dq), ptr(dk), ptr(dv), ptr(g), ptr(qc), ptr(kc), ptr(vc),
                    ptr(l), ptr(rowDots), paddingPtr(keyPadding), b, h, tq, tk, d, (float) (1 / Math.sqrt(d)));
        }
        return new Tensor[]{dq, dk, dv};
    }

    /** The kernels' {@code const int* pad} (B, Tk), nonzero = padded, or a null pointer. */
    private CUdeviceptr paddingPtr(Tensor keyPadding) {
        return keyPadding == null ? new CUdeviceptr() : ptr(contig(keyPadding.to(DType.I32)));
    }

    // ------------------------------------------------------------------ MLIP ops (patch_sentence_ot.cu)

    /** Shared memory a block may use without the opt-in attribute. */
    private static final int SHARED_LIMIT = 48 * 1024, OT_TILE = 32;

    /**
     * The OT kernel for F32 (F64 runs Backend's composite, device ops only): version 2 with as many reports
     * per block (1..8) as fit in 40 KB of shared memory, version 1 when even one does not, and an error when
     * neither fits (N * M too large for a pair's plan in shared memory).
     */
    @Override
    public Tensor[] patchSentenceOt(Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask, double eps, int iterations) {
        if (patches.dtype() != DType.F32) return Backend.super.patchSentenceOt(patches, patchMask, sentences, sentenceMask, eps, iterations);
        Tensor p = contig(patches), s = contig(sentences);
        int b1 = p.size(0), n = p.size(1), d = p.size(2), b2 = s.size(0), m = s.size(1);
        Tensor scores = empty(DType.F32, new int[]{b1, b2});
        Tensor u = empty(DType.F32, new int[]{b1, b2, n}), v = empty(DType.F32, new int[]{b1, b2, m});
        if (b1 == 0 || b2 == 0) return new Tensor[]{scores, u, v};
        long base = 4L * n * OT_TILE, perPair = 4L * (m * OT_TILE + 2L * n * m + n + m);
        int g = (int) Math.min(8, (40 * 1024 - base) / perPair);
        Object[] args = {ptr(scores), ptr(u), ptr(v), ptr(p), maskPtr(patchMask), ptr(s), maskPtr(sentenceMask), b1, b2, n, m, d, (float) eps, iterations};
        if (g >= 1) {
            dev.launch(OT_FORWARD + "2_f32", b1 * ((b2 + g - 1) / g), 32 * g, (int) (base + g * perPair), args);
        } else {
            long shared = 4L * (2L * n * m + n + m + 4);
            need(shared <= SHARED_LIMIT, "patchSentenceOt: N=" + n + " x M=" + m + " needs " + shared + " bytes of shared memory per pair (limit " + SHARED_LIMIT + ")");
            dev.launch(OT_FORWARD + "1_f32", b1 * b2, 128, (int) shared, args);
        }
        return new Tensor[]{scores, u, v};
    }

    @Override
    public Tensor[] patchSentenceOtScoresBackward(Tensor gradScores, Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask,
                                                  Tensor rowScalings, Tensor colScalings, double eps) {
        if (patches.dtype() != DType.F32) {
            return Backend.super.patchSentenceOtScoresBackward(gradScores, patches, patchMask, sentences, sentenceMask, rowScalings, colScalings, eps);
        }
        Tensor p = contig(patches), s = contig(sentences), g = contig(gradScores), u = contig(rowScalings), v = contig(colScalings);
        int b1 = p.size(0), n = p.size(1), d = p.size(2), b2 = s.size(0), m = s.size(1);
        Tensor dP = empty(DType.F32, p.shape()), dS = empty(DType.F32, s.shape());
        long shared = 4L * n * m;
        need(shared <= SHARED_LIMIT, "patchSentenceOtScoresBackward: N=" + n + " x M=" + m + " needs " + shared + " bytes of shared memory (limit " + SHARED_LIMIT + ")");
        Object[] args = {ptr(g), ptr(u), ptr(v), ptr(p), maskPtr(patchMask), ptr(s), maskPtr(sentenceMask), b1, b2, n, m, d, (float) eps};
        if (b1 > 0) dev.launch(OT_BACKWARD_P, b1, 128, (int) shared, prepend(ptr(dP), args));
        if (b2 > 0) dev.launch(OT_BACKWARD_S, b2, 128, (int) shared, prepend(ptr(dS), args));
        return new Tensor[]{dP, dS};
    }

    private CUdeviceptr maskPtr(Tensor mask) {
        return mask == null ? new CUdeviceptr() : ptr(contig(mask.to(DType.F32)));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
