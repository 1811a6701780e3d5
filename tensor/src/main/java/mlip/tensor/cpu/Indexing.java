package mlip.tensor.cpu;

import mlip.tensor.DType;
import mlip.tensor.Tensor;

/**
 * gather, index_select, scatter_add, cat, topk, and the fused top-k gather of MLIP's masked encoding (DESIGN.md 7.3).
 *
 * <p>gather and scatter_add walk the index tensor with a {@link StridedLoop} over a "base" view of the
 * data whose stride along {@code dim} is zeroed: the loop supplies every coordinate except the one the
 * index names, and the kernel adds {@code index * stride(dim)}. scatter_add runs serially in index
 * order, so repeated indices accumulate in a fixed order (deterministic, no atomics).
 */
final class Indexing {
    private Indexing() {
    }

    private static CpuStorage st(Tensor t) {
        return (CpuStorage) t.storage();
    }

    /** A view of {@code x} with {@code shape} and x's strides, except stride 0 along {@code dim}. */
    private static Tensor baseView(Tensor x, int dim, int[] shape) {
        int[] s = x.strides();
        s[dim] = 0;
        return new Tensor(x.storage(), shape, s, x.offset());
    }

    private static int checkIndex(String op, int v, int size, int dim) {
        if (v < 0 || v >= size) {
            throw new IllegalArgumentException(op + ": index " + v + " out of range [0, " + size + ") for dim " + dim);
        }
        return v;
    }

    static Tensor gather(CpuBackend be, Tensor x, int dim, Tensor index) {
        Tensor out = be.empty(x.dtype(), index.shape());
        Tensor xb = baseView(x, dim, index.shape());
        StridedLoop loop = new StridedLoop(index.shape(), xb, index, out);
        int xs = loop.innerStride[0], is = loop.innerStride[1], os = loop.innerStride[2];
        int dimStride = x.stride(dim), size = x.size(dim);
        CpuStorage sx = st(x), si = st(index), so = st(out);
        loop.forEachRow(be.pool(), (off, n) -> {
            for (int i = 0; i < n; i++) {
                int src = off[0] + i * xs + checkIndex("gather", si.i[off[1] + i * is], size, dim) * dimStride;
                int dst = off[2] + i * os;
                switch (x.dtype()) {
                    case F32 -> so.f[dst] = sx.f[src];
                    case F64 -> so.d[dst] = sx.d[src];
                    case I32 -> so.i[dst] = sx.i[src];
                }
            }
        });
        return out;
    }

    static Tensor scatterAdd(CpuBackend be, Tensor x, int dim, Tensor index, Tensor src) {
        Tensor out = x.copy();
        int[] ishape = index.shape();
        Tensor ob = baseView(out, dim, ishape);
        Tensor sv = src;
        for (int d = 0; d < ishape.length; d++) sv = sv.narrow(d, 0, ishape[d]);
        StridedLoop loop = new StridedLoop(ishape, ob, index, sv);
        int os = loop.innerStride[0], is = loop.innerStride[1], ss = loop.innerStride[2];
        int dimStride = out.stride(dim), size = out.size(dim);
        CpuStorage so = st(out), si = st(index), sx = st(sv);
        loop.forEachRow(Parallel.SERIAL, (off, n) -> {
            for (int i = 0; i < n; i++) {
                int dst = off[0] + i * os + checkIndex("scatterAdd", si.i[off[1] + i * is], size, dim) * dimStride;
                int s = off[2] + i * ss;
                switch (x.dtype()) {
                    case F32 -> so.f[dst] += sx.f[s];
                    case F64 -> so.d[dst] += sx.d[s];
                    case I32 -> so.i[dst] += sx.i[s];
                }
            }
        });
        return out;
    }

    static Tensor indexSelect(CpuBackend be, Tensor x, int dim, Tensor index) {
        int[] shape = x.shape();
        int len = index.size(0), size = shape[dim];
        shape[dim] = len;
        Tensor out = be.empty(x.dtype(), shape);
        int[] idx = (int[]) be.toHost(index);
        for (int v : idx) checkIndex("indexSelect", v, size, dim);
        int sliceElems = out.numel() / Math.max(1, len);
        be.pool().forRange(len, Math.max(1, StridedLoop.GRAIN / Math.max(1, sliceElems)), (s, e) -> {
            for (int j = s; j < e; j++) Elementwise.copy(Parallel.SERIAL, x.select(dim, idx[j]), out.select(dim, j));
        });
        return out;
    }

    static Tensor cat(CpuBackend be, Tensor[] xs, int dim) {
        int[] shape = xs[0].shape();
        int total = 0;
        for (Tensor x : xs) total += x.size(dim);
        shape[dim] = total;
        Tensor out = be.empty(xs[0].dtype(), shape);
        int at = 0;
        for (Tensor x : xs) {
            Elementwise.copy(be.pool(), x, out.narrow(dim, at, x.size(dim)));
            at += x.size(dim);
        }
        return out;
    }

    /** Sorted top-k along dim by a stable merge sort of indices: ties keep the lower index; NaN is the largest value. */
    static Tensor[] topk(CpuBackend be, Tensor x, int k, int dim, boolean largest) {
        Tensor xt = x.transpose(dim, -1);               // (..., n) with dim last
        int n = xt.size(-1);
        int[] tshape = xt.shape();
        tshape[tshape.length - 1] = k;
        Tensor vals = be.empty(x.dtype(), tshape), idxs = be.empty(DType.I32, tshape);
        int outer = n == 0 ? 0 : xt.numel() / n;
        if (outer > 0 && k > 0) {
            Tensor x2 = xt.reshape(outer, n);
            CpuStorage sx = st(x2), sv = st(vals);
            int[] si = st(idxs).i;
            int rs = x2.stride(0), cs = x2.stride(1), base = x2.offset();
            be.pool().forRange(outer, Math.max(1, 2048 / n), (s, e) -> {
                double[] v = new double[n];
                int[] order = new int[n], tmp = new int[n];
                for (int r = s; r < e; r++) {
                    for (int j = 0; j < n; j++) {
                        v[j] = sx.get(base + r * rs + j * cs);
                        order[j] = j;
                    }
                    mergeSort(order, tmp, 0, n, v, largest);
                    for (int j = 0; j < k; j++) {
                        si[r * k + j] = order[j];
                        sv.set(r * k + j, v[order[j]]);
                    }
                }
            });
        }
        return new Tensor[]{vals.transpose(dim, -1).contiguous(), idxs.transpose(dim, -1).contiguous()};
    }

    /** The set of the CPU topk (ties to the lower index, NaN highest), each row's indices sorted ascending, then whole-row copies. */
    static Tensor[] topkGather(CpuBackend be, Tensor x, Tensor scores, int k) {
        Tensor idx = topk(be, scores, k, 1, true)[1];                               // (B, k) I32, by score (contiguous, offset 0)
        int b = x.size(0), n = x.size(1), d = x.size(2);
        Tensor xc = x.contiguous(), out = be.empty(x.dtype(), new int[]{b, k, d});  // (B, k, D)
        CpuStorage sx = (CpuStorage) xc.storage(), so = (CpuStorage) out.storage();
        int[] ix = ((CpuStorage) idx.storage()).i;
        for (int r = 0; r < b; r++) java.util.Arrays.sort(ix, idx.offset() + r * k, idx.offset() + (r + 1) * k);   // ascending patch order
        for (int r = 0; r < b * k; r++) {
            int src = xc.offset() + (r / k * n + ix[idx.offset() + r]) * d;
            switch (x.dtype()) {
                case F32 -> System.arraycopy(sx.f, src, so.f, r * d, d);
                case F64 -> System.arraycopy(sx.d, src, so.d, r * d, d);
                case I32 -> System.arraycopy(sx.i, src, so.i, r * d, d);
            }
        }
        return new Tensor[]{out, idx};
    }

    /** Rows of grad added (not copied: an index may repeat) into zeros (B, n, D), serially in index order. */
    static Tensor topkGatherBackward(CpuBackend be, Tensor grad, Tensor indices, int n) {
        int b = grad.size(0), k = grad.size(1), d = grad.size(2);
        Tensor gc = grad.contiguous(), out = be.empty(grad.dtype(), new int[]{b, n, d});   // (B, n, D)
        CpuStorage sg = (CpuStorage) gc.storage(), so = (CpuStorage) out.storage();
        int[] ix = indices.toIntArray();                                                   // (B, k)
        int go = gc.offset();
        for (int r = 0; r < b * k; r++) {
            if (ix[r] < 0 || ix[r] >= n) {
                throw new IllegalArgumentException("topkGatherBackward: index " + ix[r] + " out of range [0, " + n + ") at row " + r / k);
            }
            int dst = (r / k * n + ix[r]) * d, src = go + r * d;
            switch (grad.dtype()) {
                case F32 -> { for (int c = 0; c < d; c++) so.f[dst + c] += sg.f[src + c]; }
                case F64 -> { for (int c = 0; c < d; c++) so.d[dst + c] += sg.d[src + c]; }
                case I32 -> { for (int c = 0; c < d; c++) so.i[dst + c] += sg.i[src + c]; }
            }
        }
        return out;
    }

    /** True when value a must come strictly before value b. */
    private static boolean before(double a, double b, boolean largest) {
        if (largest) {
            if (Double.isNaN(a)) return !Double.isNaN(b);
            return !Double.isNaN(b) && a > b;
        }
        if (Double.isNaN(a)) return false;
        return Double.isNaN(b) || a < b;
    }

    private static void mergeSort(int[] a, int[] tmp, int lo, int hi, double[] v, boolean largest) {
        if (hi - lo < 2) return;
        int mid = (lo + hi) >>> 1;
        mergeSort(a, tmp, lo, mid, v, largest);
        mergeSort(a, tmp, mid, hi, v, largest);
        int i = lo, j = mid, t = lo;
        while (i < mid && j < hi) tmp[t++] = before(v[a[j]], v[a[i]], largest) ? a[j++] : a[i++];
        while (i < mid) tmp[t++] = a[i++];
        while (j < hi) tmp[t++] = a[j++];
        System.arraycopy(tmp, lo, a, lo, hi - lo);
    }
}
