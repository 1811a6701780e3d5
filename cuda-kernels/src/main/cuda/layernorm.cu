// layernorm.cu — layer norm over the last dim of a contiguous (N, C) tensor, forward and backward.
//
// Semantics are those of the CPU backend (tensor/.../cpu/Fused.layerNorm) and of the autograd rule
// (autograd/.../Derivatives.layerNormBackward):
//   forward:  mean = sum(x) / C;  var = sum((x - mean)^2) / C (biased, two-pass);
//             rstd = 1 / sqrt(var + eps);  norm = (x - mean) * rstd;  out = norm * w + b
//             (w, b may be null: then the product / sum is skipped); mean and rstd are written per
//             row in the element type (either pointer may be null).
//   backward: dnorm = dout * w (dout when w is null);
//             dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm));
//             dw += dout * norm and db += dout over the rows, with atomicAdd (the caller zeroes dw/db);
//             each of dw, db is skipped when its pointer is null.
//
// Versions (forward and backward alike)
//   *_kernel1_f32   one thread per row. Block 256, grid ceil(N / 256). A warp's 32 threads read 32
//                   different rows, so each warp load touches 32 cache lines (uncoalesced) and a row
//                   is serial work for one thread.
//   *_kernel2_<t>   (production, f32/f64) one warp per row, lanes striding the row by 32: every warp
//                   load is one or two 128-byte transactions, the row sums are warp shuffles (no
//                   shared memory, no __syncthreads). The forward reads a row three times (mean, var,
//                   write); after the first read the row is in L1/L2, so DRAM traffic is ~1 read + 1
//                   write per element. Block 256 (8 rows), grid ceil(N / 8).
//   The backward's dw/db atomics are one per element per row in both versions (N*C atomics, resolved
//   in L2); a later version could first reduce the block's 8 rows in shared memory.
#include "common.cuh"

// ------------------------------------------------------------------------------------------------
// forward

extern "C" __global__ void layernorm_forward_kernel1_f32(float* out, float* mean, float* rstd, const float* x, const float* w,
                                                         const float* b, int N, int C, double eps) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= N) return;
    const float* xr = x + (long long)row * C;
    float* outr = out + (long long)row * C;
    float mu = 0.0f;
    for (int i = 0; i < C; i++) mu += xr[i];
    mu /= C;
    float var = 0.0f;
    for (int i = 0; i < C; i++) {
        float c = xr[i] - mu;
        var += c * c;
    }
    float rs = 1.0f / sqrtf(var / C + (float)eps);
    for (int i = 0; i < C; i++) {
        float y = (xr[i] - mu) * rs;
        if (w) y *= w[i];
        if (b) y += b[i];
        outr[i] = y;
    }
    if (mean) mean[row] = mu;
    if (rstd) rstd[row] = rs;
}

template <typename T>
static __device__ void layernorm_forward2(T* out, T* mean, T* rstd, const T* x, const T* w, const T* b, int N, int C, double eps) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= N) return;  // whole warps leave together
    const T* xr = x + (long long)row * C;
    T* outr = out + (long long)row * C;
    T sum = (T)0;
    for (int i = lane; i < C; i += 32) sum += xr[i];
    T mu = warp_sum(sum) / (T)C;
    T sq = (T)0;
    for (int i = lane; i < C; i += 32) {
        T c = xr[i] - mu;
        sq += c * c;
    }
    T rs = (T)1 / mlip_sqrt(warp_sum(sq) / (T)C + (T)eps);
    for (int i = lane; i < C; i += 32) {
        T y = (xr[i] - mu) * rs;
        if (w) y *= w[i];
        if (b) y += b[i];
        outr[i] = y;
    }
    if (lane == 0) {
        if (mean) mean[row] = mu;
        if (rstd) rstd[row] = rs;
    }
}

extern "C" __global__ void layernorm_forward_kernel2_f32(float* out, float* mean, float* rstd, const float* x, const float* w,
                                                         const float* b, int N, int C, double eps) {
    layernorm_forward2<float>(out, mean, rstd, x, w, b, N, C, eps);
}

extern "C" __global__ void layernorm_forward_kernel2_f64(double* out, double* mean, double* rstd, const double* x, const double* w,
                                                         const double* b, int N, int C, double eps) {
    layernorm_forward2<double>(out, mean, rstd, x, w, b, N, C, eps);
}

// ------------------------------------------------------------------------------------------------
// backward

extern "C" __global__ void layernorm_backward_kernel1_f32(float* dx, float* dw, float* db, const float* dout, const float* x,
                                                          const float* w, const float* mean, const float* rstd, int N, int C) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= N) return;
    const float* xr = x + (long long)row * C;
    const float* dr = dout + (long long)row * C;
    float* dxr = dx + (long long)row * C;
    float mu = mean[row], rs = rstd[row];
    float sumD = 0.0f, sumDN = 0.0f;
    for (int i = 0; i < C; i++) {
        float norm = (xr[i] - mu) * rs;
        float dn = w ? dr[i] * w[i] : dr[i];
        sumD += dn;
        sumDN += dn * norm;
    }
    float meanD = sumD / C, meanDN = sumDN / C;
    for (int i = 0; i < C; i++) {
        float norm = (xr[i] - mu) * rs;
        float dn = w ? dr[i] * w[i] : dr[i];
        dxr[i] = rs * (dn - meanD - norm * meanDN);
        if (dw) atomicAdd(dw + i, dr[i] * norm);
        if (db) atomicAdd(db + i, dr[i]);
    }
}

template <typename T>
static __device__ void layernorm_backward2(T* dx, T* dw, T* db, const T* dout, const T* x, const T* w, const T* mean, const T* rstd,
                                           int N, int C) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= N) return;  // whole warps leave together
    const T* xr = x + (long long)row * C;
    const T* dr = dout + (long long)row * C;
    T* dxr = dx + (long long)row * C;
    T mu = mean[row], rs = rstd[row];
    T sumD = (T)0, sumDN = (T)0;
    for (int i = lane; i < C; i += 32) {
        T norm = (xr[i] - mu) * rs;
        T dn = w ? dr[i] * w[i] : dr[i];
        sumD += dn;
        sumDN += dn * norm;
    }
    T meanD = warp_sum(sumD) / (T)C, meanDN = warp_sum(sumDN) / (T)C;
    for (int i = lane; i < C; i += 32) {
        T g = dr[i];
        T norm = (xr[i] - mu) * rs;
        T dn = w ? g * w[i] : g;
        dxr[i] = rs * (dn - meanD - norm * meanDN);
        if (dw) atomicAdd(dw + i, g * norm);
        if (db) atomicAdd(db + i, g);
    }
}

extern "C" __global__ void layernorm_backward_kernel2_f32(float* dx, float* dw, float* db, const float* dout, const float* x,
                                                          const float* w, const float* mean, const float* rstd, int N, int C) {
    layernorm_backward2<float>(dx, dw, db, dout, x, w, mean, rstd, N, C);
}

extern "C" __global__ void layernorm_backward_kernel2_f64(double* dx, double* dw, double* db, const double* dout, const double* x,
                                                          const double* w, const double* mean, const double* rstd, int N, int C) {
    layernorm_backward2<double>(dx, dw, db, dout, x, w, mean, rstd, N, C);
}

// ------------------------------------------------------------------------------------------------
// Fused residual add + layer norm: sum = x + y and out = layernorm(sum) (the forward above's rules, w/b
// optional, mean/rstd optional), for the pre-LN block's h = x + attn(..); norm2(h) and the post-LN block's
// norm(x + sublayer(x)). Unfused, the sum is written by binary_kernel and read back by the norm; here each
// lane keeps its strided share of the row in registers between the statistics and the output, so the row
// is read once from x and y and written once to sum and once to out: 16 bytes per element against 20.
// The backward is layernorm_backward on the sum (the autograd engine records ADD + LAYER_NORM).
//
// Versions:
//   add_layernorm_forward_kernel1 (production): one warp per row (block 256 = 8 rows, grid ceil(N / 8)),
//       lanes striding the row by 32, warp-shuffle sums; rows of up to 32 * ADD_LN_MAX_PER_LANE = 768
//       columns (ViT-B's D) stay in registers, longer rows re-read the sum they wrote (from L2). ptxas:
//       96 registers at sm_80 (8 per lane kept: 48), i.e. 2 blocks of 256 per SM; a version that splits a
//       row over two warps would halve that — to be decided by measurement on a GPU.

#define ADD_LN_MAX_PER_LANE 24

extern "C" __global__ void add_layernorm_forward_kernel1_f32(float* sum, float* out, float* mean, float* rstd, const float* x,
                                                             const float* y, const float* w, const float* b, int N, int C, double eps) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= N) return;  // whole warps leave together
    long long base = (long long)row * C;
    float keep[ADD_LN_MAX_PER_LANE];  // this lane's columns lane, lane + 32, ...: fully unrolled, in registers
    float acc = 0.0f;
#pragma unroll
    for (int k = 0; k < ADD_LN_MAX_PER_LANE; k++) {
        int i = lane + 32 * k;
        float s = i < C ? x[base + i] + y[base + i] : 0.0f;
        keep[k] = s;
        if (i < C) sum[base + i] = s;
        acc += s;
    }
    for (int i = lane + 32 * ADD_LN_MAX_PER_LANE; i < C; i += 32) {
        float s = x[base + i] + y[base + i];
        sum[base + i] = s;
        acc += s;
    }
    float mu = warp_sum(acc) / (float)C;
    float sq = 0.0f;
#pragma unroll
    for (int k = 0; k < ADD_LN_MAX_PER_LANE; k++) {
        float c = keep[k] - mu;
        if (lane + 32 * k < C) sq += c * c;
    }
    for (int i = lane + 32 * ADD_LN_MAX_PER_LANE; i < C; i += 32) {
        float c = sum[base + i] - mu;  // this lane wrote it above: no other thread's data
        sq += c * c;
    }
    float rs = 1.0f / sqrtf(warp_sum(sq) / (float)C + (float)eps);
#pragma unroll
    for (int k = 0; k < ADD_LN_MAX_PER_LANE; k++) {
        int i = lane + 32 * k;
        if (i < C) {
            float v = (keep[k] - mu) * rs;
            if (w) v *= w[i];
            if (b) v += b[i];
            out[base + i] = v;
        }
    }
    for (int i = lane + 32 * ADD_LN_MAX_PER_LANE; i < C; i += 32) {
        float v = (sum[base + i] - mu) * rs;
        if (w) v *= w[i];
        if (b) v += b[i];
        out[base + i] = v;
    }
    if (lane == 0) {
        if (mean) mean[row] = mu;
        if (rstd) rstd[row] = rs;
    }
}
