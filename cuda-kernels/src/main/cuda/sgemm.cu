// sgemm.cu — batched C = A @ B with general strides (the GEMM fallback when cuBLAS is not loaded).
//
// C is (batch, M, N) contiguous; A (M, K) is read at A + aOff[z] + m*aRs + k*aCs and B (K, N) at
// B + bOff[z] + k*bRs + n*bCs, so transposed views arrive as swapped strides and need no copy.
// z = blockIdx.z. M, N, K need not divide the tiles: loads past the edge read 0, stores are guarded.
// K = 0 writes zeros.
//
// Versions, and why each is faster (numbers per fused multiply-add, FMA):
//   sgemm_kernel1_f32  naive: one thread per C element, block (16,16), grid (ceil(N/16), ceil(M/16),
//                      batch). Each FMA issues 2 global loads (a row of A, a column of B); neighbours
//                      re-read the same values, so the traffic hits L1/L2 rather than DRAM, but the
//                      kernel is bound by load instructions (2 loads : 1 FMA), and with A^T or B^T
//                      strides one of the two streams is uncoalesced (a cache line per lane).
//   sgemm_kernel2_f32  16x16 shared-memory tiles, same geometry. A block stages a 16x16 tile of A and
//                      of B (one element per thread, the coalesced direction chosen from the strides,
//                      so A^T / B^T views load as fast as plain ones) and does 16 FMAs per thread from
//                      shared memory: global traffic drops 16x to 2/16 loads per FMA; the inner loop
//                      still has 2 shared loads per FMA, so it is bound by shared-memory bandwidth.
//   sgemm_kernel3_f32  (production) 64x64 block tile, BK = 8, 256 threads, each computing a 4x4 register
//                      tile (rows ty + 16i, cols tx + 16j: a warp's B reads and C stores are
//                      consecutive). Per BK step a block loads (64 + 64) * 8 values for 64*64*8 FMAs:
//                      1/32 global loads per FMA (4x less than kernel2), and a thread loads 4 + 4
//                      values from shared memory for 16 FMAs (0.5 shared loads per FMA, 4x less than
//                      kernel2). The next K slice is loaded into registers while the current one is
//                      computed, hiding global latency. Block (256), grid (ceil(N/64), ceil(M/64),
//                      batch), 4.25 KiB static shared memory.
//   gemm_kernel2_f64   kernel2's template for double (the F64 matmul): F64 is used for checks, not speed.
#include "common.cuh"

// ------------------------------------------------------------------------------------------------
// kernel1: naive

extern "C" __global__ void sgemm_kernel1_f32(float* C, const float* A, const float* B, int M, int N, int K, int aRs, int aCs, int bRs,
                                             int bCs, const int* aOff, const int* bOff) {
    int z = blockIdx.z;
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row >= M || col >= N) return;
    const float* a = A + aOff[z] + row * aRs;
    const float* b = B + bOff[z] + col * bCs;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc += a[k * aCs] * b[k * bRs];
    C[z * M * N + row * N + col] = acc;
}

// ------------------------------------------------------------------------------------------------
// kernel2: 16x16 shared-memory tiles (template: also the F64 matmul)

#define SGEMM_T2 16

template <typename T>
static __device__ void sgemm_tiled16(T* C, const T* A, const T* B, int M, int N, int K, int aRs, int aCs, int bRs, int bCs,
                                     const int* aOff, const int* bOff) {
    __shared__ T As[SGEMM_T2][SGEMM_T2 + 1];  // As[m][k]; +1: conflict-free when stored along m
    __shared__ T Bs[SGEMM_T2][SGEMM_T2 + 1];  // Bs[k][n]; +1: conflict-free when stored along k
    int tx = threadIdx.x, ty = threadIdx.y;
    int z = blockIdx.z;
    A += aOff[z];
    B += bOff[z];
    C += z * M * N;
    int row0 = blockIdx.y * SGEMM_T2, col0 = blockIdx.x * SGEMM_T2;
    // Consecutive threads (tx) walk the unit-stride direction of each operand, so the loads coalesce.
    bool aAlongM = aRs == 1 && aCs != 1;  // A^T view: m is contiguous
    bool bAlongK = bRs == 1 && bCs != 1;  // B^T view: k is contiguous
    int am = aAlongM ? tx : ty, ak = aAlongM ? ty : tx;
    int bk = bAlongK ? tx : ty, bn = bAlongK ? ty : tx;
    T acc = (T)0;
    for (int k0 = 0; k0 < K; k0 += SGEMM_T2) {
        int gm = row0 + am, gk = k0 + ak;
        As[am][ak] = gm < M && gk < K ? A[gm * aRs + gk * aCs] : (T)0;
        gk = k0 + bk;
        int gn = col0 + bn;
        Bs[bk][bn] = gk < K && gn < N ? B[gk * bRs + gn * bCs] : (T)0;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < SGEMM_T2; k++) acc += As[ty][k] * Bs[k][tx];
        __syncthreads();
    }
    int row = row0 + ty, col = col0 + tx;
    if (row < M && col < N) C[row * N + col] = acc;
}

extern "C" __global__ void sgemm_kernel2_f32(float* C, const float* A, const float* B, int M, int N, int K, int aRs, int aCs, int bRs,
                                             int bCs, const int* aOff, const int* bOff) {
    sgemm_tiled16<float>(C, A, B, M, N, K, aRs, aCs, bRs, bCs, aOff, bOff);
}

extern "C" __global__ void gemm_kernel2_f64(double* C, const double* A, const double* B, int M, int N, int K, int aRs, int aCs, int bRs,
                                            int bCs, const int* aOff, const int* bOff) {
    sgemm_tiled16<double>(C, A, B, M, N, K, aRs, aCs, bRs, bCs, aOff, bOff);
}

// ------------------------------------------------------------------------------------------------
// kernel3: 64x64 block tile, BK 8, 4x4 register tile per thread

#define SGEMM_BM 64
#define SGEMM_BN 64
#define SGEMM_BK 8
#define SGEMM_PAD 4  // row stride 68: stores along k (8 consecutive threads, 8 rows) hit 32 distinct banks

extern "C" __global__ void sgemm_kernel3_f32(float* C, const float* A, const float* B, int M, int N, int K, int aRs, int aCs, int bRs,
                                             int bCs, const int* aOff, const int* bOff) {
    __shared__ float As[SGEMM_BK][SGEMM_BM + SGEMM_PAD];  // As[k][m] (A transposed: the inner loop reads along m)
    __shared__ float Bs[SGEMM_BK][SGEMM_BN + SGEMM_PAD];  // Bs[k][n]
    int tid = threadIdx.x;
    int tx = tid & 15, ty = tid >> 4;  // this thread's C elements: rows ty + 16i, cols tx + 16j
    int z = blockIdx.z;
    int m0 = blockIdx.y * SGEMM_BM, n0 = blockIdx.x * SGEMM_BN;
    A += aOff[z];
    B += bOff[z];
    C += z * M * N;

    // Tile loads: 512 values per operand, 2 per thread; consecutive threads walk the operand's
    // unit-stride direction (k for plain A, m for A^T; n for plain B, k for B^T).
    bool aAlongK = aCs == 1;
    bool bAlongN = bCs == 1 || bRs != 1;
    int aM[2], aK[2], bK[2], bN[2];
#pragma unroll
    for (int l = 0; l < 2; l++) {
        int idx = tid + 256 * l;
        aM[l] = aAlongK ? idx >> 3 : idx & 63;
        aK[l] = aAlongK ? idx & 7 : idx >> 6;
        bK[l] = bAlongN ? idx >> 6 : idx & 7;
        bN[l] = bAlongN ? idx & 63 : idx >> 3;
    }
    bool aIn0 = m0 + aM[0] < M, aIn1 = m0 + aM[1] < M;
    bool bIn0 = n0 + bN[0] < N, bIn1 = n0 + bN[1] < N;
    const float* aP0 = A + (m0 + aM[0]) * aRs + aK[0] * aCs;
    const float* aP1 = A + (m0 + aM[1]) * aRs + aK[1] * aCs;
    const float* bP0 = B + bK[0] * bRs + (n0 + bN[0]) * bCs;
    const float* bP1 = B + bK[1] * bRs + (n0 + bN[1]) * bCs;

    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;

    // Registers holding the next K slice.
    float ra0 = aIn0 && aK[0] < K ? *aP0 : 0.0f;
    float ra1 = aIn1 && aK[1] < K ? *aP1 : 0.0f;
    float rb0 = bIn0 && bK[0] < K ? *bP0 : 0.0f;
    float rb1 = bIn1 && bK[1] < K ? *bP1 : 0.0f;

    for (int k0 = 0; k0 < K; k0 += SGEMM_BK) {
        As[aK[0]][aM[0]] = ra0;
        As[aK[1]][aM[1]] = ra1;
        Bs[bK[0]][bN[0]] = rb0;
        Bs[bK[1]][bN[1]] = rb1;
        __syncthreads();
        int k1 = k0 + SGEMM_BK;
        if (k1 < K) {  // prefetch the next slice; the loads are in flight during the FMAs below
            aP0 += SGEMM_BK * aCs;
            aP1 += SGEMM_BK * aCs;
            bP0 += SGEMM_BK * bRs;
            bP1 += SGEMM_BK * bRs;
            ra0 = aIn0 && k1 + aK[0] < K ? *aP0 : 0.0f;
            ra1 = aIn1 && k1 + aK[1] < K ? *aP1 : 0.0f;
            rb0 = bIn0 && k1 + bK[0] < K ? *bP0 : 0.0f;
            rb1 = bIn1 && k1 + bK[1] < K ? *bP1 : 0.0f;
        }
#pragma unroll
        for (int k = 0; k < SGEMM_BK; k++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = As[k][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = Bs[k][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 4; i++) {
        int row = m0 + ty + 16 * i;
        if (row >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int col = n0 + tx + 16 * j;
            if (col < N) C[row * N + col] = acc[i][j];
        }
    }
}
