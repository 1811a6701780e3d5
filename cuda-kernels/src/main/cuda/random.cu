// random.cu — uniform [0, 1) and standard normal tensors from Philox 4x32-10.
//
// Contract: cuda-kernels/KERNELS.md ("random.cu"). Bit-identical uniform draws to mlip.tensor.Philox and
// CpuBackend.random: key = (seed lo, seed hi), counter = (block lo, block hi, stream lo, stream hi) with
// block = offset + b (64-bit, wrapping);
//   F32: element 4b + l takes lane l of block b; uniform = (w >> 8) * 2^-24; normal pairs lanes (0,1)
//        and (2,3) by Box-Muller in double: r = sqrt(-2 log(((w0 >> 9) + 0.5f) * 2^-23)),
//        th = 2 pi ((w1 >> 8) * 2^-24), values (float) (r cos th), (float) (r sin th);
//   F64: element 2b + j takes words (2j, 2j+1) of block b; uniform = (((w_hi >> 5) << 26) | (w_lo >> 6)) * 2^-53;
//        normal: r from ((v >> 1) + 0.5) * 2^-52 of words (0,1), th from the uniform of words (2,3).
// Uniforms are exact integer-to-float scalings, so they match bit for bit; normals go through log/sqrt/
// sin/cos (CUDA's double log/sqrt and fdlibm's sin/cos here vs Java's Math), which differ from the CPU
// by about an ulp of a double: F32 normals almost always round to the same float.
//
// Versions:
//   random_kernel1 (production): grid-stride over Philox blocks (block 256, grid min(ceil(blocks/256),
//       32 * SMs)); each thread runs the 10 rounds for one 128-bit counter and writes its 4 floats
//       (one float4 store when the destination is 16-byte aligned and the block is whole) or 2 doubles.
#include "common.cuh"

static __device__ __forceinline__ void random_philox(unsigned long long seed, unsigned long long stream,
                                                     unsigned long long block, unsigned& w0, unsigned& w1,
                                                     unsigned& w2, unsigned& w3) {
    const unsigned M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    unsigned c0 = (unsigned)block, c1 = (unsigned)(block >> 32);
    unsigned c2 = (unsigned)stream, c3 = (unsigned)(stream >> 32);
    unsigned k0 = (unsigned)seed, k1 = (unsigned)(seed >> 32);
#pragma unroll
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k0 += W0;
            k1 += W1;
        }
        unsigned hi0 = __umulhi(M0, c0), lo0 = M0 * c0;
        unsigned hi1 = __umulhi(M1, c2), lo1 = M1 * c2;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    w0 = c0;
    w1 = c1;
    w2 = c2;
    w3 = c3;
}

// Philox.uniformFloat: [0, 1) from the top 24 bits (exact).
static __device__ __forceinline__ float random_uniform_float(unsigned w) {
    return (float)(w >> 8) * 5.9604644775390625e-8f;  // 2^-24
}

// Philox.openUniformFloat: (0, 1) from the top 23 bits plus a half (exact).
static __device__ __forceinline__ float random_open_uniform_float(unsigned w) {
    return ((float)(w >> 9) + 0.5f) * 1.1920928955078125e-7f;  // 2^-23
}

static __device__ __forceinline__ unsigned long long random_bits53(unsigned hi, unsigned lo) {
    return ((unsigned long long)(hi >> 5) << 26) | (unsigned long long)(lo >> 6);
}

// Philox.uniformDouble: [0, 1) from 53 bits of two words (exact).
static __device__ __forceinline__ double random_uniform_double(unsigned hi, unsigned lo) {
    return (double)random_bits53(hi, lo) * 1.1102230246251565404236316680908203125e-16;  // 2^-53
}

// Philox.openUniformDouble: (0, 1) from 52 bits plus a half (exact).
static __device__ __forceinline__ double random_open_uniform_double(unsigned hi, unsigned lo) {
    return ((double)(random_bits53(hi, lo) >> 1) + 0.5) * 2.220446049250313080847263336181640625e-16;  // 2^-52
}

// sin and cos of th in [0, 2 pi) to < 1 ulp, from fdlibm (the kernels Java's StrictMath uses):
// Cody-Waite reduction by k pi/2 (k <= 4, so k * pio2_1 is exact) with a 3-part pi/2, then
// __kernel_sin / __kernel_cos (FreeBSD k_sin.c, k_cos.c). CUDA's own double sin/cos would do as well
// but carry a Payne-Hanek slow path for huge arguments that puts a 40-byte array in local memory.
static __device__ __forceinline__ double random_ksin(double x, double y) {
    const double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03,
                 S3 = -1.98412698298579493134e-04, S4 = 2.75573137070700676789e-06,
                 S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
    double z = x * x, w = z * z;
    double r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    double v = z * x;
    return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

static __device__ __forceinline__ double random_kcos(double x, double y) {
    const double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03,
                 C3 = 2.48015872894767294178e-05, C4 = -2.75573143513906633035e-07,
                 C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
    double z = x * x, w = z * z;
    double r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    double hz = 0.5 * z;
    w = 1.0 - hz;
    return w + (((1.0 - w) - hz) + (z * r - x * y));
}

static __device__ __forceinline__ void random_sincos(double th, double& s, double& c) {
    const double invpio2 = 6.36619772367581382433e-01, pio2_1 = 1.57079632673412561417e+00,
                 pio2_2 = 6.07710050630396597660e-11, pio2_2t = 2.02226624879595063154e-21;
    int k = (int)(th * invpio2 + 0.5);
    double fn = (double)k;
    double t = th - fn * pio2_1;  // exact
    double w = fn * pio2_2;
    double r = t - w;
    w = fn * pio2_2t - ((t - r) - w);
    double y0 = r - w;
    double y1 = (r - y0) - w;
    double sn = random_ksin(y0, y1), cs = random_kcos(y0, y1);
    switch (k & 3) {
        case 0: s = sn; c = cs; break;
        case 1: s = cs; c = -sn; break;
        case 2: s = -sn; c = -cs; break;
        default: s = -cs; c = sn; break;
    }
}

// Box-Muller exactly as CpuBackend.random writes it: -2 * Math.log(u), 2 * Math.PI * u2 (2 * PI first).
static __device__ __forceinline__ void random_box_muller(double u1, double u2, double& z0, double& z1) {
    double r = sqrt(-2.0 * log(u1));
    double th = (2.0 * 3.141592653589793) * u2;  // in [0, 2 pi)
    double s, c;
    random_sincos(th, s, c);
    z0 = r * c;
    z1 = r * s;
}

extern "C" __global__ void random_kernel1_f32(float* out, int n, unsigned long long seed, unsigned long long stream,
                                              unsigned long long offset, int normal) {
    int blocks = (n >> 2) + ((n & 3) != 0);
    GRID_STRIDE_LOOP(b, blocks) {
        unsigned w0, w1, w2, w3;
        random_philox(seed, stream, offset + (unsigned long long)b, w0, w1, w2, w3);
        float v0, v1, v2, v3;
        if (!normal) {
            v0 = random_uniform_float(w0);
            v1 = random_uniform_float(w1);
            v2 = random_uniform_float(w2);
            v3 = random_uniform_float(w3);
        } else {
            double z0, z1;
            random_box_muller((double)random_open_uniform_float(w0), (double)random_uniform_float(w1), z0, z1);
            v0 = (float)z0;
            v1 = (float)z1;
            random_box_muller((double)random_open_uniform_float(w2), (double)random_uniform_float(w3), z0, z1);
            v2 = (float)z0;
            v3 = (float)z1;
        }
        int base = b << 2;
        float* o = out + base;
        if (base + 3 < n && ((unsigned long long)o & 15ull) == 0) {
            float4 v;
            v.x = v0;
            v.y = v1;
            v.z = v2;
            v.w = v3;
            *reinterpret_cast<float4*>(o) = v;
        } else {
            o[0] = v0;
            if (base + 1 < n) o[1] = v1;
            if (base + 2 < n) o[2] = v2;
            if (base + 3 < n) o[3] = v3;
        }
    }
}

extern "C" __global__ void random_kernel1_f64(double* out, int n, unsigned long long seed, unsigned long long stream,
                                              unsigned long long offset, int normal) {
    int blocks = (n >> 1) + (n & 1);
    GRID_STRIDE_LOOP(b, blocks) {
        unsigned w0, w1, w2, w3;
        random_philox(seed, stream, offset + (unsigned long long)b, w0, w1, w2, w3);
        double v0, v1;
        if (!normal) {
            v0 = random_uniform_double(w0, w1);
            v1 = random_uniform_double(w2, w3);
        } else {
            random_box_muller(random_open_uniform_double(w0, w1), random_uniform_double(w2, w3), v0, v1);
        }
        int base = b << 1;
        out[base] = v0;
        if (base + 1 < n) out[base + 1] = v1;
    }
}
