// patch_sentence_ot.cu — fused patch-sentence optimal-transport scores for all B1 x B2 image-report
// pairs (DESIGN.md 7.2), forward and backward, without materialising the (B1, B2, N, M) plans.
//
// Inputs: L2-normalised patch embeddings P (B1, N, D) with a patch mask pm (B1, N) and sentence
// embeddings S (B2, M, D) with a sentence mask sm (B2, M); masks hold 1 (valid) / 0, or are null (all
// valid). For pair (i, j), cos = P_i S_j^T (N, M) and, over the valid entries (Backend.patchSentenceOt
// states the rules; the CPU backend is the reference):
//   rowmax_p = max_s cos_ps,   K_ps = exp((cos_ps - rowmax_p) / eps)   (0 where p or s is masked),
//   a_p = 1/R, b_s = 1/C (R, C = valid patches, sentences), v = 1, then `iters` times
//   u_p = a_p / sum_s K_ps v_s,   v_s = b_s / sum_p K_ps u_p          (0 where the sum is 0),
//   T = diag(u) K diag(v),   score_ij = sum_ps T_ps cos_ps.
// The forward writes score (B1, B2) and the scalings u (B1, B2, N), v (B1, B2, M) — what the backward
// needs to rebuild T — never T itself. Sinkhorn runs in float here (the CPU runs it in double).
//
// Cost per pair (paper-vitb16: N = 98 kept patches, M = 16 sentences, E = 512, 20 iterations):
//   cosines 2 N M E = 1.61 MFLOP; Sinkhorn 4 N M per iteration = 2.5 kFLOP x 20 = 0.13 MFLOP; exp N M.
//   Bytes: the cosines read N E + M E floats = 233 KB per pair if nothing is reused (v1), and per
//   image / report group with reuse (v2); writes 4 (N + M + 1) bytes. At B = 128: 16384 pairs, 28 GFLOP,
//   3.8 GB read by v1 (the reason v2 exists); the plans it never stores would be B^2 N M 4 B = 103 MB.
//
// Versions (forward):
//   patch_sentence_ot_kernel1_f32: one block of 128 threads per pair, grid B1*B2. Threads compute the
//     N x M cosines straight from global memory (one entry per thread, a loop over D), then Sinkhorn
//     with __syncthreads between the u and v half-steps (one thread per row, then one per column), then a
//     block reduction for the score. Simple, and M of 128 threads idle in every v half-step.
//   patch_sentence_ot_kernel2_f32: G pairs per block (image i with reports j0..j0+G-1), one warp per
//     pair. D is tiled by 32: the block stages P_i[:, tile] once for all G reports and each report's
//     S_j[:, tile] in shared memory, so the image is read from global memory once per G reports instead
//     of once per report. Sinkhorn then runs inside each warp with no block-wide barriers (lanes own
//     rows, then columns; __syncwarp between the half-steps), and the score is a warp shuffle sum.
//     Java picks G (1..8) so the shared memory stays under 40 KB.
// Backward (plan rebuilt from u, v; no Sinkhorn):
//   patch_sentence_ot_backward_patches_kernel1_f32: one block per image i, reports j in order:
//     dP_i += W S_j with W_ps = g_ij u_p K_ps v_s; the block owns dP_i (no atomics, fixed order).
//   patch_sentence_ot_backward_sentences_kernel1_f32: one block per report j, images i in order:
//     dS_j += W^T P_i.
#include "common.cuh"

#define OT_THREADS 128
#define OT_TILE 32

// Whether mask entry m[at] is valid (a null mask: everything is).
static __device__ __forceinline__ bool ot_valid(const float* m, int at) {
    return m == nullptr || m[at] != 0.0f;
}

// Number of valid entries among mask[0..n).
static __device__ __forceinline__ int ot_count(const float* m, int n) {
    if (m == nullptr) return n;
    int c = 0;
    for (int q = 0; q < n; q++) c += m[q] != 0.0f;
    return c;
}

// Block-wide sum of one float per thread (OT_THREADS threads); every thread gets the total.
static __device__ float ot_block_sum(float x, float* red) {
    x = warp_sum(x);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) red[warp] = x;
    __syncthreads();
    float t = 0.0f;
    for (int w = 0; w < OT_THREADS / 32; w++) t += red[w];
    __syncthreads();
    return t;
}

// K in place of cos for row p: K_ps = exp((cos_ps - rowmax_p) / eps) over the valid s, 0 elsewhere;
// keeps cos in `cos` and writes K to `k`. pm/sm already offset to the pair's image/report.
static __device__ __forceinline__ void ot_kernel_row(const float* cos, float* k, int p, int m, const float* pm,
                                                     const float* sm, float eps) {
    bool rv = ot_valid(pm, p);
    float mx = -INFINITY;
    for (int s = 0; s < m; s++) {
        if (rv && ot_valid(sm, s)) mx = fmaxf(mx, cos[p * m + s]);
    }
    for (int s = 0; s < m; s++) k[p * m + s] = rv && ot_valid(sm, s) ? expf((cos[p * m + s] - mx) / eps) : 0.0f;
}

extern "C" __global__ void patch_sentence_ot_kernel1_f32(float* scores, float* u_out, float* v_out, const float* P,
                                                         const float* pm, const float* S, const float* sm, int b1, int b2,
                                                         int n, int m, int d, float eps, int iters) {
    DYN_SHARED(float, sh);
    float* cos = sh;           // (N, M)
    float* k = cos + n * m;    // (N, M)
    float* u = k + n * m;      // (N)
    float* v = u + n;          // (M)
    float* red = v + m;        // (OT_THREADS / 32)
    int pair = blockIdx.x, i = pair / b2, j = pair % b2;
    const float* pi = P + (long long)i * n * d;
    const float* sj = S + (long long)j * m * d;
    const float* pmi = pm == nullptr ? nullptr : pm + i * n;
    const float* smj = sm == nullptr ? nullptr : sm + j * m;
    for (int e = threadIdx.x; e < n * m; e += blockDim.x) {
        int p = e / m, s = e % m;
        float acc = 0.0f;
        for (int q = 0; q < d; q++) acc += pi[p * d + q] * sj[s * d + q];
        cos[e] = acc;
    }
    __syncthreads();
    for (int p = threadIdx.x; p < n; p += blockDim.x) ot_kernel_row(cos, k, p, m, pmi, smj, eps);
    for (int s = threadIdx.x; s < m; s += blockDim.x) v[s] = 1.0f;
    float a = 1.0f / (float)max(ot_count(pmi, n), 1), b = 1.0f / (float)max(ot_count(smj, m), 1);
    __syncthreads();
    for (int it = 0; it < iters; it++) {
        for (int p = threadIdx.x; p < n; p += blockDim.x) {
            float kv = 0.0f;
            for (int s = 0; s < m; s++) kv += k[p * m + s] * v[s];
            u[p] = kv > 0.0f ? a / kv : 0.0f;
        }
        __syncthreads();
        for (int s = threadIdx.x; s < m; s += blockDim.x) {
            float ku = 0.0f;
            for (int p = 0; p < n; p++) ku += k[p * m + s] * u[p];
            v[s] = ku > 0.0f ? b / ku : 0.0f;
        }
        __syncthreads();
    }
    float part = 0.0f;
    for (int e = threadIdx.x; e < n * m; e += blockDim.x) part += u[e / m] * k[e] * v[e % m] * cos[e];
    float total = ot_block_sum(part, red);
    if (threadIdx.x == 0) scores[pair] = total;
    for (int p = threadIdx.x; p < n; p += blockDim.x) u_out[(long long)pair * n + p] = u[p];
    for (int s = threadIdx.x; s < m; s += blockDim.x) v_out[(long long)pair * m + s] = v[s];
}

extern "C" __global__ void patch_sentence_ot_kernel2_f32(float* scores, float* u_out, float* v_out, const float* P,
                                                         const float* pm, const float* S, const float* sm, int b1, int b2,
                                                         int n, int m, int d, float eps, int iters) {
    DYN_SHARED(float, sh);
    int g = blockDim.x >> 5;                      // pairs (warps) per block
    int groups = (b2 + g - 1) / g;
    int i = blockIdx.x / groups, j0 = (blockIdx.x % groups) * g;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, j = j0 + warp;
    float* ptile = sh;                            // (N, OT_TILE): P_i[:, tile]
    float* stile = ptile + n * OT_TILE;           // (G, M, OT_TILE): S_j[:, tile] of the group's reports
    float* cos = stile + g * m * OT_TILE;         // (G, N, M)
    float* k = cos + g * n * m;                   // (G, N, M)
    float* u = k + g * n * m;                     // (G, N)
    float* v = u + g * n;                         // (G, M)
    float* cw = cos + warp * n * m;
    float* kw = k + warp * n * m;
    float* uw = u + warp * n;
    float* vw = v + warp * m;
    const float* pi = P + (long long)i * n * d;
    for (int e = lane; e < n * m; e += 32) cw[e] = 0.0f;
    for (int t0 = 0; t0 < d; t0 += OT_TILE) {
        int tw = min(OT_TILE, d - t0);
        __syncthreads();                          // the previous tile is consumed
        for (int e = threadIdx.x; e < n * OT_TILE; e += blockDim.x) {
            int p = e / OT_TILE, q = e % OT_TILE;
            ptile[e] = q < tw ? pi[(long long)p * d + t0 + q] : 0.0f;
        }
        for (int e = threadIdx.x; e < g * m * OT_TILE; e += blockDim.x) {
            int w = e / (m * OT_TILE), s = (e / OT_TILE) % m, q = e % OT_TILE;
            int jj = j0 + w;
            stile[e] = jj < b2 && q < tw ? S[((long long)jj * m + s) * d + t0 + q] : 0.0f;
        }
        __syncthreads();
        if (j < b2) {
            const float* sw = stile + warp * m * OT_TILE;
            for (int e = lane; e < n * m; e += 32) {
                int p = e / m, s = e % m;
                float acc = 0.0f;
#pragma unroll 8
                for (int q = 0; q < OT_TILE; q++) acc += ptile[p * OT_TILE + q] * sw[s * OT_TILE + q];
                cw[e] += acc;
            }
        }
    }
    if (j >= b2) return;                          // no block-wide barrier follows
    const float* pmi = pm == nullptr ? nullptr : pm + i * n;
    const float* smj = sm == nullptr ? nullptr : sm + j * m;
    __syncwarp();
    for (int p = lane; p < n; p += 32) ot_kernel_row(cw, kw, p, m, pmi, smj, eps);
    for (int s = lane; s < m; s += 32) vw[s] = 1.0f;
    float a = 1.0f / (float)max(ot_count(pmi, n), 1), b = 1.0f / (float)max(ot_count(smj, m), 1);
    __syncwarp();
    for (int it = 0; it < iters; it++) {
        for (int p = lane; p < n; p += 32) {
            float kv = 0.0f;
            for (int s = 0; s < m; s++) kv += kw[p * m + s] * vw[s];
            uw[p] = kv > 0.0f ? a / kv : 0.0f;
        }
        __syncwarp();
        for (int s = lane; s < m; s += 32) {
            float ku = 0.0f;
            for (int p = 0; p < n; p++) ku += kw[p * m + s] * uw[p];
            vw[s] = ku > 0.0f ? b / ku : 0.0f;
        }
        __syncwarp();
    }
    float part = 0.0f;
    for (int e = lane; e < n * m; e += 32) part += uw[e / m] * kw[e] * vw[e % m] * cw[e];
    part = warp_sum(part);
    long long pair = (long long)i * b2 + j;
    if (lane == 0) scores[pair] = part;
    for (int p = lane; p < n; p += 32) u_out[pair * n + p] = uw[p];
    for (int s = lane; s < m; s += 32) v_out[pair * m + s] = vw[s];
}

// W (N, M) of pair (i, j) into w: g_ij u_p K_ps v_s, with the cosines computed into w first. Block-wide.
static __device__ void ot_pair_weights(float* w, const float* pi, const float* sj, const float* pmi, const float* smj,
                                       const float* u, const float* v, float gij, int n, int m, int d, float eps) {
    for (int e = threadIdx.x; e < n * m; e += blockDim.x) {
        int p = e / m, s = e % m;
        float acc = 0.0f;
        for (int q = 0; q < d; q++) acc += pi[p * d + q] * sj[s * d + q];
        w[e] = acc;
    }
    __syncthreads();
    for (int p = threadIdx.x; p < n; p += blockDim.x) {
        bool rv = ot_valid(pmi, p);
        float mx = -INFINITY;
        for (int s = 0; s < m; s++) {
            if (rv && ot_valid(smj, s)) mx = fmaxf(mx, w[p * m + s]);
        }
        for (int s = 0; s < m; s++) {
            w[p * m + s] = rv && ot_valid(smj, s) ? gij * u[p] * expf((w[p * m + s] - mx) / eps) * v[s] : 0.0f;
        }
    }
    __syncthreads();
}

// One block owns one gradient's rows: image i's dP_i (N, D) against every report j when `patches`, report
// j's dS_j (M, D) against every image i otherwise; partners in index order, so the sums are deterministic.
//   dP_i[p] += sum_s W_ps S_j[s],   dS_j[s] += sum_p W_ps P_i[p]
static __device__ void ot_backward_rows(float* grad, const float* gs, const float* u, const float* v, const float* P,
                                        const float* pm, const float* S, const float* sm, int b1, int b2, int n, int m,
                                        int d, float eps, bool patches) {
    DYN_SHARED(float, w);  // (N, M)
    int owner = blockIdx.x, partners = patches ? b2 : b1;
    int rows = patches ? n : m, inner = patches ? m : n;
    float* out = grad + (long long)owner * rows * d;
    for (int e = threadIdx.x; e < rows * d; e += blockDim.x) out[e] = 0.0f;
    for (int t = 0; t < partners; t++) {
        int i = patches ? owner : t, j = patches ? t : owner;
        long long pair = (long long)i * b2 + j;
        const float* pi = P + (long long)i * n * d;
        const float* sj = S + (long long)j * m * d;
        ot_pair_weights(w, pi, sj, pm == nullptr ? nullptr : pm + i * n, sm == nullptr ? nullptr : sm + j * m,
                        u + pair * n, v + pair * m, gs[pair], n, m, d, eps);
        const float* src = patches ? sj : pi;  // the partner's rows
        for (int e = threadIdx.x; e < rows * d; e += blockDim.x) {
            int r = e / d, q = e % d;
            float acc = 0.0f;
            for (int c = 0; c < inner; c++) acc += w[patches ? r * m + c : c * m + r] * src[c * d + q];
            out[e] += acc;
        }
        __syncthreads();  // w is rewritten for the next partner
    }
}

extern "C" __global__ void patch_sentence_ot_backward_patches_kernel1_f32(float* dP, const float* gs, const float* u,
                                                                          const float* v, const float* P, const float* pm,
                                                                          const float* S, const float* sm, int b1, int b2,
                                                                          int n, int m, int d, float eps) {
    ot_backward_rows(dP, gs, u, v, P, pm, S, sm, b1, b2, n, m, d, eps, true);
}

extern "C" __global__ void patch_sentence_ot_backward_sentences_kernel1_f32(float* dS, const float* gs, const float* u,
                                                                            const float* v, const float* P, const float* pm,
                                                                            const float* S, const float* sm, int b1, int b2,
                                                                            int n, int m, int d, float eps) {
    ot_backward_rows(dS, gs, u, v, P, pm, S, sm, b1, b2, n, m, d, eps, false);
}
