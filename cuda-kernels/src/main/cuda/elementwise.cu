// elementwise.cu — unary, binary, where, copy (with dtype conversion), fill and arange.
//
// Contract: cuda-kernels/KERNELS.md ("elementwise.cu"). Semantics: tensor/src/main/java/mlip/tensor/cpu/
// (ScalarMath.java for every op, Elementwise.java for where/copy, CpuBackend.full/arange), namely:
//   - MAX/MIN are Java's Math.max/min: NaN wins, and +0 > -0 (java_max/java_min in common.cuh);
//   - POW is Java's Math.pow (differs from C pow only for a NaN exponent and (+-1)^(+-inf): NaN);
//   - RELU keeps NaN and maps -0 to +0; SIGN keeps +-0 and NaN;
//   - I32 arithmetic wraps (done in unsigned, so INT_MIN / -1 and -INT_MIN are defined), DIV truncates
//     toward zero, POW is (int) Math.pow(x, y) computed exactly in integers (saturating), comparisons
//     give 1/0; I32 DIV by zero (the CPU throws) gives 0 here — no err flag in the signature;
//   - I32 unary ops the CPU rejects (EXP, LOG, ...) are computed in double and cast like Java's (int);
//   - float -> int conversions are Java's (int) cast: NaN -> 0, out of range saturates (java_d2i in common.cuh);
//   - fill of -0.0 writes +0 (CpuBackend.full leaves the zeroed array for value == 0); arange is
//     (T) (start + i * step) with the product rounded on its own (no FMA), as Java evaluates it;
//   - F32 transcendental ops run in float (expf, tanhf, erff, ...): within F32 tolerance of the CPU
//     (whose scalar path evaluates them in double, its vector path in float polynomials). ADD, SUB,
//     MUL, DIV, SQRT, RECIP, comparisons, NEG, ABS, SIGN, RELU, MAX, MIN are bit-exact; RSQRT is
//     1.0f / sqrtf(x) like the CPU's vector path (its scalar path rounds once from double).
//
// Versions (all grid-stride, block 256, grid min(ceil(n/256), 32 * SMs)):
//   unary_kernel1 / binary_kernel1 (f32): one element per thread per iteration, scalar 4-byte loads.
//   unary_kernel2 / binary_kernel2 (production): the f32 instantiation moves 16 bytes per load/store
//       (float4: a quarter of the memory instructions, full 128-byte lines per warp request). The
//       pointers only need the same address modulo 16: the first 0..3 elements (to the 16-byte
//       boundary) and the last 0..3 are done one per thread, the middle as float4. Pointers that are
//       not mutually aligned fall back to the scalar loop. f64 and i32 use the scalar loop.
//   unary_strided_kernel1, binary_strided_kernel1, where_kernel1, copy_kernel1: arbitrary strided (and
//       broadcast, stride 0) inputs through Layout; one element per thread per iteration.
//   fill_kernel1, arange_kernel1: one store per element.
#include "common.cuh"

// ---------------------------------------------------------------- scalar semantics



// Java's Math.pow(x, y) in double: C's pow except pow(x, NaN) = NaN and pow(+-1, +-inf) = NaN.
static __device__ __forceinline__ double ew_jpow(double x, double y) {
    if (y != y) return y;
    bool yInf = (y - y) != (y - y);  // y is +-inf (NaN excluded above)
    if (yInf && fabs(x) == 1.0) return y - y;  // NaN
    return pow(x, y);
}

// (int) Math.pow(x, y) for ints, exactly: Math.pow is exact when the result is a representable integer,
// and every other integer result lies outside the int range (saturates) or below 1 in magnitude (0).
static __device__ __forceinline__ int ew_ipow(int x, int y) {
    if (y == 0) return 1;
    if (x == 1) return 1;
    if (x == -1) return (y & 1) ? -1 : 1;
    if (y < 0) return x == 0 ? 2147483647 : 0;  // 0^-k = +inf saturates; |x| >= 2: |x^y| < 1 truncates to 0
    if (x == 0) return 0;
    bool neg = x < 0 && (y & 1);
    unsigned long long ax = x < 0 ? (unsigned long long)(-(long long)x) : (unsigned long long)x;  // >= 2
    unsigned long long r = 1;
    for (int k = 0; k < y && r <= 2147483648ull; k++) r *= ax;  // at most 32 rounds before it leaves int range
    if (neg) return r >= 2147483648ull ? -2147483647 - 1 : -(int)r;
    return r >= 2147483647ull ? 2147483647 : (int)r;
}

static __device__ __forceinline__ float ew_abs(float x) { return fabsf(x); }
static __device__ __forceinline__ double ew_abs(double x) { return fabs(x); }

// UnaryOp ordinals: NEG 0, ABS 1, SIGN 2, EXP 3, LOG 4, SQRT 5, RSQRT 6, RECIP 7, SQUARE 8, TANH 9,
// SIGMOID 10, RELU 11, ERF 12, GELU_TANH 13, GELU_ERF 14.
template <typename T>
static __device__ __forceinline__ T ew_unary_fp(int op, T x) {
    switch (op) {
        case 0: return -x;
        case 1: return ew_abs(x);
        case 2: return x > (T)0 ? (T)1 : (x < (T)0 ? (T)-1 : x);
        case 3: return mlip_exp(x);
        case 4: return mlip_log(x);
        case 5: return mlip_sqrt(x);
        case 6: return (T)1 / mlip_sqrt(x);
        case 7: return (T)1 / x;
        case 8: return x * x;
        case 9: return mlip_tanh(x);
        case 10: return (T)1 / ((T)1 + mlip_exp(-x));
        case 11: return x > (T)0 ? x : (x != x ? x : (T)0);
        case 12: return mlip_erf(x);
        case 13: return gelu_tanh(x);
        case 14: return gelu_erf(x);
        default: return x;  // not an op ordinal (Java never sends one)
    }
}

static __device__ __forceinline__ int ew_unary_i32(int op, int x) {
    switch (op) {
        case 0: return (int)(0u - (unsigned)x);
        case 1: return x < 0 ? (int)(0u - (unsigned)x) : x;  // Math.abs(INT_MIN) == INT_MIN
        case 2: return (x > 0) - (x < 0);
        case 8: return (int)((unsigned)x * (unsigned)x);
        case 11: return x > 0 ? x : 0;
        default: return java_d2i(ew_unary_fp<double>(op, (double)x));  // rejected by the CPU backend
    }
}

static __device__ __forceinline__ float ew_unary(int op, float x) { return ew_unary_fp<float>(op, x); }
static __device__ __forceinline__ double ew_unary(int op, double x) { return ew_unary_fp<double>(op, x); }
static __device__ __forceinline__ int ew_unary(int op, int x) { return ew_unary_i32(op, x); }

static __device__ __forceinline__ float ew_pow(float a, float b) { return (float)ew_jpow((double)a, (double)b); }
static __device__ __forceinline__ double ew_pow(double a, double b) { return ew_jpow(a, b); }

// BinaryOp ordinals: ADD 0, SUB 1, MUL 2, DIV 3, MAX 4, MIN 5, POW 6, EQ 7, NE 8, LT 9, LE 10, GT 11, GE 12.
template <typename T>
static __device__ __forceinline__ T ew_binary_fp(int op, T a, T b) {
    switch (op) {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        case 3: return a / b;
        case 4: return java_max(a, b);
        case 5: return java_min(a, b);
        case 6: return ew_pow(a, b);
        case 7: return a == b ? (T)1 : (T)0;
        case 8: return a != b ? (T)1 : (T)0;
        case 9: return a < b ? (T)1 : (T)0;
        case 10: return a <= b ? (T)1 : (T)0;
        case 11: return a > b ? (T)1 : (T)0;
        case 12: return a >= b ? (T)1 : (T)0;
        default: return a;  // not an op ordinal (Java never sends one)
    }
}

static __device__ __forceinline__ int ew_binary_i32(int op, int a, int b) {
    switch (op) {
        case 0: return (int)((unsigned)a + (unsigned)b);
        case 1: return (int)((unsigned)a - (unsigned)b);
        case 2: return (int)((unsigned)a * (unsigned)b);
        case 3:
            if (b == 0) return 0;                                   // the CPU throws ArithmeticException
            if (b == -1) return (int)(0u - (unsigned)a);            // INT_MIN / -1 == INT_MIN, as in Java
            return a / b;
        case 4: return max(a, b);
        case 5: return min(a, b);
        case 6: return ew_ipow(a, b);
        case 7: return a == b ? 1 : 0;
        case 8: return a != b ? 1 : 0;
        case 9: return a < b ? 1 : 0;
        case 10: return a <= b ? 1 : 0;
        case 11: return a > b ? 1 : 0;
        case 12: return a >= b ? 1 : 0;
        default: return 0;
    }
}

static __device__ __forceinline__ float ew_binary(int op, float a, float b) { return ew_binary_fp<float>(op, a, b); }
static __device__ __forceinline__ double ew_binary(int op, double a, double b) { return ew_binary_fp<double>(op, a, b); }
static __device__ __forceinline__ int ew_binary(int op, int a, int b) { return ew_binary_i32(op, a, b); }

// dst = (dst dtype) src, as CpuStorage.set((double) src): float<->double round to nearest, int -> float
// rounds to nearest, float -> int is Java's saturating (int) cast.
static __device__ __forceinline__ void ew_put(float* p, float v) { *p = v; }
static __device__ __forceinline__ void ew_put(float* p, double v) { *p = (float)v; }
static __device__ __forceinline__ void ew_put(float* p, int v) { *p = (float)v; }
static __device__ __forceinline__ void ew_put(double* p, float v) { *p = (double)v; }
static __device__ __forceinline__ void ew_put(double* p, double v) { *p = v; }
static __device__ __forceinline__ void ew_put(double* p, int v) { *p = (double)v; }
static __device__ __forceinline__ void ew_put(int* p, float v) { *p = java_d2i((double)v); }
static __device__ __forceinline__ void ew_put(int* p, double v) { *p = java_d2i(v); }
static __device__ __forceinline__ void ew_put(int* p, int v) { *p = v; }

// ---------------------------------------------------------------- loop bodies

template <typename T>
static __device__ __forceinline__ void ew_unary_scalar(T* out, const T* x, int n, int op) {
    GRID_STRIDE_LOOP(i, n) out[i] = ew_unary(op, x[i]);
}

template <typename T>
static __device__ __forceinline__ void ew_binary_scalar(T* out, const T* a, const T* b, int n, int op) {
    GRID_STRIDE_LOOP(i, n) out[i] = ew_binary(op, a[i], b[i]);
}

// Number of floats before p reaches a 16-byte boundary (p is 4-byte aligned).
static __device__ __forceinline__ int ew_head16(const float* p) {
    return (int)(((16u - (unsigned)((unsigned long long)p & 15ull)) & 15u) >> 2);
}

static __device__ __forceinline__ bool ew_same16(const float* p, const float* q) {
    return (((unsigned long long)p ^ (unsigned long long)q) & 15ull) == 0 && ((unsigned long long)p & 3ull) == 0;
}

static __device__ __forceinline__ void ew_unary_vec4_f32(float* out, const float* x, int n, int op) {
    int tid = blockIdx.x * blockDim.x + threadIdx.x;
    int head = min(ew_head16(out), n);
    int n4 = (n - head) >> 2;
    int tail = head + (n4 << 2);
    if (tid < head) out[tid] = ew_unary(op, x[tid]);
    if (tid < n - tail) out[tail + tid] = ew_unary(op, x[tail + tid]);
    float4* o4 = reinterpret_cast<float4*>(out + head);
    const float4* x4 = reinterpret_cast<const float4*>(x + head);
    for (int i = tid; i < n4; i += blockDim.x * gridDim.x) {
        float4 v = x4[i];
        v.x = ew_unary(op, v.x);
        v.y = ew_unary(op, v.y);
        v.z = ew_unary(op, v.z);
        v.w = ew_unary(op, v.w);
        o4[i] = v;
    }
}

static __device__ __forceinline__ void ew_binary_vec4_f32(float* out, const float* a, const float* b, int n, int op) {
    int tid = blockIdx.x * blockDim.x + threadIdx.x;
    int head = min(ew_head16(out), n);
    int n4 = (n - head) >> 2;
    int tail = head + (n4 << 2);
    if (tid < head) out[tid] = ew_binary(op, a[tid], b[tid]);
    if (tid < n - tail) out[tail + tid] = ew_binary(op, a[tail + tid], b[tail + tid]);
    float4* o4 = reinterpret_cast<float4*>(out + head);
    const float4* a4 = reinterpret_cast<const float4*>(a + head);
    const float4* b4 = reinterpret_cast<const float4*>(b + head);
    for (int i = tid; i < n4; i += blockDim.x * gridDim.x) {
        float4 u = a4[i], w = b4[i];
        u.x = ew_binary(op, u.x, w.x);
        u.y = ew_binary(op, u.y, w.y);
        u.z = ew_binary(op, u.z, w.z);
        u.w = ew_binary(op, u.w, w.w);
        o4[i] = u;
    }
}

template <typename T>
static __device__ __forceinline__ void ew_unary_strided(T* out, const T* x, const Layout& lx, int n, int op) {
    GRID_STRIDE_LOOP(i, n) out[i] = ew_unary(op, x[layout_offset(lx, i)]);
}

template <typename T>
static __device__ __forceinline__ void ew_binary_strided(T* out, const T* a, const Layout& la, const T* b,
                                                         const Layout& lb, int n, int op) {
    GRID_STRIDE_LOOP(i, n) out[i] = ew_binary(op, a[layout_offset(la, i)], b[layout_offset(lb, i)]);
}

template <typename TC, typename T>
static __device__ __forceinline__ void ew_where(T* out, const TC* cond, const Layout& lc, const T* a, const Layout& la,
                                                const T* b, const Layout& lb, int n) {
    GRID_STRIDE_LOOP(i, n) {
        // NaN != 0, so a NaN condition selects a (as CpuStorage.get(...) != 0 does).
        out[i] = cond[layout_offset(lc, i)] != (TC)0 ? a[layout_offset(la, i)] : b[layout_offset(lb, i)];
    }
}

template <typename TS, typename TD>
static __device__ __forceinline__ void ew_copy(TD* out, const Layout& lo, const TS* x, const Layout& lx, int n) {
    GRID_STRIDE_LOOP(i, n) ew_put(out + layout_offset(lo, i), x[layout_offset(lx, i)]);
}

template <typename T>
static __device__ __forceinline__ void ew_fill(T* out, int n, double value) {
    if (value == 0.0) value = 0.0;  // CpuBackend.full leaves a fresh (+0) array for value == 0, -0 included
    GRID_STRIDE_LOOP(i, n) ew_put(out + i, value);
}

template <typename T>
static __device__ __forceinline__ void ew_arange(T* out, int n, double start, double step) {
    // start + i * step with the product rounded on its own (no FMA contraction), as Java evaluates it.
    GRID_STRIDE_LOOP(i, n) ew_put(out + i, start + __dmul_rn((double)i, step));
}

// ---------------------------------------------------------------- unary

// Version 1 (f32 only): scalar grid-stride loop.
extern "C" __global__ void unary_kernel1_f32(float* out, const float* x, int n, int op) {
    ew_unary_scalar(out, x, n, op);
}

// Version 2 (production): float4 body when out and x agree modulo 16 bytes, scalar otherwise.
extern "C" __global__ void unary_kernel2_f32(float* out, const float* x, int n, int op) {
    if (ew_same16(out, x)) ew_unary_vec4_f32(out, x, n, op);
    else ew_unary_scalar(out, x, n, op);
}

extern "C" __global__ void unary_kernel2_f64(double* out, const double* x, int n, int op) {
    ew_unary_scalar(out, x, n, op);
}

extern "C" __global__ void unary_kernel2_i32(int* out, const int* x, int n, int op) {
    ew_unary_scalar(out, x, n, op);
}

extern "C" __global__ void unary_strided_kernel1_f32(float* out, const float* x, Layout lx, int n, int op) {
    ew_unary_strided(out, x, lx, n, op);
}

extern "C" __global__ void unary_strided_kernel1_f64(double* out, const double* x, Layout lx, int n, int op) {
    ew_unary_strided(out, x, lx, n, op);
}

extern "C" __global__ void unary_strided_kernel1_i32(int* out, const int* x, Layout lx, int n, int op) {
    ew_unary_strided(out, x, lx, n, op);
}

// ---------------------------------------------------------------- binary

// Version 1 (f32 only): scalar grid-stride loop.
extern "C" __global__ void binary_kernel1_f32(float* out, const float* a, const float* b, int n, int op) {
    ew_binary_scalar(out, a, b, n, op);
}

// Version 2 (production): float4 body when out, a and b agree modulo 16 bytes, scalar otherwise.
extern "C" __global__ void binary_kernel2_f32(float* out, const float* a, const float* b, int n, int op) {
    if (ew_same16(out, a) && ew_same16(out, b)) ew_binary_vec4_f32(out, a, b, n, op);
    else ew_binary_scalar(out, a, b, n, op);
}

extern "C" __global__ void binary_kernel2_f64(double* out, const double* a, const double* b, int n, int op) {
    ew_binary_scalar(out, a, b, n, op);
}

extern "C" __global__ void binary_kernel2_i32(int* out, const int* a, const int* b, int n, int op) {
    ew_binary_scalar(out, a, b, n, op);
}

extern "C" __global__ void binary_strided_kernel1_f32(float* out, const float* a, Layout la, const float* b, Layout lb, int n, int op) {
    ew_binary_strided(out, a, la, b, lb, n, op);
}

extern "C" __global__ void binary_strided_kernel1_f64(double* out, const double* a, Layout la, const double* b, Layout lb, int n, int op) {
    ew_binary_strided(out, a, la, b, lb, n, op);
}

extern "C" __global__ void binary_strided_kernel1_i32(int* out, const int* a, Layout la, const int* b, Layout lb, int n, int op) {
    ew_binary_strided(out, a, la, b, lb, n, op);
}

// ---------------------------------------------------------------- where (cond dtype, value dtype)

extern "C" __global__ void where_kernel1_f32_f32(float* out, const float* cond, Layout lc, const float* a, Layout la, const float* b, Layout lb, int n) {
    ew_where(out, cond, lc, a, la, b, lb, n);
}
extern "C" __global__ void where_kernel1_f32_f64(double* out, const float* cond, Layout lc, const double* a, Layout la, const double* b, Layout lb, int n) {
    ew_where(out, cond, lc, a, la, b, lb, n);
}
extern "C" __global__ void where_kernel1_f32_i32(int* out, const float* cond, Layout lc, const int* a, Layout la, const int* b, Layout lb, int n) {
    ew_where(out, cond, lc, a, la, b, lb, n);
}
extern "C" __global__ void where_kernel1_f64_f32(float* out, const double* cond, Layout lc, const float* a, Layout la, const float* b, Layout lb, int n) {
    ew_where(out, cond, lc, a, la, b, lb, n);
}
extern "C" __global__ void where_kernel1_f64_f64(double* out, const double* cond, Layout lc, const double* a, Layout la, const double* b, Layout lb, int n) {
    ew_where(out, cond, lc, a, la, b, lb, n);
}
extern "C" __global__ void where_kernel1_f64_i32(int* out, const double* cond, Layout lc, const int* a, Layout la, const int* b, Layout lb, int n) {
    ew_where(out, cond, lc, a, la, b, lb, n);
}
extern "C" __global__ void where_kernel1_i32_f32(float* out, const int* cond, Layout lc, const float* a, Layout la, const float* b, Layout lb, int n) {
    ew_where(out, cond, lc, a, la, b, lb, n);
}
extern "C" __global__ void where_kernel1_i32_f64(double* out, const int* cond, Layout lc, const double* a, Layout la, const double* b, Layout lb, int n) {
    ew_where(out, cond, lc, a, la, b, lb, n);
}
extern "C" __global__ void where_kernel1_i32_i32(int* out, const int* cond, Layout lc, const int* a, Layout la, const int* b, Layout lb, int n) {
    ew_where(out, cond, lc, a, la, b, lb, n);
}

// ---------------------------------------------------------------- copy (source dtype, destination dtype)

extern "C" __global__ void copy_kernel1_f32_f32(float* out, Layout lo, const float* x, Layout lx, int n) {
    ew_copy(out, lo, x, lx, n);
}
extern "C" __global__ void copy_kernel1_f32_f64(double* out, Layout lo, const float* x, Layout lx, int n) {
    ew_copy(out, lo, x, lx, n);
}
extern "C" __global__ void copy_kernel1_f32_i32(int* out, Layout lo, const float* x, Layout lx, int n) {
    ew_copy(out, lo, x, lx, n);
}
extern "C" __global__ void copy_kernel1_f64_f32(float* out, Layout lo, const double* x, Layout lx, int n) {
    ew_copy(out, lo, x, lx, n);
}
extern "C" __global__ void copy_kernel1_f64_f64(double* out, Layout lo, const double* x, Layout lx, int n) {
    ew_copy(out, lo, x, lx, n);
}
extern "C" __global__ void copy_kernel1_f64_i32(int* out, Layout lo, const double* x, Layout lx, int n) {
    ew_copy(out, lo, x, lx, n);
}
extern "C" __global__ void copy_kernel1_i32_f32(float* out, Layout lo, const int* x, Layout lx, int n) {
    ew_copy(out, lo, x, lx, n);
}
extern "C" __global__ void copy_kernel1_i32_f64(double* out, Layout lo, const int* x, Layout lx, int n) {
    ew_copy(out, lo, x, lx, n);
}
extern "C" __global__ void copy_kernel1_i32_i32(int* out, Layout lo, const int* x, Layout lx, int n) {
    ew_copy(out, lo, x, lx, n);
}

// ---------------------------------------------------------------- fill, arange

extern "C" __global__ void fill_kernel1_f32(float* out, int n, double value) {
    ew_fill(out, n, value);
}
extern "C" __global__ void fill_kernel1_f64(double* out, int n, double value) {
    ew_fill(out, n, value);
}
extern "C" __global__ void fill_kernel1_i32(int* out, int n, double value) {
    ew_fill(out, n, value);
}

extern "C" __global__ void arange_kernel1_f32(float* out, int n, double start, double step) {
    ew_arange(out, n, start, step);
}
extern "C" __global__ void arange_kernel1_f64(double* out, int n, double start, double step) {
    ew_arange(out, n, start, step);
}
extern "C" __global__ void arange_kernel1_i32(int* out, int n, double start, double step) {
    ew_arange(out, n, start, step);
}
