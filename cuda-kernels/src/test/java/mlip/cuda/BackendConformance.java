package mlip.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import mlip.tensor.Backends;
import mlip.tensor.BinaryOp;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Distribution;
import mlip.tensor.Generator;
import mlip.tensor.ReduceOp;
import mlip.tensor.Reduction;
import mlip.tensor.Tensor;
import mlip.tensor.Tolerance;
import mlip.tensor.UnaryOp;
import org.junit.jupiter.api.Test;

/**
 * The backend conformance suite: every {@link mlip.tensor.Backend} op on the device under test against
 * the CPU backend, on odd shapes (not multiples of any tile or warp), non-contiguous views (transposed,
 * narrowed) and broadcast (stride-0) inputs, in every dtype the op takes. A subclass names the device.
 *
 * <p>Each check builds its inputs on the CPU from a seeded generator, runs the same expression on
 * both devices — views are taken on each device, so the device sees real strided storage — and
 * compares with {@link Tolerance}'s per-dtype tolerances (bit-exact for I32 and for uniform draws).
 */
abstract class BackendConformance {
    static final DType[] FLOATS = {DType.F32, DType.F64};
    static final DType[] ALL = {DType.F32, DType.F64, DType.I32};

    protected abstract Device device();

    private final Generator gen = new Generator(1234);

    /** Normal values in F32/F64; integers in [-9, 9] for I32. */
    Tensor input(DType dtype, int... shape) {
        Tensor x = Tensor.random(gen, Distribution.NORMAL, DType.F64, Device.CPU, shape);
        if (dtype == DType.I32) return x.mul(4).to(DType.I32);
        return x.to(dtype);
    }

    Tensor positive(DType dtype, int... shape) {
        return input(DType.F64, shape).abs().add(0.1).to(dtype);
    }

    /** Runs {@code f} on the CPU inputs and on copies on the device; compares; returns the device result. */
    Tensor same(String what, Function<Tensor[], Tensor> f, Tensor... cpuInputs) {
        Tensor expected = f.apply(cpuInputs);
        Tensor[] dev = new Tensor[cpuInputs.length];
        for (int i = 0; i < dev.length; i++) dev[i] = cpuInputs[i] == null ? null : cpuInputs[i].to(device());
        Tensor actual = f.apply(dev);
        assertEquals(device(), actual.device(), what + ": result is not on the device");
        Tensor back = actual.to(Device.CPU);
        assertEquals(expected.dtype(), back.dtype(), what + ": dtype");
        if (expected.dtype() == DType.I32) assertArrayEquals((int[]) expected.backend().toHost(expected), (int[]) back.backend().toHost(back), what);
        else Tolerance.assertClose(what + " on " + device(), back, expected);
        return actual;
    }

    /** Views of the same input: contiguous, transposed, narrowed, broadcast. */
    static List<Function<Tensor, Tensor>> views() {
        List<Function<Tensor, Tensor>> v = new ArrayList<>();
        v.add(t -> t);                                   // (7, 37)
        v.add(t -> t.t());                               // (37, 7) transposed
        v.add(t -> t.narrow(1, 3, 29));                  // (7, 29) row stride 37
        v.add(t -> t.narrow(0, 2, 1).expand(5, 37));     // (5, 37) stride-0 rows
        return v;
    }

    // ------------------------------------------------------------------ memory, creation, copies

    @Test
    void roundTripAndCreation() {
        for (DType t : ALL) {
            same("round trip " + t, x -> x[0], input(t, 3, 5, 7));
            same("empty " + t, x -> x[0], input(t, 0, 4));
            Tensor z = Tensor.full(t, device(), 2.5, 33, 3);
            Tolerance.assertClose("full " + t, z.to(Device.CPU), Tensor.full(t, Device.CPU, 2.5, 33, 3));
            Tensor ar = Backends.forDevice(device()).arange(-3, 0.75, 57, t);
            Tolerance.assertClose("arange " + t, ar.to(Device.CPU), Backends.forDevice(Device.CPU).arange(-3, 0.75, 57, t));
            Tensor zeros = Tensor.contiguousOn(Backends.forDevice(device()).allocate(t, 11), 11);
            Tolerance.assertClose("allocate zeroes " + t, zeros.to(Device.CPU), Tensor.zeros(t, 11));
        }
        Tensor ai = Backends.forDevice(device()).arange(-5, 3, 9, DType.I32);
        assertArrayEquals(new int[]{-5, -2, 1, 4, 7, 10, 13, 16, 19}, (int[]) ai.to(Device.CPU).backend().toHost(ai.to(Device.CPU)));
    }

    @Test
    void copiesConvertEveryDtypePairThroughViews() {
        for (DType from : ALL) {
            for (DType to : ALL) {
                for (var v : views()) {
                    same("copy " + from + "->" + to, x -> v.apply(x[0]).to(to), input(from, 7, 37).mul(from == DType.I32 ? 1 : 3));
                }
            }
        }
        // copyInto a transposed view of a bigger tensor
        same("copyInto view", x -> {
            Tensor dst = Tensor.zeros(DType.F32, 9, 6).to(x[0].device());
            dst.narrow(0, 2, 6).t().copyFrom(x[0]);
            return dst;
        }, input(DType.F32, 6, 6));
        // floats to ints truncate toward zero, NaN to 0
        same("truncation", x -> x[0].to(DType.I32), Tensor.of(new float[]{-2.7f, -0.5f, 0.5f, 2.7f, Float.NaN, 1e20f, -1e20f}, 7));
    }

    @Test
    void randomMatchesTheCpuDraws() {
        for (DType t : FLOATS) {
            for (Distribution d : Distribution.values()) {
                Tensor cpu = Tensor.random(new Generator(7), d, t, Device.CPU, 5, 203);
                Tensor dev = Tensor.random(new Generator(7), d, t, device(), 5, 203);
                if (d == Distribution.UNIFORM) assertArrayEquals(cpu.toDoubleArray(), dev.to(Device.CPU).toDoubleArray(), "uniform " + t);
                else Tolerance.assertClose("normal " + t, dev.to(Device.CPU), cpu);
            }
        }
    }

    // ------------------------------------------------------------------ elementwise

    @Test
    void unaryOpsOnEveryViewAndDtype() {
        for (DType t : ALL) {
            for (UnaryOp op : UnaryOp.values()) {
                boolean domain = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT;
                Tensor in = domain ? positive(t == DType.I32 ? DType.F64 : t, 7, 37).to(t) : input(t, 7, 37);
                if (t == DType.I32 && domain) in = in.add(1);
                Tensor cpuIn = in;
                Throwable cpuError = null;
                try {
                    cpuIn.unary(op);
                } catch (RuntimeException e) {
                    cpuError = e;
                }
                if (cpuError != null) {
                    Class<? extends Throwable> type = cpuError.getClass();
                    assertThrows(type, () -> cpuIn.to(device()).unary(op), op + " " + t + " must fail as on the CPU");
                    continue;
                }
                for (var v : views()) same(op + " " + t, x -> v.apply(x[0]).unary(op), in);
            }
        }
        // float4 path with an unaligned start and a tail
        same("unary unaligned", x -> x[0].narrow(0, 1, 1001).exp(), input(DType.F32, 1003));
    }

    @Test
    void binaryOpsWithBroadcastAndViews() {
        for (DType t : ALL) {
            for (BinaryOp op : BinaryOp.values()) {
                Tensor a = input(t, 7, 37), b = input(t, 7, 37);
                if (op == BinaryOp.DIV || op == BinaryOp.POW) {
                    b = t == DType.I32 ? b.abs().add(1) : b;
                    a = op == BinaryOp.POW && t != DType.I32 ? a.abs() : a;
                }
                if (t == DType.I32 && op == BinaryOp.POW) b = b.minimum(Tensor.scalar(4, DType.I32, Device.CPU));
                Tensor fa = a, fb = b;
                for (var v : views()) same(op + " " + t, x -> v.apply(x[0]).binary(op, v.apply(x[1])), fa, fb);
                same(op + " " + t + " broadcast", x -> x[0].binary(op, x[1].narrow(0, 0, 1)), fa, fb);          // (7,37) op (1,37)
                same(op + " " + t + " column", x -> x[0].binary(op, x[1].narrow(1, 0, 1)), fa, fb);             // (7,37) op (7,1)
                same(op + " " + t + " aligned", x -> x[0].binary(op, x[1]), input(t, 1024).abs().add(1), input(t, 1024).abs().add(1));
            }
        }
    }

    @Test
    void whereForEveryConditionDtype() {
        for (DType c : ALL) {
            for (DType t : ALL) {
                Tensor cond = input(c, 7, 37).gt(0);
                same("where " + c + "/" + t, x -> Tensor.where(x[0], x[1], x[2].narrow(0, 0, 1)), cond, input(t, 7, 37), input(t, 7, 37));
                same("where " + c + "/" + t + " transposed", x -> Tensor.where(x[0].t(), x[1].t(), x[2].t()), cond, input(t, 7, 37), input(t, 7, 37));
            }
        }
    }

    // ------------------------------------------------------------------ reductions

    @Test
    void reductionsOverDimSets() {
        int[][] dimSets = {{0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1, 2}, {}};
        for (DType t : ALL) {
            for (ReduceOp op : ReduceOp.values()) {
                if (op == ReduceOp.MEAN && t == DType.I32) continue; // the front end rejects it on every device
                for (int[] dims : dimSets) {
                    for (boolean keep : new boolean[]{false, true}) {
                        same(op + " " + t + " dims " + java.util.Arrays.toString(dims) + " keep " + keep,
                                x -> x[0].reduce(op, dims, keep), input(t, 3, 37, 5));
                    }
                }
                same(op + " " + t + " transposed", x -> x[0].t().reduce(op, new int[]{1}, false), input(t, 33, 70));
                same(op + " " + t + " long row", x -> x[0].reduce(op, new int[]{1}, false), input(t, 2, 4099));
            }
        }
        // NaN propagates through MAX/MIN; SUM over an empty dim is 0 and MEAN NaN
        Tensor nan = Tensor.of(new float[]{1, Float.NaN, 3, 4, 5, 6}, 2, 3);
        same("max NaN", x -> x[0].max(1, false), nan);
        same("min NaN", x -> x[0].min(1, false), nan);
        same("sum empty", x -> x[0].sum(1, false), Tensor.zeros(4, 0));
        same("mean empty", x -> x[0].mean(1, false), Tensor.zeros(4, 0));
    }

    @Test
    void argmaxAndArgmin() {
        for (DType t : ALL) {
            for (int dim = 0; dim < 3; dim++) {
                int d = dim;
                same("argmax " + t + " " + d, x -> x[0].argmax(d, false), input(t, 3, 37, 5));
                same("argmin " + t + " " + d, x -> x[0].argmin(d, true), input(t, 3, 37, 5));
            }
        }
        same("argmax ties and NaN", x -> x[0].argmax(1, false), Tensor.of(new float[]{2, 5, 5, 1, Float.NaN, 9, 9, 9}, 2, 4));
        same("argmin ties and NaN", x -> x[0].argmin(1, false), Tensor.of(new float[]{2, 1, 1, 5, 3, Float.NaN, 0, 0}, 2, 4));
    }

    // ------------------------------------------------------------------ matmul

    @Test
    void matmulShapesViewsAndBatches() {
        int[][] mnk = {{1, 1, 1}, {17, 65, 130}, {64, 64, 64}, {3, 1, 70}, {65, 17, 1}};
        for (DType t : FLOATS) {
            for (int[] s : mnk) {
                int m = s[0], n = s[1], k = s[2];
                same("matmul " + t + " " + m + "x" + k + "x" + n, x -> x[0].matmul(x[1]), input(t, m, k), input(t, k, n));
                same("matmul " + t + " A^T", x -> x[0].t().matmul(x[1]), input(t, k, m), input(t, k, n));
                same("matmul " + t + " B^T", x -> x[0].matmul(x[1].t()), input(t, m, k), input(t, n, k));
            }
            same("bmm " + t, x -> x[0].matmul(x[1]), input(t, 3, 19, 33), input(t, 3, 33, 21));
            same("broadcast batch " + t, x -> x[0].matmul(x[1]), input(t, 2, 3, 9, 17), input(t, 1, 3, 17, 5));
            same("broadcast rhs " + t, x -> x[0].matmul(x[1]), input(t, 4, 9, 17), input(t, 17, 5));
            same("strided rows " + t, x -> x[0].narrow(1, 2, 30).matmul(x[1].narrow(0, 0, 30)), input(t, 9, 37), input(t, 41, 5));
            same("permuted batch " + t, x -> x[0].permute(1, 0, 2).matmul(x[1]), input(t, 9, 3, 17), input(t, 3, 17, 5));
        }
    }

    /** Both GEMM paths: cuBLAS (real or emulated) and the project's SGEMM kernel, on the same operands. */
    @Test
    void matmulThroughCublasAndThroughTheKernel() {
        JCudaDevice jd = JCudaDevice.open(device());
        for (String gemm : new String[]{"cublas", "kernel"}) {
            CudaBackend be = new CudaBackend(jd, gemm);
            assertEquals(gemm.equals("cublas"), be.usesCublas());
            for (DType t : FLOATS) {
                Tensor a = input(t, 2, 37, 70), b = input(t, 2, 70, 29);
                Tensor want = a.matmul(b);
                Tensor da = a.to(device()), db = b.to(device());
                Tolerance.assertClose(gemm + " " + t, be.matmul(da, db).to(Device.CPU), want);
                Tolerance.assertClose(gemm + " " + t + " B^T", be.matmul(da, db.transpose(1, 2).contiguous().transpose(1, 2)).to(Device.CPU), want);
                Tolerance.assertClose(gemm + " " + t + " broadcast batch", be.matmul(da, db.narrow(0, 0, 1).expand(2, 70, 29)).to(Device.CPU),
                        a.matmul(b.narrow(0, 0, 1).expand(2, 70, 29)));
            }
        }
    }

    // ------------------------------------------------------------------ indexing

    @Test
    void gatherIndexSelectScatterAddCat() {
        for (DType t : ALL) {
            Tensor x = input(t, 5, 37, 3);
            Tensor idx1 = Tensor.random(gen, Distribution.UNIFORM, DType.F64, Device.CPU, 5, 11, 3).mul(37).to(DType.I32);
            same("gather dim1 " + t, a -> a[0].gather(1, a[1]), x, idx1);
            Tensor idx0 = Tensor.random(gen, Distribution.UNIFORM, DType.F64, Device.CPU, 2, 37, 3).mul(5).to(DType.I32);
            same("gather dim0 " + t, a -> a[0].gather(0, a[1]), x, idx0);
            same("gather transposed " + t, a -> a[0].t().gather(0, a[1]), input(t, 6, 8), Tensor.of(new int[]{5, 0, 1, 1, 2, 3, 4, 0}, 2, 4));
            Tensor sel = Tensor.of(new int[]{36, 0, 5, 5, 17}, 5);
            same("indexSelect dim1 " + t, a -> a[0].indexSelect(1, a[1]), x, sel);
            same("indexSelect dim0 " + t, a -> a[0].indexSelect(0, a[1]), x, Tensor.of(new int[]{4, 4, 0}, 3));
            same("indexSelect view " + t, a -> a[0].t().indexSelect(0, a[1]), input(t, 6, 8), Tensor.of(new int[]{7, 1}, 2));
            same("scatterAdd dim1 " + t, a -> a[0].scatterAdd(1, a[1], a[2]), x, idx1, input(t, 5, 11, 3));
            same("scatterAdd dim0 " + t, a -> a[0].scatterAdd(0, a[1], a[2]), x, idx0, input(t, 2, 37, 3));
            same("cat dim1 " + t, a -> Tensor.cat(1, a[0], a[1].t(), a[2]), input(t, 4, 3), input(t, 5, 4), input(t, 4, 0));
            same("cat dim0 " + t, a -> Tensor.cat(0, a[0], a[1]), input(t, 3, 7), input(t, 2, 7));
        }
        same("embedding", a -> Tensor.embedding(a[0], a[1]), input(DType.F32, 50, 16), Tensor.of(new int[]{3, 49, 0, 3, 7, 7}, 2, 3));
    }

    @Test
    void badIndicesThrow() {
        Tensor x = input(DType.F32, 4, 5).to(device());
        Tensor bad = Tensor.of(new int[]{0, 5}, 1, 2).to(device());
        assertThrows(IndexOutOfBoundsException.class, () -> x.gather(1, bad).toDoubleArray());
        Tensor ints = Tensor.of(new int[]{4, 5, 6}, 3).to(device());
        assertThrows(ArithmeticException.class, () -> ints.div(Tensor.of(new int[]{1, 0, 2}, 3).to(device())).toDoubleArray());
        Tensor neg = Tensor.of(new int[]{-1}, 1).to(device());
        assertThrows(IndexOutOfBoundsException.class, () -> x.indexSelect(0, neg).toDoubleArray());
    }

    @Test
    void topkSortedWithTies() {
        for (DType t : ALL) {
            for (boolean largest : new boolean[]{true, false}) {
                for (int k : new int[]{1, 5, 37}) {
                    Tensor x = input(t, 6, 37);
                    same("topk values " + t + " k " + k + " " + largest, a -> a[0].topk(k, 1, largest).values(), x);
                    same("topk indices " + t + " k " + k + " " + largest, a -> a[0].topk(k, 1, largest).indices(), x);
                }
                same("topk dim0 " + t, a -> a[0].topk(3, 0, largest).indices(), input(t, 9, 4, 3));
            }
        }
        Tensor ties = Tensor.of(new float[]{1, 3, 3, Float.NaN, 2, 3, 1, 1}, 1, 8);
        same("topk ties/NaN largest", a -> a[0].topk(5, 1, true).indices(), ties);
        same("topk ties/NaN smallest", a -> a[0].topk(5, 1, false).indices(), ties);
    }

    // ------------------------------------------------------------------ fused

    @Test
    void softmaxAndLogSoftmax() {
        for (DType t : FLOATS) {
            for (int c : new int[]{1, 5, 33, 1000}) {
                same("softmax " + t + " C " + c, x -> x[0].mul(3).softmax(-1), input(t, 37, c));
                same("logSoftmax " + t + " C " + c, x -> x[0].mul(3).logSoftmax(-1), input(t, 37, c));
            }
            same("softmax dim0 " + t, x -> x[0].softmax(0), input(t, 9, 4, 3));
            same("softmax view " + t, x -> x[0].t().logSoftmax(-1), input(t, 9, 13));
        }
        Tensor inf = Tensor.of(new float[]{Float.NEGATIVE_INFINITY, 0, Float.NEGATIVE_INFINITY, 1000, -1000, 0}, 2, 3);
        same("softmax -inf and large", x -> x[0].softmax(-1), inf);
        same("logSoftmax -inf and large", x -> x[0].logSoftmax(-1), inf);
    }

    @Test
    void layerNormWithAndWithoutAffine() {
        for (DType t : FLOATS) {
            for (int c : new int[]{1, 7, 33, 768}) {
                Tensor x = input(t, 3, 5, c).mul(2).add(1), w = input(t, c), b = input(t, c);
                same("layerNorm " + t + " C " + c, a -> a[0].layerNormForward(a[1], a[2], 1e-5).out(), x, w, b);
                same("layerNorm mean " + t, a -> a[0].layerNormForward(a[1], a[2], 1e-5).mean(), x, w, b);
                same("layerNorm rstd " + t, a -> a[0].layerNormForward(a[1], a[2], 1e-5).rstd(), x, w, b);
                same("layerNorm plain " + t, a -> a[0].layerNormForward(null, null, 1e-6).out(), x);
                same("layerNorm view " + t, a -> a[0].transpose(0, 1).layerNormForward(a[1], a[2], 1e-5).out(), x, w, b);
            }
        }
    }

    /** Bias + GELU (both forms) and its backward; C = 1, a vector-tail length, a warp-plus-one, and 768. */
    @Test
    void biasGeluForwardAndBackward() {
        for (DType t : FLOATS) {
            for (int c : new int[]{1, 7, 33, 768}) {
                Tensor x = input(t, 3, 5, c).mul(2), b = input(t, c), g = input(t, 3, 5, c);
                for (boolean tanh : new boolean[]{false, true}) {
                    same("biasGelu " + t + " C " + c + " tanh=" + tanh, a -> a[0].biasGelu(a[1], tanh), x, b);
                    same("biasGelu backward " + t + " C " + c + " tanh=" + tanh, a -> Tensor.biasGeluBackward(a[2], a[0], a[1], tanh), x, b, g);
                }
                same("biasGelu view " + t, a -> a[0].transpose(0, 1).biasGelu(a[1], false), x, b);
            }
        }
    }

    /** Residual add + layer norm: the sum, the norm and its statistics; C past the kernel's register-kept 768 too. */
    @Test
    void addLayerNormWithAndWithoutAffine() {
        for (DType t : FLOATS) {
            for (int c : new int[]{1, 7, 33, 768, 1000}) {
                Tensor x = input(t, 3, 5, c).mul(2).add(1), y = input(t, 3, 5, c), w = input(t, c), b = input(t, c);
                same("addLayerNorm sum " + t + " C " + c, a -> a[0].addLayerNormForward(a[1], a[2], a[3], 1e-5).sum(), x, y, w, b);
                same("addLayerNorm out " + t + " C " + c, a -> a[0].addLayerNormForward(a[1], a[2], a[3], 1e-5).out(), x, y, w, b);
                same("addLayerNorm mean " + t, a -> a[0].addLayerNormForward(a[1], a[2], a[3], 1e-5).mean(), x, y, w, b);
                same("addLayerNorm rstd " + t, a -> a[0].addLayerNormForward(a[1], a[2], a[3], 1e-5).rstd(), x, y, w, b);
                same("addLayerNorm plain " + t, a -> a[0].addLayerNormForward(a[1], null, null, 1e-6).out(), x, y);
                same("addLayerNorm view " + t, a -> a[0].transpose(0, 1).addLayerNormForward(a[1].transpose(0, 1), a[2], a[3], 1e-5).out(), x, y, w, b);
            }
        }
    }

    // ------------------------------------------------------------------ MLIP ops (the Backend defaults: the composite on the device)

    /** Rows of unit length along the last dim (the OT op's contract). */
    Tensor unitRows(DType dtype, int... shape) {
        Tensor x = input(DType.F64, shape);
        return x.div(x.square().sum(-1, true).sqrt()).to(dtype);
    }

    /** (rows, cols) with the first counts[r] entries of row r valid (1), the rest 0. */
    static Tensor prefixMask(DType dtype, int cols, int... counts) {
        double[] m = new double[counts.length * cols];
        for (int r = 0; r < counts.length; r++) for (int c = 0; c < counts[r]; c++) m[r * cols + c] = 1;
        return Tensor.of(m, counts.length, cols).to(dtype);
    }

    /** Forward then backward of the OT op on {patches, patchMask, sentences, sentenceMask, gradScores}. */
    private static Tensor.OtGrads otBackward(Tensor[] x) {
        Tensor.OtResult ot = Tensor.patchSentenceOt(x[0], x[1], x[2], x[3], 0.1, 20);
        return Tensor.patchSentenceOtScoresBackward(x[4], x[0], x[1], x[2], x[3], ot.rowScalings(), ot.colScalings(), 0.1);
    }

    @Test
    void patchSentenceOtScoresAndBackward() {
        for (DType t : FLOATS) {
            Tensor p = unitRows(t, 3, 13, 19), s = unitRows(t, 4, 5, 19), g = input(t, 3, 4);
            Tensor pm = prefixMask(t, 13, 13, 1, 6), sm = prefixMask(t, 5, 1, 5, 3, 0);   // a 1-sentence and an empty report
            same("otScores " + t, x -> Tensor.patchSentenceOt(x[0], x[1], x[2], x[3], 0.1, 20).scores(), p, pm, s, sm);
            same("otScores u " + t, x -> Tensor.patchSentenceOt(x[0], x[1], x[2], x[3], 0.1, 20).rowScalings(), p, pm, s, sm);
            same("otScores v " + t, x -> Tensor.patchSentenceOt(x[0], x[1], x[2], x[3], 0.1, 20).colScalings(), p, pm, s, sm);
            same("otScores no masks " + t, x -> Tensor.patchSentenceOtScores(x[0], null, x[1], null, 0.1, 20), p, s);
            same("otScores transposed view " + t, x -> Tensor.patchSentenceOtScores(x[0].transpose(0, 1), x[1], x[2], x[3], 0.1, 20),
                    p.transpose(0, 1).contiguous(), pm, s, sm);
            // each device's backward from its own forward's scalings
            same("otScores dPatches " + t, x -> otBackward(x).dPatches(), p, pm, s, sm, g);
            same("otScores dSentences " + t, x -> otBackward(x).dSentences(), p, pm, s, sm, g);
        }
        Tensor cost = input(DType.F32, 2, 7, 5).abs();
        same("sinkhornPlan", x -> mlip.tensor.Composite.sinkhornPlan(x[0], x[1], null, 0.1, 30), cost, prefixMask(DType.F32, 7, 7, 2));
    }

    @Test
    void topkGatherAndBackward() {
        Tensor scores = input(DType.F32, 3, 37);
        Tensor idx = Tensor.random(gen, Distribution.UNIFORM, DType.F64, Device.CPU, 3, 9).mul(37).to(DType.I32);   // repeats possible
        for (DType t : ALL) {
            Tensor x = input(t, 3, 37, 5);
            same("topkGather values " + t, a -> a[0].topkGather(a[1], 9).values(), x, scores);
            same("topkGather indices " + t, a -> a[0].topkGather(a[1], 9).indices(), x, scores);
            same("topkGather view " + t, a -> a[0].transpose(0, 1).topkGather(a[1], 4).values(), x.transpose(0, 1).contiguous(), scores);
            same("topkGatherBackward " + t, a -> Tensor.topkGatherBackward(a[0], a[1], 37), input(t, 3, 9, 5), idx);
        }
    }

    /** Scores (B, n) on a coarse grid (many ties) with NaNs and a -0.0 beside 0.0s. */
    static Tensor tiedScores(java.util.Random rnd, int b, int n) {
        float[] s = new float[b * n];
        for (int i = 0; i < s.length; i++) s[i] = rnd.nextInt(7) - 3;   // 7 levels: ties everywhere
        s[rnd.nextInt(s.length)] = Float.NaN;
        s[n - 1] = Float.NaN;                                           // a NaN last in row 0: still kept first
        s[rnd.nextInt(s.length)] = -0.0f;
        return Tensor.of(s, b, n);
    }

    /** The F32 fused top-k mask (topk_mask.cu on CUDA) against the CPU: ties, NaN, -0.0, odd and power-of-two N, k = 1 .. N. */
    @Test
    void topkMaskF32TiesNanAndShapes() {
        java.util.Random rnd = new java.util.Random(7);
        for (int n : new int[]{1, 37, 196, 256, 1030}) {
            for (int k : new int[]{1, (n + 1) / 2, n}) {
                for (int d : new int[]{5, 8}) {                                 // scalar and float4 row copies
                    String what = " N=" + n + " k=" + k + " D=" + d;
                    Tensor x = input(DType.F32, 3, n, d), scores = tiedScores(rnd, 3, n);
                    same("topkMask values" + what, a -> a[0].topkGather(a[1], k).values(), x, scores);
                    Tensor ix = same("topkMask indices" + what, a -> a[0].topkGather(a[1], k).indices(), x, scores).to(Device.CPU);
                    int[] h = ix.toIntArray();
                    for (int r = 0; r < 3; r++) for (int j = 1; j < k; j++) assertTrue(h[r * k + j - 1] < h[r * k + j], "ascending" + what);
                    same("topkMask backward" + what, a -> Tensor.topkGatherBackward(a[0], a[1], n), input(DType.F32, 3, k, d), ix);
                }
            }
        }
        // a transposed scores view, k = 0, and the backward's repeated and out-of-range indices
        Tensor x = input(DType.F32, 2, 37, 6), sT = tiedScores(rnd, 37, 2);
        same("topkMask scores view", a -> a[0].topkGather(a[1].t(), 9).values(), x, sT);
        assertEquals(0, x.to(device()).topkGather(sT.t().to(device()), 0).indices().numel());
        Tensor rep = Tensor.of(new int[]{4, 4, 0, 36, 4, 1, 1, 1, 2, 36}, 2, 5);
        same("topkMask backward repeats", a -> Tensor.topkGatherBackward(a[0], a[1], 37), input(DType.F32, 2, 5, 6), rep);
        Tensor g = input(DType.F32, 1, 2, 3).to(device());
        assertThrows(IllegalArgumentException.class, () -> Tensor.topkGatherBackward(g, Tensor.of(new int[]{0, 5}, 1, 2).to(device()), 5).toDoubleArray());   // reported at the next sync
        assertThrows(IllegalArgumentException.class, () -> Tensor.topkGatherBackward(g, Tensor.of(new int[]{-1, 2}, 1, 2).to(device()), 5).toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> x.to(device()).topkGather(sT.t().to(device()), 38));
    }

    // ------------------------------------------------------------------ attention (attention.cu for F32, d <= 128)

    /** Forward, then backward from that forward's out and lse, on {q, k, v, dout, keyPadding or null}. */
    private static Tensor.AttentionGrads attentionGrads(Tensor[] x) {
        Tensor.AttentionResult a = Tensor.attention(x[0], x[1], x[2], x[4]);
        return Tensor.attentionBackward(x[3], x[0], x[1], x[2], a.out(), a.lse(), x[4]);
    }

    /** out, lse, dq, dk, dv of one attention case against the CPU (the composite). */
    private void sameAttention(String what, Tensor q, Tensor k, Tensor v, Tensor dout, Tensor pad) {
        same("attention out " + what, x -> Tensor.attention(x[0], x[1], x[2], x[3]).out(), q, k, v, pad);
        same("attention lse " + what, x -> Tensor.attention(x[0], x[1], x[2], x[3]).lse(), q, k, v, pad);
        same("attention dq " + what, x -> attentionGrads(x).dq(), q, k, v, dout, pad);
        same("attention dk " + what, x -> attentionGrads(x).dk(), q, k, v, dout, pad);
        same("attention dv " + what, x -> attentionGrads(x).dv(), q, k, v, dout, pad);
    }

    @Test
    void attentionForwardAndBackward() {
        // {B, H, Tq, Tk, d}: partial 32-row tiles with Tq != Tk; self-attention one past a tile with d past a warp;
        // the kernels' largest d; d = 130 runs Backend's composite on the device (F32 above the kernels' limit)
        int[][] shapes = {{2, 2, 37, 45, 24}, {1, 2, 33, 33, 40}, {1, 1, 5, 3, 128}, {1, 1, 4, 6, 130}};
        for (DType t : FLOATS) {
            for (int[] sh : shapes) {
                if (t == DType.F64 && sh[4] != 24) continue;   // F64 is the composite on the device: one shape is enough
                int b = sh[0], h = sh[1], tq = sh[2], tk = sh[3], d = sh[4];
                int[] padded = new int[b * tk];
                padded[0] = 1;                                   // the first key of image 0
                padded[b * tk - 1] = 1;                          // the last key of the last image
                Tensor q = input(t, b, h, tq, d), k = input(t, b, h, tk, d), v = input(t, b, h, tk, d), g = input(t, b, h, tq, d);
                String what = t + " " + java.util.Arrays.toString(sh);
                sameAttention(what + " padded", q, k, v, g, Tensor.of(padded, b, tk));
                if (sh[4] == 40) sameAttention(what + " no mask", q, k, v, g, null);
            }
        }
        // heads selected from a permuted qkv (MultiHeadAttention's strided views), an F32 mask, a non-contiguous dout
        Tensor qkv = input(DType.F32, 2, 19, 3, 2, 24), dout = input(DType.F32, 2, 2, 24, 19);
        Tensor maskF = Tensor.of(new float[]{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 2, 19);
        java.util.function.Function<Tensor[], Tensor[]> heads = x -> {
            Tensor p = x[0].reshape(2, 19, 3, 2, 24).permute(2, 0, 3, 1, 4);   // (3, B, H, T, dh)
            return new Tensor[]{p.select(0, 0), p.select(0, 1), p.select(0, 2), x[1].transpose(2, 3), x[2]};
        };
        same("attention views out", x -> Tensor.attention(heads.apply(x)[0], heads.apply(x)[1], heads.apply(x)[2], x[2]).out(), qkv, dout, maskF);
        same("attention views dq", x -> attentionGrads(heads.apply(x)).dq(), qkv, dout, maskF);
        same("attention views dk", x -> attentionGrads(heads.apply(x)).dk(), qkv, dout, maskF);
        // image 1 has no real key: NaN out and lse for its queries, and NaN dq, dk, dv in its heads, as the composite
        Tensor allPadded = Tensor.of(new int[]{0, 0, 1, 0, 0, 1, 1, 1, 1, 1}, 2, 5);
        sameAttention("F32 image 1 all padding", input(DType.F32, 2, 2, 7, 8), input(DType.F32, 2, 2, 5, 8), input(DType.F32, 2, 2, 5, 8),
                input(DType.F32, 2, 2, 7, 8), allPadded);
        // no queries: empty out and lse, zero dk and dv
        sameAttention("F32 no queries", input(DType.F32, 1, 2, 0, 8), input(DType.F32, 1, 2, 5, 8), input(DType.F32, 1, 2, 5, 8),
                input(DType.F32, 1, 2, 0, 8), null);
        // the front end's checks name the shapes
        Tensor q = input(DType.F32, 1, 2, 3, 8).to(device()), k = input(DType.F32, 1, 2, 4, 8).to(device());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.attention(q, k, k.narrow(3, 0, 7), null));
        assertTrue(e.getMessage().contains("[1, 2, 4, 7]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.attention(q, input(DType.F32, 1, 2, 4, 9).to(device()), k, null));
        assertThrows(IllegalArgumentException.class, () -> Tensor.attention(q, k, k, Tensor.of(new int[]{0, 0, 0}, 1, 3).to(device())));
    }

    @Test
    void crossEntropyReductionsIgnoreAndSmoothing() {
        for (DType t : FLOATS) {
            for (int c : new int[]{1, 10, 1000}) {
                Tensor logits = input(t, 37, c).mul(2);
                Tensor target = Tensor.random(gen, Distribution.UNIFORM, DType.F64, Device.CPU, 37).mul(c).to(DType.I32);
                int[] tg = (int[]) target.backend().toHost(target);
                tg[3] = -100;
                tg[10] = -100;
                Tensor withIgnore = Tensor.of(tg, 37);
                for (Reduction r : Reduction.values()) {
                    for (double eps : new double[]{0, 0.1}) {
                        same("CE " + t + " C " + c + " " + r + " eps " + eps, a -> a[0].crossEntropy(a[1], -100, eps, r), logits, withIgnore);
                    }
                }
            }
        }
        Tensor allIgnored = Tensor.of(new int[]{-100, -100}, 2);
        same("CE all ignored", a -> a[0].crossEntropy(a[1], -100, 0, Reduction.MEAN), input(DType.F32, 2, 3), allIgnored);
        Tensor x = input(DType.F32, 2, 3).to(device());
        assertThrows(IndexOutOfBoundsException.class, () -> x.crossEntropy(Tensor.of(new int[]{0, 3}, 2).to(device())).toDoubleArray());
    }
}
