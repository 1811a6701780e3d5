// gelu.cu — GELU, tanh approximation, forward and backward (f32); and the fused bias + GELU of the
// transformer MLP (exact or tanh GELU), forward and backward.
//
// Contract: cuda-kernels/KERNELS.md ("gelu.cu"). Math: gelu_tanh / gelu_tanh_grad in common.cuh, the
// same expressions as UnaryOp.GELU_TANH (ScalarMath.apply) and Derivatives.geluTanhBackward:
//   out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//   dx  = dout * (0.5 (1 + th) + 0.5 x (1 - th^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)),  th = tanh(...)
// Evaluated in float (tanhf): within F32 tolerance of the CPU, which computes the scalar path in double.
//
// Versions (grid-stride, block 256, grid min(ceil(n/256), 32 * SMs)):
//   gelu_forward_kernel1 / gelu_backward_kernel1: one element per thread per iteration, 4-byte loads.
//   gelu_forward_kernel2 / gelu_backward_kernel2 (production): 16-byte float4 loads and stores when the
//       pointers agree modulo 16 bytes (a quarter of the memory instructions; each thread also has four
//       independent tanhf chains in flight). The 0..3 elements before the first 16-byte boundary and
//       the 0..3 after the last are done one per thread; mutually misaligned pointers use the kernel1 loop.
#include "common.cuh"

static __device__ __forceinline__ int gelu_head16(const float* p) {
    return (int)(((16u - (unsigned)((unsigned long long)p & 15ull)) & 15u) >> 2);
}

static __device__ __forceinline__ bool gelu_same16(const float* p, const float* q) {
    return (((unsigned long long)p ^ (unsigned long long)q) & 15ull) == 0 && ((unsigned long long)p & 3ull) == 0;
}

static __device__ __forceinline__ float gelu_bwd1(float x, float dout) {
    return dout * gelu_tanh_grad(x);
}

static __device__ __forceinline__ void gelu_forward_scalar(float* out, const float* x, int n) {
    GRID_STRIDE_LOOP(i, n) out[i] = gelu_tanh(x[i]);
}

static __device__ __forceinline__ void gelu_backward_scalar(float* dx, const float* x, const float* dout, int n) {
    GRID_STRIDE_LOOP(i, n) dx[i] = gelu_bwd1(x[i], dout[i]);
}

// Version 1: scalar grid-stride loop.
extern "C" __global__ void gelu_forward_kernel1_f32(float* out, const float* x, int n) {
    gelu_forward_scalar(out, x, n);
}

// Version 2 (production): float4 body between the 16-byte boundaries.
extern "C" __global__ void gelu_forward_kernel2_f32(float* out, const float* x, int n) {
    if (!gelu_same16(out, x)) {
        gelu_forward_scalar(out, x, n);
        return;
    }
    int tid = blockIdx.x * blockDim.x + threadIdx.x;
    int head = min(gelu_head16(out), n);
    int n4 = (n - head) >> 2;
    int tail = head + (n4 << 2);
    if (tid < head) out[tid] = gelu_tanh(x[tid]);
    if (tid < n - tail) out[tail + tid] = gelu_tanh(x[tail + tid]);
    float4* o4 = reinterpret_cast<float4*>(out + head);
    const float4* x4 = reinterpret_cast<const float4*>(x + head);
    for (int i = tid; i < n4; i += blockDim.x * gridDim.x) {
        float4 v = x4[i];
        v.x = gelu_tanh(v.x);
        v.y = gelu_tanh(v.y);
        v.z = gelu_tanh(v.z);
        v.w = gelu_tanh(v.w);
        o4[i] = v;
    }
}

// Version 1: scalar grid-stride loop.
extern "C" __global__ void gelu_backward_kernel1_f32(float* dx, const float* x, const float* dout, int n) {
    gelu_backward_scalar(dx, x, dout, n);
}

// Version 2 (production): float4 body between the 16-byte boundaries.
extern "C" __global__ void gelu_backward_kernel2_f32(float* dx, const float* x, const float* dout, int n) {
    if (!gelu_same16(dx, x) || !gelu_same16(dx, dout)) {
        gelu_backward_scalar(dx, x, dout, n);
        return;
    }
    int tid = blockIdx.x * blockDim.x + threadIdx.x;
    int head = min(gelu_head16(dx), n);
    int n4 = (n - head) >> 2;
    int tail = head + (n4 << 2);
    if (tid < head) dx[tid] = gelu_bwd1(x[tid], dout[tid]);
    if (tid < n - tail) dx[tail + tid] = gelu_bwd1(x[tail + tid], dout[tail + tid]);
    float4* d4 = reinterpret_cast<float4*>(dx + head);
    const float4* x4 = reinterpret_cast<const float4*>(x + head);
    const float4* g4 = reinterpret_cast<const float4*>(dout + head);
    for (int i = tid; i < n4; i += blockDim.x * gridDim.x) {
        float4 v = x4[i], g = g4[i];
        v.x = gelu_bwd1(v.x, g.x);
        v.y = gelu_bwd1(v.y, g.y);
        v.z = gelu_bwd1(v.z, g.z);
        v.w = gelu_bwd1(v.w, g.w);
        d4[i] = v;
    }
}

// ------------------------------------------------------------------------------------------------
// Fused bias + GELU: out = gelu(x + bias[i % C]) over a contiguous (rows, C) x, and its backward
// dx = dout * gelu'(x + bias[i % C]); tanh != 0 picks the tanh form, else the exact erf form (what the ViT
// and BERT MLPs use). The pre-activation x + bias is never written: the backward recomputes it, which
// saves one (rows, C) tensor write in the forward and its re-read in the backward. The bias gradient is
// dx summed over rows (a column reduction the backend does with reduce.cu).
//
// Per element: forward reads x (4 B) and a bias word (L1-resident: C floats), writes out (4 B); backward
// reads x and dout, writes dx: 8 / 12 bytes per element, memory-bound like gelu_*_kernel1.
//
// Versions:
//   bias_gelu_forward_kernel1 / bias_gelu_backward_kernel1: grid-stride, one element per thread per
//       iteration; the column is i % C (an integer modulo per element, hidden under the load).
//   bias_gelu_forward_kernel2 / bias_gelu_backward_kernel2 (production): when C % 4 == 0 and every pointer is
//       16-byte aligned, a thread moves 4 consecutive elements of one row (float4 loads of x, dout and the
//       bias, one modulo per 4 elements); otherwise the kernel1 loop.

extern "C" __global__ void bias_gelu_forward_kernel1_f32(float* out, const float* x, const float* bias, int n, int C, int tanh) {
    GRID_STRIDE_LOOP(i, n) {
        float v = x[i] + bias[i % C];
        out[i] = tanh ? gelu_tanh(v) : gelu_erf(v);
    }
}

extern "C" __global__ void bias_gelu_backward_kernel1_f32(float* dx, const float* x, const float* bias, const float* dout, int n, int C,
                                                          int tanh) {
    GRID_STRIDE_LOOP(i, n) {
        float v = x[i] + bias[i % C];
        dx[i] = dout[i] * (tanh ? gelu_tanh_grad(v) : gelu_erf_grad(v));
    }
}

static __device__ __forceinline__ bool bias_gelu_vec4(const void* a, const void* b, const void* c, const void* d, int C) {
    return (C & 3) == 0 && ((((unsigned long long)a | (unsigned long long)b | (unsigned long long)c | (unsigned long long)d) & 15ull) == 0);
}

static __device__ __forceinline__ float bias_gelu1(float v, int tanh) {
    return tanh ? gelu_tanh(v) : gelu_erf(v);
}

static __device__ __forceinline__ float bias_gelu_grad1(float v, float g, int tanh) {
    return g * (tanh ? gelu_tanh_grad(v) : gelu_erf_grad(v));
}

// Version 2 (production): float4 over C % 4 == 0 rows, else version 1's loop.
extern "C" __global__ void bias_gelu_forward_kernel2_f32(float* out, const float* x, const float* bias, int n, int C, int tanh) {
    if (!bias_gelu_vec4(out, x, bias, bias, C)) {
        GRID_STRIDE_LOOP(i, n) out[i] = bias_gelu1(x[i] + bias[i % C], tanh);
        return;
    }
    const float4* x4 = reinterpret_cast<const float4*>(x);
    const float4* b4 = reinterpret_cast<const float4*>(bias);
    float4* o4 = reinterpret_cast<float4*>(out);
    int n4 = n >> 2, c4 = C >> 2;  // n is a multiple of C, so of 4
    GRID_STRIDE_LOOP(i, n4) {
        float4 v = x4[i], b = b4[i % c4];
        v.x = bias_gelu1(v.x + b.x, tanh);
        v.y = bias_gelu1(v.y + b.y, tanh);
        v.z = bias_gelu1(v.z + b.z, tanh);
        v.w = bias_gelu1(v.w + b.w, tanh);
        o4[i] = v;
    }
}

extern "C" __global__ void bias_gelu_backward_kernel2_f32(float* dx, const float* x, const float* bias, const float* dout, int n, int C,
                                                          int tanh) {
    if (!bias_gelu_vec4(dx, x, bias, dout, C)) {
        GRID_STRIDE_LOOP(i, n) dx[i] = bias_gelu_grad1(x[i] + bias[i % C], dout[i], tanh);
        return;
    }
    const float4* x4 = reinterpret_cast<const float4*>(x);
    const float4* b4 = reinterpret_cast<const float4*>(bias);
    const float4* g4 = reinterpret_cast<const float4*>(dout);
    float4* d4 = reinterpret_cast<float4*>(dx);
    int n4 = n >> 2, c4 = C >> 2;
    GRID_STRIDE_LOOP(i, n4) {
        float4 v = x4[i], b = b4[i % c4], g = g4[i];
        v.x = bias_gelu_grad1(v.x + b.x, g.x, tanh);
        v.y = bias_gelu_grad1(v.y + b.y, g.y, tanh);
        v.z = bias_gelu_grad1(v.z + b.z, g.z, tanh);
        v.w = bias_gelu_grad1(v.w + b.w, g.w, tanh);
        d4[i] = v;
    }
}
