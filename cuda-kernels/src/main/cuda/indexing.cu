// indexing.cu — gather, index_select, scatter_add and the embedding backward.
//
// Contract: cuda-kernels/KERNELS.md ("indexing.cu"). Semantics: tensor/src/main/java/mlip/tensor/cpu/Indexing.java.
// Every index is checked against [0, size): the CPU throws for anything else (negative indices
// included), so here an out-of-range index sets *err = 1 + max(index, 0) (nonzero; wraps to INT_MIN for
// INT_MAX) and its element is skipped: gather/index_select write 0 there and never read out of bounds,
// scatter_add/embedding_backward add nothing. Java zeroes *err before the launch and throws after it.
//
// Coordinates of gather/scatter_add run over the index tensor's shape (li.shape), as the CPU's
// StridedLoop does over its "base view" (the data's strides with the dim stride zeroed): the data
// layouts contribute only their strides and their size along `dim` (the bound). So lo/ls/lx may carry
// either the index shape or their own (larger) shape.
//
// Versions (all grid-stride, block 256, grid min(ceil(n/256), 32 * SMs)):
//   gather_kernel1, index_select_kernel1: one output element per thread per iteration.
//   scatter_add_kernel1, embedding_backward_kernel1_f32: one source element per thread per iteration,
//       accumulated with atomicAdd (float, double, int). Unlike the CPU's serial loop the order of
//       float additions into a repeated index is not fixed, so F32/F64 results match within tolerance;
//       I32 (wrapping adds) is exact.
#include "common.cuh"

static __device__ __forceinline__ void indexing_flag(int* err, int v) {
    *err = (int)(1u + (unsigned)max(v, 0));
}

// a[d] for a runtime d without dynamic indexing (which would copy the by-value Layout to local memory).
static __device__ __forceinline__ int indexing_pick(const int (&a)[MLIP_MAX_DIMS], int d) {
    int r = 0;
#pragma unroll
    for (int k = 0; k < MLIP_MAX_DIMS; k++) r = k == d ? a[k] : r;
    return r;
}

// Offsets of row-major index i over li.shape: in li (its strides) and in a data layout (its strides,
// except along dim, where the index value goes instead).
static __device__ __forceinline__ void indexing_offsets(const Layout& li, const Layout& ld, int dim, int i,
                                                        long long& offIndex, long long& offData) {
    long long oi = 0, od = 0;
#pragma unroll
    for (int d = MLIP_MAX_DIMS - 1; d >= 0; d--) {  // constant trip count: unrolled, Layout stays in registers
        if (d >= li.rank) continue;
        int c = i % li.shape[d];
        i /= li.shape[d];
        oi += (long long)c * li.stride[d];
        if (d != dim) od += (long long)c * ld.stride[d];
    }
    offIndex = oi;
    offData = od;
}

// As indexing_offsets, plus the offset in a second layout that follows the index coordinates in
// every dim (scatter_add's src, narrowed to the index shape).
static __device__ __forceinline__ void indexing_offsets3(const Layout& li, const Layout& ld, const Layout& ls, int dim,
                                                         int i, long long& offIndex, long long& offData,
                                                         long long& offSrc) {
    long long oi = 0, od = 0, os = 0;
#pragma unroll
    for (int d = MLIP_MAX_DIMS - 1; d >= 0; d--) {  // constant trip count: unrolled, Layout stays in registers
        if (d >= li.rank) continue;
        int c = i % li.shape[d];
        i /= li.shape[d];
        oi += (long long)c * li.stride[d];
        if (d != dim) od += (long long)c * ld.stride[d];
        os += (long long)c * ls.stride[d];
    }
    offIndex = oi;
    offData = od;
    offSrc = os;
}

// ---------------------------------------------------------------- gather

template <typename T>
static __device__ __forceinline__ void indexing_gather(T* out, const T* x, const Layout& lx, const int* index,
                                                       const Layout& li, int n, int dim, int* err) {
    int size = indexing_pick(lx.shape, dim);
    long long dimStride = indexing_pick(lx.stride, dim);
    GRID_STRIDE_LOOP(i, n) {
        long long oi, ox;
        indexing_offsets(li, lx, dim, i, oi, ox);
        int v = index[oi];
        if (v < 0 || v >= size) {
            indexing_flag(err, v);
            out[i] = (T)0;
        } else {
            out[i] = x[ox + v * dimStride];
        }
    }
}

extern "C" __global__ void gather_kernel1_f32(float* out, const float* x, Layout lx, const int* index, Layout li, int n, int dim, int* err) {
    indexing_gather(out, x, lx, index, li, n, dim, err);
}
extern "C" __global__ void gather_kernel1_f64(double* out, const double* x, Layout lx, const int* index, Layout li, int n, int dim, int* err) {
    indexing_gather(out, x, lx, index, li, n, dim, err);
}
extern "C" __global__ void gather_kernel1_i32(int* out, const int* x, Layout lx, const int* index, Layout li, int n, int dim, int* err) {
    indexing_gather(out, x, lx, index, li, n, dim, err);
}

// ---------------------------------------------------------------- index_select

template <typename T>
static __device__ __forceinline__ void indexing_index_select(T* out, const T* x, const int* index, int outer, int xDim,
                                                             int nIdx, int inner, int* err) {
    int n = outer * nIdx * inner;
    GRID_STRIDE_LOOP(e, n) {
        int k = e % inner, t = e / inner;
        int j = t % nIdx, o = t / nIdx;
        int v = index[j];
        if (v < 0 || v >= xDim) {
            indexing_flag(err, v);
            out[e] = (T)0;
        } else {
            out[e] = x[((long long)o * xDim + v) * inner + k];
        }
    }
}

extern "C" __global__ void index_select_kernel1_f32(float* out, const float* x, const int* index, int outer, int xDim, int nIdx, int inner, int* err) {
    indexing_index_select(out, x, index, outer, xDim, nIdx, inner, err);
}
extern "C" __global__ void index_select_kernel1_f64(double* out, const double* x, const int* index, int outer, int xDim, int nIdx, int inner, int* err) {
    indexing_index_select(out, x, index, outer, xDim, nIdx, inner, err);
}
extern "C" __global__ void index_select_kernel1_i32(int* out, const int* x, const int* index, int outer, int xDim, int nIdx, int inner, int* err) {
    indexing_index_select(out, x, index, outer, xDim, nIdx, inner, err);
}

// ---------------------------------------------------------------- scatter_add

template <typename T>
static __device__ __forceinline__ void indexing_scatter_add(T* out, const Layout& lo, const int* index, const Layout& li,
                                                            const T* src, const Layout& ls, int n, int dim, int* err) {
    int size = indexing_pick(lo.shape, dim);
    long long dimStride = indexing_pick(lo.stride, dim);
    GRID_STRIDE_LOOP(i, n) {
        long long oi, oo, os;
        indexing_offsets3(li, lo, ls, dim, i, oi, oo, os);
        int v = index[oi];
        if (v < 0 || v >= size) {
            indexing_flag(err, v);
            continue;
        }
        atomicAdd(out + oo + v * dimStride, src[os]);
    }
}

extern "C" __global__ void scatter_add_kernel1_f32(float* out, Layout lo, const int* index, Layout li, const float* src, Layout ls, int n, int dim, int* err) {
    indexing_scatter_add(out, lo, index, li, src, ls, n, dim, err);
}
extern "C" __global__ void scatter_add_kernel1_f64(double* out, Layout lo, const int* index, Layout li, const double* src, Layout ls, int n, int dim, int* err) {
    indexing_scatter_add(out, lo, index, li, src, ls, n, dim, err);
}
extern "C" __global__ void scatter_add_kernel1_i32(int* out, Layout lo, const int* index, Layout li, const int* src, Layout ls, int n, int dim, int* err) {
    indexing_scatter_add(out, lo, index, li, src, ls, n, dim, err);
}

// ---------------------------------------------------------------- embedding backward

// dweight (V, D) += dout (N, D) rows scattered by ids (N); dweight zeroed by the caller.
extern "C" __global__ void embedding_backward_kernel1_f32(float* dweight, const int* ids, const float* dout, int N, int D, int V, int* err) {
    int n = N * D;
    GRID_STRIDE_LOOP(e, n) {
        int row = e / D, d = e % D;
        int v = ids[row];
        if (v < 0 || v >= V) {
            indexing_flag(err, v);
            continue;
        }
        atomicAdd(dweight + (long long)v * D + d, dout[e]);
    }
}
