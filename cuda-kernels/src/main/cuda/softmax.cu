// softmax.cu — softmax / log-softmax over the last dim of a contiguous (rows, C) tensor.
//
// Semantics are those of the CPU backend (tensor/.../cpu/Fused.softmaxRow*):
//   softmax(x)_i     = exp(x_i - max) / sum_j exp(x_j - max)
//   log_softmax(x)_i = x_i - (max + log(sum_j exp(x_j - max)))
// and a row whose max is not finite gives NaN everywhere: a NaN anywhere in the row, a +inf
// (exp(inf - inf) = NaN in the sum) or a row of only -inf (exp(-inf - -inf) = NaN).
//
// Versions
//   softmax_forward_kernel1_f32  one thread per row; pass 1 finds the max, pass 2 sums exp(x - max),
//                                then the row is written. Block 256, grid ceil(rows / 256).
//                                Slow: the 32 threads of a warp walk 32 different rows, so every load
//                                of a warp touches 32 cache lines (no coalescing), and a row of C
//                                elements is serial work for one thread.
//   softmax_forward_kernel2_<t>  (production, f32/f64) one warp per row; each lane keeps an online
//                                (max, sum) pair (Milakov & Gimelshein 2018): when a new max arrives
//                                the running sum is rescaled by exp(old - new), so the statistics need
//                                ONE read of the row instead of two; the 32 lane pairs are merged with
//                                butterfly shuffles, then the row is read once more and written.
//                                Lanes read consecutive elements, so each warp load is one or two
//                                128-byte transactions; traffic is 2 reads + 1 write per element
//                                (kernel1: 3 reads + 1 write, uncoalesced). Block 256 (8 rows), grid
//                                ceil(rows / 8).
#include "common.cuh"

// ------------------------------------------------------------------------------------------------
// kernel1: one thread per row, two passes for the statistics.

extern "C" __global__ void softmax_forward_kernel1_f32(float* out, const float* x, int rows, int C, int log) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= rows) return;
    const float* xr = x + (long long)row * C;
    float* outr = out + (long long)row * C;
    float m = -INFINITY;
    bool nan = false;
    for (int i = 0; i < C; i++) {
        float v = xr[i];
        if (v != v) nan = true;
        if (v > m) m = v;
    }
    if (nan) m = NAN;  // NaN max: every output is NaN, as in the CPU backend
    float sum = 0.0f;
    for (int i = 0; i < C; i++) sum += expf(xr[i] - m);
    if (log) {
        float shift = m + logf(sum);
        for (int i = 0; i < C; i++) outr[i] = xr[i] - shift;
    } else {
        float inv = 1.0f / sum;
        for (int i = 0; i < C; i++) outr[i] = expf(xr[i] - m) * inv;
    }
}

// ------------------------------------------------------------------------------------------------
// kernel2: one warp per row, online max/sum.

template <typename T>
static __device__ void softmax_forward2(T* out, const T* x, int rows, int C, int log) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;  // whole warps leave together
    const T* xr = x + (long long)row * C;
    T* outr = out + (long long)row * C;
    T m = (T)-INFINITY, s = (T)0;
    for (int i = lane; i < C; i += 32) online_softmax_add(m, s, xr[i]);
    online_softmax_warp_merge(m, s);
    if (log) {
        T shift = m + mlip_log(s);
        for (int i = lane; i < C; i += 32) outr[i] = xr[i] - shift;
    } else {
        T inv = (T)1 / s;
        for (int i = lane; i < C; i += 32) outr[i] = mlip_exp(xr[i] - m) * inv;
    }
}

extern "C" __global__ void softmax_forward_kernel2_f32(float* out, const float* x, int rows, int C, int log) {
    softmax_forward2<float>(out, x, rows, C, log);
}

extern "C" __global__ void softmax_forward_kernel2_f64(double* out, const double* x, int rows, int C, int log) {
    softmax_forward2<double>(out, x, rows, C, log);
}
