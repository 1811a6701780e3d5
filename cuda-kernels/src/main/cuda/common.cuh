// common.cuh — what every kernel file shares.
//
// Compiled two ways (DESIGN.md section 6): by nvcc to PTX for a real GPU, and by g++ against the
// emulator's header (src/main/emu/cuda_emu.h), which defines the CUDA built-ins. So this file and the
// kernel files use only `__global__`/`__device__` code, the standard built-ins and the C math library,
// never host code or CUDA headers. The kernel contract (names, signatures, launch geometry) is in
// cuda-kernels/KERNELS.md.
#pragma once

#ifdef __CUDACC__
// Dynamic shared memory: one `extern __shared__` array per kernel, typed through a cast so that
// kernels templated on the element type can share the same declaration.
#define DYN_SHARED(T, name)                       \
    extern __shared__ unsigned char name##_raw[]; \
    T* name = reinterpret_cast<T*>(name##_raw)
#else
#include "../emu/cuda_emu.h"
#endif

#define MLIP_MAX_DIMS 8
#define MLIP_FULL_MASK 0xffffffffu

// A strided view passed by value: element strides; the pointer already points at the view's first
// element. Linear index i (row-major over shape) lives at sum(coord[d] * stride[d]).
struct Layout {
    int rank;
    int shape[MLIP_MAX_DIMS];
    int stride[MLIP_MAX_DIMS];
};

// Element offset of row-major linear index i in a strided layout. The loop is unrolled over the
// maximum rank so every shape/stride index is a constant: indexing a by-value struct with a runtime
// index would copy it to local memory (ptxas -warn-lmem-usage fails the build on that).
static __device__ __forceinline__ long long layout_offset(const Layout& L, int i) {
    long long off = 0;
#pragma unroll
    for (int d = MLIP_MAX_DIMS - 1; d >= 0; d--) {
        if (d < L.rank) {
            int c = i % L.shape[d];
            i /= L.shape[d];
            off += (long long)c * L.stride[d];
        }
    }
    return off;
}

// Java's scalar semantics, which the CPU backend (the reference) has.
// (int) of a double: NaN -> 0, saturating at the int range, otherwise truncation toward zero.
static __device__ __forceinline__ int java_d2i(double v) {
    if (v != v) return 0;
    if (v >= 2147483647.0) return 2147483647;
    if (v <= -2147483648.0) return -2147483647 - 1;
    return (int)v;
}

// Math.max/min: NaN propagates; -0 < +0 (for two zeros the sum is +0 unless both are -0).
template <typename T>
static __device__ __forceinline__ T java_max(T a, T b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == (T)0 && b == (T)0) return a + b;
    return a > b ? a : b;
}

template <typename T>
static __device__ __forceinline__ T java_min(T a, T b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == (T)0 && b == (T)0) return -((-a) + (-b));
    return a < b ? a : b;
}

// Warp-wide reductions with butterfly shuffles: every lane ends with the result.
template <typename T>
static __device__ __forceinline__ T warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(MLIP_FULL_MASK, v, o);
    return v;
}

template <typename T>
static __device__ __forceinline__ T warp_max(T v) {
    for (int o = 16; o > 0; o >>= 1) {
        T w = __shfl_xor_sync(MLIP_FULL_MASK, v, o);
        v = w > v ? w : v;
    }
    return v;
}

// exp/log/sqrt for float and double through one name, so templated kernels call mlip_exp(x).
static __device__ __forceinline__ float mlip_exp(float x) { return expf(x); }
static __device__ __forceinline__ double mlip_exp(double x) { return exp(x); }
static __device__ __forceinline__ float mlip_log(float x) { return logf(x); }
static __device__ __forceinline__ double mlip_log(double x) { return log(x); }
static __device__ __forceinline__ float mlip_sqrt(float x) { return sqrtf(x); }
static __device__ __forceinline__ double mlip_sqrt(double x) { return sqrt(x); }
static __device__ __forceinline__ float mlip_tanh(float x) { return tanhf(x); }
static __device__ __forceinline__ double mlip_tanh(double x) { return tanh(x); }
static __device__ __forceinline__ float mlip_erf(float x) { return erff(x); }
static __device__ __forceinline__ double mlip_erf(double x) { return erf(x); }

// Online softmax statistics (softmax.cu, crossentropy.cu): one pass keeps the running max m and
// s = sum exp(x_j - m).
// Folds x into the running (m, s): s = sum exp(x_j - m) over the values seen. -inf contributes
// nothing; NaN makes s NaN (and keeps it NaN: NaN * 0 + 1 is NaN).
template <typename T>
static __device__ __forceinline__ void online_softmax_add(T& m, T& s, T v) {
    if (v > m) {
        s = s * mlip_exp(m - v) + (T)1;  // m = -inf at the start: exp(-inf) = 0
        m = v;
    } else if (v != (T)-INFINITY) {
        s += mlip_exp(v - m);  // v NaN: s becomes NaN
    }
}

// s rescaled from max m to max M >= m; an empty state (s == 0, m == -inf) stays 0.
template <typename T>
static __device__ __forceinline__ T online_softmax_rescale(T s, T m, T M) {
    return s == (T)0 ? (T)0 : s * mlip_exp(m - M);
}

// Merges the 32 lanes' (m, s) so that every lane holds the row's; then applies the CPU's rule that a
// non-finite max makes the row NaN.
template <typename T>
static __device__ __forceinline__ void online_softmax_warp_merge(T& m, T& s) {
    for (int o = 16; o > 0; o >>= 1) {
        T mo = __shfl_xor_sync(MLIP_FULL_MASK, m, o);
        T so = __shfl_xor_sync(MLIP_FULL_MASK, s, o);
        T M = mo > m ? mo : m;
        s = online_softmax_rescale(s, m, M) + online_softmax_rescale(so, mo, M);
        m = M;
    }
    if (!(m > (T)-INFINITY && m < (T)INFINITY)) {
        m = (T)NAN;
        s = (T)NAN;
    }
}

// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), and its derivative.
template <typename T>
static __device__ __forceinline__ T gelu_tanh(T x) {
    const T k = (T)0.7978845608028654, c = (T)0.044715;
    return (T)0.5 * x * ((T)1 + mlip_tanh(k * (x + c * x * x * x)));
}

template <typename T>
static __device__ __forceinline__ T gelu_tanh_grad(T x) {
    const T k = (T)0.7978845608028654, c = (T)0.044715;
    T u = k * (x + c * x * x * x);
    T th = mlip_tanh(u);
    T sech2 = (T)1 - th * th;
    return (T)0.5 * ((T)1 + th) + (T)0.5 * x * sech2 * k * ((T)1 + (T)3 * c * x * x);
}

// GELU, exact: 0.5 x (1 + erf(x / sqrt(2))).
template <typename T>
static __device__ __forceinline__ T gelu_erf(T x) {
    return (T)0.5 * x * ((T)1 + mlip_erf(x * (T)0.7071067811865476));
}

// d/dx of the exact GELU: Phi(x) + x phi(x).
template <typename T>
static __device__ __forceinline__ T gelu_erf_grad(T x) {
    const T inv_sqrt_2pi = (T)0.3989422804014327;
    return (T)0.5 * ((T)1 + mlip_erf(x * (T)0.7071067811865476)) + x * inv_sqrt_2pi * mlip_exp((T)-0.5 * x * x);
}

// Grid-stride loop over [0, n).
#define GRID_STRIDE_LOOP(i, n) \
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)
