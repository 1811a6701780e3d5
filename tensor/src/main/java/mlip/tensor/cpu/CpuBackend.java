package mlip.tensor.cpu;

import mlip.tensor.Backend;
import mlip.tensor.BinaryOp;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Distribution;
import mlip.tensor.Philox;
import mlip.tensor.ReduceOp;
import mlip.tensor.Reduction;
import mlip.tensor.Shape;
import mlip.tensor.Storage;
import mlip.tensor.Tensor;
import mlip.tensor.UnaryOp;

/**
 * The CPU backend: Java arrays, the Vector API ({@link Simd}) and a fixed thread pool ({@link Parallel}).
 *
 * <p>Each op is a direct call into one kernel class — {@link Elementwise}, {@link Reduce},
 * {@link Indexing}, {@link Fused}, {@link OtScores}, {@link Sgemm} — with no dispatch layers between. The default
 * instance backs {@link Device#CPU}; tests build others with a chosen thread count to show that
 * results do not depend on it:
 *
 * <pre>{@code
 * Backend one = new CpuBackend(new Parallel(1));
 * Tensor s = one.reduce(ReduceOp.SUM, x, new int[]{0}, false);
 * }</pre>
 */
public final class CpuBackend implements Backend {
    private static volatile CpuBackend defaultBackend;

    private final Parallel pool;

    public CpuBackend(Parallel pool) {
        this.pool = pool;
    }

    /** The backend of {@link Device#CPU}, on {@link Parallel#defaultPool()}. */
    public static CpuBackend defaultBackend() {
        CpuBackend b = defaultBackend;
        if (b == null) {
            synchronized (CpuBackend.class) {
                b = defaultBackend;
                if (b == null) defaultBackend = b = new CpuBackend(Parallel.defaultPool());
            }
        }
        return b;
    }

    public Parallel pool() {
        return pool;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Storage allocate(DType dtype, int size) {
        return new CpuStorage(this, dtype, size);
    }

    /** A new contiguous tensor (zero-filled: Java arrays are). */
    Tensor empty(DType dtype, int[] shape) {
        return Tensor.contiguousOn(new CpuStorage(this, dtype, Shape.numel(shape)), shape);
    }

    @Override
    public Tensor fromHost(Object data, DType dtype, int[] shape) {
        Tensor t = empty(dtype, shape);
        CpuStorage s = (CpuStorage) t.storage();
        int n = t.numel();
        switch (dtype) {
            case F32 -> System.arraycopy((float[]) data, 0, s.f, 0, n);
            case F64 -> System.arraycopy((double[]) data, 0, s.d, 0, n);
            case I32 -> System.arraycopy((int[]) data, 0, s.i, 0, n);
        }
        return t;
    }

    @Override
    public Object toHost(Tensor x) {
        Tensor c = x.contiguous();
        CpuStorage s = (CpuStorage) c.storage();
        int n = c.numel(), o = n == 0 ? 0 : c.offset(); // an empty view may sit past the end of its storage
        return switch (x.dtype()) {
            case F32 -> java.util.Arrays.copyOfRange(s.f, o, o + n);
            case F64 -> java.util.Arrays.copyOfRange(s.d, o, o + n);
            case I32 -> java.util.Arrays.copyOfRange(s.i, o, o + n);
        };
    }

    @Override
    public Tensor copy(Tensor x, DType dtype) {
        Tensor out = empty(dtype, x.shape());
        Elementwise.copy(pool, x, out);
        return out;
    }

    @Override
    public void copyInto(Tensor src, Tensor dst) {
        Elementwise.copy(pool, src, dst);
    }

    @Override
    public Tensor full(int[] shape, DType dtype, double value) {
        Tensor t = empty(dtype, shape);
        if (value != 0) {
            CpuStorage s = (CpuStorage) t.storage();
            switch (dtype) {
                case F32 -> java.util.Arrays.fill(s.f, (float) value);
                case F64 -> java.util.Arrays.fill(s.d, value);
                case I32 -> java.util.Arrays.fill(s.i, (int) value);
            }
        }
        return t;
    }

    @Override
    public Tensor arange(double start, double step, int n, DType dtype) {
        Tensor t = empty(dtype, new int[]{n});
        CpuStorage s = (CpuStorage) t.storage();
        for (int i = 0; i < n; i++) s.set(i, start + i * step);
        return t;
    }

    /**
     * Philox layout (see {@link Philox}): F32 element i takes lane i % 4 of block offset + i / 4; normals
     * pair lanes (0,1) and (2,3) by Box-Muller. F64 element i takes lanes of block offset + i / 2: two
     * words per uniform; a normal pair uses the block's two uniforms.
     */
    @Override
    public Tensor random(Distribution dist, long seed, long stream, long offset, int[] shape, DType dtype) {
        Tensor t = empty(dtype, shape);
        CpuStorage s = (CpuStorage) t.storage();
        int n = t.numel();
        int perBlock = dtype == DType.F64 ? 2 : 4;
        int blocks = (n + perBlock - 1) / perBlock;
        pool.forRange(blocks, 4096, (b0, b1) -> {
            int[] w = new int[4];
            float[] vf = new float[4];
            double[] vd = new double[2];
            for (int b = b0; b < b1; b++) {
                Philox.block(seed, stream, offset + b, w);
                int base = b * perBlock;
                if (dtype == DType.F32) {
                    float[] v = vf;
                    if (dist == Distribution.UNIFORM) {
                        for (int l = 0; l < 4; l++) v[l] = Philox.uniformFloat(w[l]);
                    } else {
                        for (int l = 0; l < 4; l += 2) {
                            double r = Math.sqrt(-2 * Math.log(Philox.openUniformFloat(w[l])));
                            double th = 2 * Math.PI * Philox.uniformFloat(w[l + 1]);
                            v[l] = (float) (r * Math.cos(th));
                            v[l + 1] = (float) (r * Math.sin(th));
                        }
                    }
                    for (int l = 0; l < 4 && base + l < n; l++) s.f[base + l] = v[l];
                } else {
                    double[] v = vd;
                    if (dist == Distribution.UNIFORM) {
                        v[0] = Philox.uniformDouble(w[0], w[1]);
                        v[1] = Philox.uniformDouble(w[2], w[3]);
                    } else {
                        double r = Math.sqrt(-2 * Math.log(Philox.openUniformDouble(w[0], w[1])));
                        double th = 2 * Math.PI * Philox.uniformDouble(w[2], w[3]);
                        v[0] = r * Math.cos(th);
                        v[1] = r * Math.sin(th);
                    }
                    for (int l = 0; l < 2 && base + l < n; l++) s.d[base + l] = v[l];
                }
            }
        });
        return t;
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor x) {
        Tensor out = empty(x.dtype(), x.shape());
        Elementwise.unary(pool, op, x, out);
        return out;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Tensor out = empty(a.dtype(), a.shape());
        Elementwise.binary(pool, op, a, b, out);
        return out;
    }

    @Override
    public Tensor where(Tensor cond, Tensor a, Tensor b) {
        Tensor out = empty(a.dtype(), a.shape());
        Elementwise.where(pool, cond, a, b, out);
        return out;
    }

    @Override
    public Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepdim) {
        return Reduce.reduce(this, op, x, dims, keepdim);
    }

    @Override
    public Tensor argReduce(boolean max, Tensor x, int dim, boolean keepdim) {
        return Reduce.argReduce(this, max, x, dim, keepdim);
    }

    /** Batched GEMM: batch offsets come from the (possibly stride-0, broadcast) batch strides; operand strides go to the packing. */
    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        int nd = a.ndim();
        int m = a.size(-2), k = a.size(-1), n = b.size(-1);
        int[] outShape = a.shape();
        outShape[nd - 1] = n;
        Tensor out = empty(a.dtype(), outShape);
        int batch = m * n == 0 ? 0 : out.numel() / (m * n);
        if (batch == 0) return out;
        int[] bshape = java.util.Arrays.copyOf(outShape, nd - 2);
        int[] aOffs = Shape.batchOffsets(a, bshape), bOffs = Shape.batchOffsets(b, bshape), cOffs = new int[batch];
        for (int t = 0; t < batch; t++) {
            aOffs[t] += a.offset();
            bOffs[t] += b.offset();
            cOffs[t] = t * m * n;
        }
        CpuStorage sa = (CpuStorage) a.storage(), sb = (CpuStorage) b.storage(), sc = (CpuStorage) out.storage();
        int aRs = a.stride(-2), aCs = a.stride(-1), bRs = b.stride(-2), bCs = b.stride(-1);
        if (a.dtype() == DType.F32 && batch > 1 && foldsIntoOneGemm(aOffs, m * aRs, bOffs)) {
            // b shared by every entry and a's entries stacked row after row: one (batch*m, k) x (k, n) GEMM, whose
            // large M the kernel tiles far better than batch small ones (a Linear layer on (B, T, D)). Same bits.
            Sgemm.sgemm(pool, batch * m, n, k, 1f, sa.f, aOffs[0], aRs, aCs, sb.f, bOffs[0], bRs, bCs, 0f, sc.f, 0, n);
        } else if (a.dtype() == DType.F32) {
            Sgemm.sgemmBatched(pool, batch, m, n, k, 1f, sa.f, aOffs, aRs, aCs, sb.f, bOffs, bRs, bCs, 0f, sc.f, cOffs, n);
        } else {
            // F64 (gradchecks, references): a plain i-p-j loop, parallel over output rows, p summed in order.
            pool.forRange(batch * m, Math.max(1, 65536 / Math.max(1, n * Math.max(1, k))), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int t = r / m, i = r % m, co = cOffs[t] + i * n;
                    for (int p = 0; p < k; p++) {
                        double aip = sa.d[aOffs[t] + i * aRs + p * aCs];
                        int bro = bOffs[t] + p * bRs;
                        for (int j = 0; j < n; j++) sc.d[co + j] += aip * sb.d[bro + j * bCs];
                    }
                }
            });
        }
        return out;
    }

    /** Whether every b offset is the same and a's batch entries follow each other at {@code entryStride}. */
    private static boolean foldsIntoOneGemm(int[] aOffs, int entryStride, int[] bOffs) {
        for (int t = 1; t < aOffs.length; t++) {
            if (bOffs[t] != bOffs[0] || aOffs[t] != aOffs[0] + t * entryStride) return false;
        }
        return true;
    }

    @Override
    public Tensor gather(Tensor x, int dim, Tensor index) {
        return Indexing.gather(this, x, dim, index);
    }

    @Override
    public Tensor indexSelect(Tensor x, int dim, Tensor index) {
        return Indexing.indexSelect(this, x, dim, index);
    }

    @Override
    public Tensor scatterAdd(Tensor x, int dim, Tensor index, Tensor src) {
        return Indexing.scatterAdd(this, x, dim, index, src);
    }

    @Override
    public Tensor cat(Tensor[] xs, int dim) {
        return Indexing.cat(this, xs, dim);
    }

    @Override
    public Tensor[] topk(Tensor x, int k, int dim, boolean largest) {
        return Indexing.topk(this, x, k, dim, largest);
    }

    @Override
    public Tensor softmax(Tensor x, int dim, boolean log) {
        return Fused.softmax(this, x, dim, log);
    }

    @Override
    public Tensor[] layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        return Fused.layerNorm(this, x, weight, bias, eps);
    }

    @Override
    public Tensor crossEntropy(Tensor logits, Tensor target, int ignoreIndex, double labelSmoothing, Reduction reduction) {
        return Fused.crossEntropy(this, logits, target, ignoreIndex, labelSmoothing, reduction);
    }

    /**
     * {@code -Dmlip.fusedMlipOps=false} runs the composites of the MLIP ops, attention and the transformer fusions
     * (bias + GELU, residual add + layer norm) instead of the fused loops (A/B timing, debugging).
     */
    static final boolean FUSED_MLIP_OPS = !"false".equals(System.getProperty("mlip.fusedMlipOps"));

    /**
     * Fused: tile by tile, O(threads * N * M) scratch, never the (B1, B2, N, M) tensors of the composite; forward
     * keeps the scalings and backward rebuilds the plans from them ({@link OtScores}).
     */
    @Override
    public Tensor[] patchSentenceOt(Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask, double eps, int iterations) {
        if (!FUSED_MLIP_OPS) return Backend.super.patchSentenceOt(patches, patchMask, sentences, sentenceMask, eps, iterations);
        return OtScores.forward(this, patches, patchMask, sentences, sentenceMask, eps, iterations);
    }

    @Override
    public Tensor[] patchSentenceOtScoresBackward(Tensor gradScores, Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask,
                                                  Tensor rowScalings, Tensor colScalings, double eps) {
        if (!FUSED_MLIP_OPS) {
            return Backend.super.patchSentenceOtScoresBackward(gradScores, patches, patchMask, sentences, sentenceMask, rowScalings, colScalings, eps);
        }
        return OtScores.backward(this, gradScores, patches, patchMask, sentences, sentenceMask, rowScalings, colScalings, eps);
    }

    @Override
    public Tensor[] topkGather(Tensor x, Tensor scores, int k) {
        return FUSED_MLIP_OPS ? Indexing.topkGather(this, x, scores, k) : Backend.super.topkGather(x, scores, k);
    }

    @Override
    public Tensor topkGatherBackward(Tensor grad, Tensor indices, int n) {
        return FUSED_MLIP_OPS ? Indexing.topkGatherBackward(this, grad, indices, n) : Backend.super.topkGatherBackward(grad, indices, n);
    }

    /** F32: one task per head, O(threads * Tq * Tk) scratch ({@link FusedAttention}); F64: the composite (the reference). */
    @Override
    public Tensor[] attention(Tensor q, Tensor k, Tensor v, Tensor keyPadding) {
        if (!FUSED_MLIP_OPS || q.dtype() != DType.F32) return Backend.super.attention(q, k, v, keyPadding);
        return FusedAttention.forward(this, q, k, v, keyPadding);
    }

    @Override
    public Tensor[] attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor keyPadding) {
        if (!FUSED_MLIP_OPS || q.dtype() != DType.F32) return Backend.super.attentionBackward(dout, q, k, v, out, lse, keyPadding);
        return FusedAttention.backward(this, dout, q, k, v, out, lse, keyPadding);
    }

    // F32: one pass per row ({@link FusedTransformer}); F64: the composite (the reference). Same switch as the MLIP ops.

    @Override
    public Tensor biasGelu(Tensor x, Tensor bias, boolean tanhApprox) {
        if (!FUSED_MLIP_OPS || x.dtype() != DType.F32) return Backend.super.biasGelu(x, bias, tanhApprox);
        return FusedTransformer.biasGelu(this, x, bias, tanhApprox);
    }

    @Override
    public Tensor biasGeluBackward(Tensor dout, Tensor x, Tensor bias, boolean tanhApprox) {
        if (!FUSED_MLIP_OPS || x.dtype() != DType.F32) return Backend.super.biasGeluBackward(dout, x, bias, tanhApprox);
        return FusedTransformer.biasGeluBackward(this, dout, x, bias, tanhApprox);
    }

    @Override
    public Tensor[] addLayerNorm(Tensor x, Tensor y, Tensor weight, Tensor bias, double eps) {
        if (!FUSED_MLIP_OPS || x.dtype() != DType.F32) return Backend.super.addLayerNorm(x, y, weight, bias, eps);
        return FusedTransformer.addLayerNorm(this, x, y, weight, bias, eps);
    }
}
