// reduce.cu — SUM / MEAN / MAX / MIN over the middle axis of x (outer, R, inner) -> out (outer, inner),
// and argmax / argmin.
//
// Contract: cuda-kernels/KERNELS.md ("reduce.cu"). Semantics: tensor/src/main/java/mlip/tensor/cpu/Reduce.java:
//   - F32 accumulates in float and divides a MEAN in double ((float) (sum / R)); F64 in double;
//     I32 accumulates in 64 bits and converts like Java's (int) of a double (SUM saturates, MEAN
//     truncates toward zero);
//   - MAX/MIN are Java's Math.max/min: any NaN makes the result NaN, +0 > -0. These are bit-exact
//     (the fold is order-independent); SUM/MEAN of floats differ from the CPU only by summation order;
//   - R == 0 gives what the CPU's empty reduction gives: 0 for SUM (and MAX/MIN, which the front end
//     refuses), NaN for a floating MEAN, 0 for an I32 MEAN (Java's (int) NaN);
//   - argreduce: first index of the max (min); a NaN counts as the winner for both, so the result is
//     the index of the first NaN when there is one. R <= 0 writes 0.
//
// Versions:
//   reduce_kernel1: one thread per output (block 256, grid ceil(outer*inner/256)), a sequential loop
//       over R. For inner == 1 neighbouring threads read addresses R elements apart, so every load is
//       its own memory transaction, and with few outputs most of the GPU idles.
//   reduce_kernel2 (production): one warp per output (block 256 = 8 outputs, grid ceil(outer*inner/8)).
//       Lanes stride R by 32, so for inner == 1 a warp reads 128 contiguous bytes per step (coalesced),
//       and 32x more threads share a row; partials meet in a 5-step __shfl_xor_sync butterfly, no
//       shared memory, no __syncthreads. The op is a template parameter, so the inner loop carries no
//       switch. (For inner > 1 the lanes still read with stride `inner`; a column kernel that walks
//       inner with the lanes would be the next version.)
//   argreduce_kernel1: one warp per output like reduce_kernel2 (block 256, grid ceil(outer*inner/8)),
//       carrying (value, index) pairs through the butterfly.
#include "common.cuh"

// ReduceOp ordinals: SUM 0, MEAN 1, MAX 2, MIN 3.
template <typename A>
static __device__ __forceinline__ A reduce_combine(int op, A a, A b) {
    if (op == 2) return java_max(a, b);
    if (op == 3) return java_min(a, b);
    return a + b;
}

// The output value from the accumulator: MEAN divides in double; I32 converts like Java's (int).
static __device__ __forceinline__ void reduce_store(float* out, int op, float acc, int R) {
    *out = op == 1 ? (float)((double)acc / R) : acc;
}
static __device__ __forceinline__ void reduce_store(double* out, int op, double acc, int R) {
    *out = op == 1 ? acc / R : acc;
}
static __device__ __forceinline__ void reduce_store(int* out, int op, long long acc, int R) {
    if (op == 1) *out = java_d2i((double)acc / R);
    else if (op == 0) *out = java_d2i((double)acc);
    else *out = (int)acc;
}

// ---------------------------------------------------------------- version 1: thread per output

// A is the accumulator: float, double, and 64-bit for I32 (the CPU sums ints in a long).
template <typename T, typename A>
static __device__ __forceinline__ void reduce_thread_per_output(T* out, const T* x, int outer, int R, int inner, int op) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= outer * inner) return;
    int o = idx / inner, i = idx % inner;
    const T* row = x + (long long)o * R * inner + i;
    A acc = (A)0;
    if (op >= 2 && R > 0) acc = (A)row[0];
    for (int r = 0; r < R; r++) acc = reduce_combine(op, acc, (A)row[(long long)r * inner]);
    reduce_store(out + idx, op, acc, R);
}

extern "C" __global__ void reduce_kernel1_f32(float* out, const float* x, int outer, int R, int inner, int op) {
    reduce_thread_per_output<float, float>(out, x, outer, R, inner, op);
}
extern "C" __global__ void reduce_kernel1_f64(double* out, const double* x, int outer, int R, int inner, int op) {
    reduce_thread_per_output<double, double>(out, x, outer, R, inner, op);
}
extern "C" __global__ void reduce_kernel1_i32(int* out, const int* x, int outer, int R, int inner, int op) {
    reduce_thread_per_output<int, long long>(out, x, outer, R, inner, op);
}

// ---------------------------------------------------------------- version 2: warp per output

template <int OP, typename A>
static __device__ __forceinline__ A reduce_warp(A v) {
    for (int o = 16; o > 0; o >>= 1) v = reduce_combine(OP, v, __shfl_xor_sync(MLIP_FULL_MASK, v, o));
    return v;
}

template <int OP, typename A, typename T>
static __device__ __forceinline__ void reduce_warp_row(T* out, const T* row, int R, int inner, int lane) {
    A acc = (A)0;
    if (OP >= 2 && R > 0) acc = (A)row[0];  // MAX/MIN start from an element of the row (idempotent)
    for (int r = lane; r < R; r += 32) acc = reduce_combine(OP, acc, (A)row[(long long)r * inner]);
    acc = reduce_warp<OP>(acc);
    if (lane == 0) reduce_store(out, OP, acc, R);
}

template <typename T, typename A>
static __device__ __forceinline__ void reduce_warp_per_output(T* out, const T* x, int outer, int R, int inner, int op) {
    int w = (int)((blockIdx.x * (unsigned)blockDim.x + threadIdx.x) >> 5);
    int lane = threadIdx.x & 31;
    if (w >= outer * inner) return;  // warp-uniform: whole warps leave together
    int o = w / inner, i = w % inner;
    const T* row = x + (long long)o * R * inner + i;
    switch (op) {
        case 0: reduce_warp_row<0, A>(out + w, row, R, inner, lane); break;
        case 1: reduce_warp_row<1, A>(out + w, row, R, inner, lane); break;
        case 2: reduce_warp_row<2, A>(out + w, row, R, inner, lane); break;
        default: reduce_warp_row<3, A>(out + w, row, R, inner, lane); break;
    }
}

extern "C" __global__ void reduce_kernel2_f32(float* out, const float* x, int outer, int R, int inner, int op) {
    reduce_warp_per_output<float, float>(out, x, outer, R, inner, op);
}
extern "C" __global__ void reduce_kernel2_f64(double* out, const double* x, int outer, int R, int inner, int op) {
    reduce_warp_per_output<double, double>(out, x, outer, R, inner, op);
}
extern "C" __global__ void reduce_kernel2_i32(int* out, const int* x, int outer, int R, int inner, int op) {
    reduce_warp_per_output<int, long long>(out, x, outer, R, inner, op);
}

// ---------------------------------------------------------------- argreduce: warp per output

// True when candidate (v, i) beats (bv, bi): a NaN beats any number (the first NaN wins), then the
// larger (smaller) value, then the lower index.
template <typename T>
static __device__ __forceinline__ bool reduce_arg_wins(T v, int i, T bv, int bi, int isMax) {
    bool nv = v != v, nb = bv != bv;
    if (nv != nb) return nv;
    if (nv) return i < bi;
    if (isMax ? v > bv : v < bv) return true;
    return v == bv && i < bi;
}

template <typename T>
static __device__ __forceinline__ void reduce_arg_warp(int* out, const T* x, int outer, int R, int inner, int isMax) {
    int w = (int)((blockIdx.x * (unsigned)blockDim.x + threadIdx.x) >> 5);
    int lane = threadIdx.x & 31;
    if (w >= outer * inner) return;  // warp-uniform
    if (R <= 0) {
        if (lane == 0) out[w] = 0;
        return;
    }
    int o = w / inner, i = w % inner;
    const T* row = x + (long long)o * R * inner + i;
    // Lane's own candidates in increasing index order: strict improvement keeps the first, and the
    // first NaN ends the scan (nothing later can beat it).
    int best = -1;
    T bv = (T)0;
    for (int r = lane; r < R; r += 32) {
        T v = row[(long long)r * inner];
        if (best < 0 || v != v || (isMax ? v > bv : v < bv)) {
            bv = v;
            best = r;
            if (v != v) break;
        }
    }
    for (int s = 16; s > 0; s >>= 1) {
        T ov = __shfl_xor_sync(MLIP_FULL_MASK, bv, s);
        int oi = __shfl_xor_sync(MLIP_FULL_MASK, best, s);
        if (oi >= 0 && (best < 0 || reduce_arg_wins(ov, oi, bv, best, isMax))) {
            bv = ov;
            best = oi;
        }
    }
    if (lane == 0) out[w] = best;
}

extern "C" __global__ void argreduce_kernel1_f32(int* out, const float* x, int outer, int R, int inner, int isMax) {
    reduce_arg_warp(out, x, outer, R, inner, isMax);
}
extern "C" __global__ void argreduce_kernel1_f64(int* out, const double* x, int outer, int R, int inner, int isMax) {
    reduce_arg_warp(out, x, outer, R, inner, isMax);
}
extern "C" __global__ void argreduce_kernel1_i32(int* out, const int* x, int outer, int R, int inner, int isMax) {
    reduce_arg_warp(out, x, outer, R, inner, isMax);
}
