// topk.cu — sorted top-k (values and I32 indices) along the last dim of a contiguous (rows, C) tensor.
//
// Semantics are those of the CPU backend (tensor/.../cpu/Indexing.topk, a stable merge sort): the k
// first elements of the row in the total order
//   largest:  NaN first (NaNs among themselves by index), then value descending, equal values by
//             index ascending;
//   smallest: value ascending, equal values by index ascending, NaN last (by index).
// "Equal" is ==, so -0.0 and 0.0 tie and go by index. values and indices are (rows, k) contiguous.
//
// Versions
//   topk_kernel1_<t> (production, f32/f64/i32): one block of 256 threads per row, grid rows. k rounds;
//   round r picks the first element of the row, in the total order, that comes strictly after pick
//   r-1: each thread scans its strided share of the row (coalesced), then a block-wide arg-best (warp
//   shuffles, then the 8 warp winners through shared memory) selects it. O(k * C / 256) loads per
//   thread: simple and exact, meant for the small k of the model (top-1/top-5 accuracy, retrieval); a
//   large k over a long row would want a block-wide sort (bitonic in shared memory) instead.
#include "common.cuh"

#define TOPK_THREADS 256
#define TOPK_WARPS (TOPK_THREADS / 32)

template <typename T>
static __device__ __forceinline__ bool topk_isnan(T v) {
    return v != v;  // false for int
}

// True when (va, ia) comes strictly before (vb, ib) in the order above.
template <typename T>
static __device__ __forceinline__ bool topk_before(T va, int ia, T vb, int ib, int largest) {
    bool na = topk_isnan(va), nb = topk_isnan(vb);
    if (na || nb) {
        if (na && nb) return ia < ib;
        return largest ? na : nb;  // largest: a NaN comes first; smallest: a NaN comes last
    }
    if (va != vb) return largest ? va > vb : va < vb;
    return ia < ib;
}

// The better of two candidates; index < 0 means "no candidate".
template <typename T>
static __device__ __forceinline__ void topk_pick(T& v, int& i, T ov, int oi, int largest) {
    if (oi < 0) return;
    if (i < 0 || topk_before(ov, oi, v, i, largest)) {
        v = ov;
        i = oi;
    }
}

template <typename T>
static __device__ void topk_rows(T* values, int* indices, const T* x, int rows, int C, int k, int largest) {
    __shared__ T warpV[TOPK_WARPS];
    __shared__ int warpI[TOPK_WARPS];
    __shared__ T pickV;
    __shared__ int pickI;
    int row = blockIdx.x;
    if (row >= rows) return;  // the whole block leaves together
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, nwarps = blockDim.x >> 5;
    const T* xr = x + (long long)row * C;
    T* vr = values + (long long)row * k;
    int* ir = indices + (long long)row * k;
    T prevV = (T)0;
    int prevI = -1;  // no previous pick: every element is a candidate
    for (int r = 0; r < k; r++) {
        T bestV = (T)0;
        int bestI = -1;
        for (int i = tid; i < C; i += blockDim.x) {
            T v = xr[i];
            if (prevI >= 0 && !topk_before(prevV, prevI, v, i, largest)) continue;  // not after the previous pick
            topk_pick(bestV, bestI, v, i, largest);
        }
        for (int o = 16; o > 0; o >>= 1) {
            T ov = __shfl_xor_sync(MLIP_FULL_MASK, bestV, o);
            int oi = __shfl_xor_sync(MLIP_FULL_MASK, bestI, o);
            topk_pick(bestV, bestI, ov, oi, largest);
        }
        if (lane == 0) {
            warpV[warp] = bestV;
            warpI[warp] = bestI;
        }
        __syncthreads();
        if (tid == 0) {
            for (int w = 1; w < nwarps; w++) topk_pick(bestV, bestI, warpV[w], warpI[w], largest);
            pickV = bestV;
            pickI = bestI;
            vr[r] = bestV;
            ir[r] = bestI;
        }
        __syncthreads();
        prevV = pickV;
        prevI = pickI;
    }
}

extern "C" __global__ void topk_kernel1_f32(float* values, int* indices, const float* x, int rows, int C, int k, int largest) {
    topk_rows<float>(values, indices, x, rows, C, k, largest);
}

extern "C" __global__ void topk_kernel1_f64(double* values, int* indices, const double* x, int rows, int C, int k, int largest) {
    topk_rows<double>(values, indices, x, rows, C, k, largest);
}

extern "C" __global__ void topk_kernel1_i32(int* values, int* indices, const int* x, int rows, int C, int k, int largest) {
    topk_rows<int>(values, indices, x, rows, C, k, largest);
}
