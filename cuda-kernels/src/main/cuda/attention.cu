// attention.cu — fused scaled-dot-product attention, forward and backward, f32, head dim d <= 128
// (Backend.attention / attentionBackward; the composite in tensor/.../Composite.attention is the reference).
//
// q (B, H, Tq, d), k and v (B, H, Tk, d) contiguous; pad (B, Tk) int, nonzero = padded key, or 0 (none).
// For query i of head (b, h), over the keys j that are not padded, with scale = 1 / sqrt(d):
//   s_ij = scale q_i . k_j,   lse_i = log sum_j exp(s_ij),   p_ij = exp(s_ij - lse_i),   out_i = sum_j p_ij v_j.
// The forward writes out (B, H, Tq, d) and lse (B, H, Tq) — never the (B, H, Tq, Tk) probabilities; the
// backward rebuilds p from lse:   D_i = dout_i . out_i,   dp_ij = dout_i . v_j,   ds_ij = p_ij (dp_ij - D_i),
//   dq_i = scale sum_j ds_ij k_j,   dk_j = scale sum_i ds_ij q_i,   dv_j = sum_i p_ij dout_i.
// A query whose keys are ALL padded (the mask is per image, so every query of an image with no real key) gets
// out = NaN and lse = NaN (as the composite and PyTorch's math path: a softmax over only -inf); the backward
// then gives NaN for that query's dq and for dk, dv of every key of its head (p = exp(-inf - NaN) = NaN
// there), exactly as the composite does. Callers keep one real key (CLS).
//
// Limit: d <= 128. Every tiled kernel here holds 96 rows of d floats in shared memory (32 + 32 + 32 in the
// forward, 32 + 32 + 16 + 16 in the backward): 384 d bytes, 48 KB at d = 128, the most a block gets without
// the opt-in attribute; and each lane owns the output columns lane + 32u, u < 4. CudaBackend runs the
// composite (on the device) above it.
//
// Cost per call (paper-vitb16; ViT-B/16: B = 128, H = 12, T = 1 + 98 kept patches = 99, d = 64; text encoder:
// B = 128, H = 12, T = 128, d = 64):
//   forward  4 B H T^2 d FLOP = 3.85 GFLOP (ViT), 6.44 GFLOP (text), plus B H T^2 exps (15.1 M, 25.2 M).
//            Bytes (kernel2, each of q, k, v read once from DRAM, out and lse written): 156 MB (ViT),
//            202 MB (text); K and V are re-read once per 32-query tile (4 tiles at these T) from L2.
//   backward 10 B H T^2 d FLOP as five matmuls (9.6 GFLOP ViT, 16.1 GFLOP text); the kernel does 14 (the
//            scores and dp are recomputed by both the dk/dv and the dq blocks: 13.5 and 22.5 GFLOP).
//            Bytes: the preprocess reads dout, out and writes D (78 MB ViT, 101 MB text); the main kernel reads
//            q, k, v, dout, lse, D and writes dq, dk, dv (274 MB ViT, 354 MB text).
//   Memory: the composite materialises (B, H, T, T) floats — 60.2 MB per layer for ViT, 100.7 MB for text —
//   several times in flight, and autograd saved the probabilities (one such tensor per layer: 723 MB over
//   ViT-B's 12 layers, 1.2 GB over the text encoder's 12) for the backward. The fused op saves lse instead:
//   0.61 MB (ViT) and 0.79 MB (text) per layer, ~100x and ~128x (= T) less.
//
// Versions (forward):
//   attention_forward_kernel1_f32: one thread per query row, online softmax (Milakov & Gimelshein) over the
//     keys one at a time with no shared memory; the output row itself, in global memory, is the
//     accumulator (rescaled by exp(m_old - m_new) when the running max grows). Simple reference: every
//     thread reads all of K and V for its own query (Tq times per head in total), its d-long dot products
//     and its read-modify-write of the output row are serial, and the rows a warp touches are d floats
//     apart (uncoalesced). Block 128, grid ceil(B H Tq / 128).
//   attention_forward_kernel2_f32 (production): flash-style. One block of 128 threads (4 warps) per
//     (b, h, tile of 32 queries); the query tile (pre-scaled) sits in shared memory, and K and V stream
//     through shared memory in tiles of 32 keys, so each K/V element is read from global memory once per
//     32 queries instead of once per query, with coalesced loads. Each warp owns 8 queries; in the score
//     phase lane j takes key j of the tile and computes its 8 scores (register blocking: one K load per 8
//     FMAs); each query's running max moves once per tile (a warp max) while every lane keeps its own share
//     of the running sum (merged once, at the end); in the P V phase lane l owns output columns l, l+32,
//     l+64, l+96 and accumulates in registers, the probabilities broadcast from their lanes with shuffles.
//     The dot products walk the columns in an order rotated by the lane, so for even d the 32 lanes of a
//     warp hit 32 different shared-memory banks. Nothing of size Tq x Tk ever exists. Block 128, grid
//     B H ceil(Tq / 32), dynamic shared 384 d bytes.
// Backward (FlashAttention-2 style, no atomics: every output element has one owner block, so results are
// bit-for-bit deterministic):
//   attention_backward_preprocess_kernel1_f32: D_i = dout_i . out_i, one warp per row.
//   attention_backward_kernel1_f32: one launch, two kinds of blocks. The first B H ceil(Tk / 32) blocks
//     each own 32 keys of one head (K, V rows in shared memory) and loop over all queries in tiles of 16
//     (q, dout staged in shared memory), accumulating dk and dv in registers; the other B H ceil(Tq / 32)
//     blocks each own 32 queries (q, dout in shared memory) and loop over the keys in tiles of 16 (K, V
//     staged), accumulating dq. p is recomputed from lse in both; in the score phase lanes 0-15 and 16-31
//     take the 16 rows of the streamed tile against 4 of the warp's 8 owned rows each. Block 128, dynamic
//     shared 384 d bytes.
#include "common.cuh"

#define ATTENTION_THREADS 128  // 4 warps
#define ATTENTION_OWN 32       // rows a block owns: queries (forward, dq) or keys (dk, dv); 8 per warp
#define ATTENTION_KTILE 32     // keys per streamed tile in the forward (one per lane)
#define ATTENTION_OTILE 16     // rows per streamed tile in the backward (lanes 0-15 and 16-31)
#define ATTENTION_COLS 4       // output columns per lane: lane + 32u, u < 4, so d <= 128

// True when key `at` (already offset to the batch row) is padding.
static __device__ __forceinline__ bool attention_padded(const int* pad, int at) {
    return pad != nullptr && pad[at] != 0;
}

// ------------------------------------------------------------------------------------------------
// forward kernel1: one thread per query row, the output row in global memory as the accumulator.

extern "C" __global__ void attention_forward_kernel1_f32(float* out, float* lse, const float* q, const float* k, const float* v,
                                                         const int* pad, int B, int H, int Tq, int Tk, int d, float scale) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= B * H * Tq) return;
    int bh = row / Tq, b = bh / H;
    const float* qi = q + (long long)row * d;
    const float* kb = k + (long long)bh * Tk * d;
    const float* vb = v + (long long)bh * Tk * d;
    const int* pb = pad == nullptr ? nullptr : pad + b * Tk;
    float* oi = out + (long long)row * d;
    for (int c = 0; c < d; c++) oi[c] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    for (int j = 0; j < Tk; j++) {
        if (attention_padded(pb, j)) continue;
        const float* kj = kb + (long long)j * d;
        const float* vj = vb + (long long)j * d;
        float s = 0.0f;
        for (int c = 0; c < d; c++) s += qi[c] * kj[c];
        s *= scale;
        float mn = fmaxf(m, s);
        if (mn == -INFINITY) continue;  // only for infinite inputs: nothing to add yet
        float alpha = expf(m - mn), p = expf(s - mn);
        l = l * alpha + p;
        for (int c = 0; c < d; c++) oi[c] = oi[c] * alpha + p * vj[c];
        m = mn;
    }
    for (int c = 0; c < d; c++) oi[c] = oi[c] / l;  // no key: 0 / 0 = NaN
    lse[row] = l > 0.0f ? m + logf(l) : NAN;
}

// ------------------------------------------------------------------------------------------------
// forward kernel2: flash-style, a block per 32 queries, K/V tiles of 32 keys through shared memory.

extern "C" __global__ void attention_forward_kernel2_f32(float* out, float* lse, const float* q, const float* k, const float* v,
                                                         const int* pad, int B, int H, int Tq, int Tk, int d, float scale) {
    DYN_SHARED(float, sh);
    float* qs = sh;                          // (32, d) this block's queries, times scale
    float* ks = qs + ATTENTION_OWN * d;      // (32, d) key tile
    float* vs = ks + ATTENTION_KTILE * d;    // (32, d) value tile
    int tiles = (Tq + ATTENTION_OWN - 1) / ATTENTION_OWN;
    int bh = blockIdx.x / tiles, q0 = (blockIdx.x % tiles) * ATTENTION_OWN, b = bh / H;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const float* qb = q + (long long)bh * Tq * d;
    const float* kb = k + (long long)bh * Tk * d;
    const float* vb = v + (long long)bh * Tk * d;
    const int* pb = pad == nullptr ? nullptr : pad + b * Tk;
    for (int e = threadIdx.x; e < ATTENTION_OWN * d; e += blockDim.x) {
        int r = e / d, c = e - r * d;
        qs[e] = q0 + r < Tq ? qb[(long long)(q0 + r) * d + c] * scale : 0.0f;
    }
    float m[8], l[8], acc[8][ATTENTION_COLS];
#pragma unroll
    for (int r = 0; r < 8; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;  // this lane's share of the sum: lanes add their own keys' p, merged at the end
#pragma unroll
        for (int u = 0; u < ATTENTION_COLS; u++) acc[r][u] = 0.0f;
    }
    const float* qw = qs + warp * 8 * d;  // the warp's 8 queries
    int start = lane % d;                 // rotated column order: lane j reads bank (j (d + 1) + t) % 32
    for (int k0 = 0; k0 < Tk; k0 += ATTENTION_KTILE) {
        __syncthreads();  // qs written (first tile); the previous K/V tile consumed
        for (int e = threadIdx.x; e < ATTENTION_KTILE * d; e += blockDim.x) {
            int r = e / d, c = e - r * d;
            bool in = k0 + r < Tk;
            long long at = (long long)(k0 + r) * d + c;
            ks[e] = in ? kb[at] : 0.0f;
            vs[e] = in ? vb[at] : 0.0f;  // zeros: p = 0 times a poisoned value would be NaN
        }
        __syncthreads();
        // scores: lane j = key k0 + j against the warp's 8 queries
        int key = k0 + lane;
        bool valid = key < Tk && !attention_padded(pb, key);
        float s[8];
#pragma unroll
        for (int r = 0; r < 8; r++) s[r] = 0.0f;
        const float* krow = ks + lane * d;
        int c = start;
        for (int t = 0; t < d; t++) {
            float kc = krow[c];
#pragma unroll
            for (int r = 0; r < 8; r++) s[r] += qw[r * d + c] * kc;
            c = c + 1 == d ? 0 : c + 1;
        }
        // online softmax: new max over the tile, rescale the running sum and the accumulators
#pragma unroll
        for (int r = 0; r < 8; r++) {
            float sr = valid ? s[r] : -INFINITY;
            float mn = fmaxf(m[r], warp_max(sr));
            float alpha = 1.0f, p = 0.0f;
            if (mn != -INFINITY) {  // some key seen: exp(-inf - -inf) would be NaN
                alpha = expf(m[r] - mn);
                p = expf(sr - mn);
            }
            m[r] = mn;
            l[r] = l[r] * alpha + p;
            s[r] = p;
#pragma unroll
            for (int u = 0; u < ATTENTION_COLS; u++) acc[r][u] *= alpha;
        }
        // P V: lane owns columns lane + 32u; p of key j comes from lane j
        for (int j = 0; j < ATTENTION_KTILE; j++) {
            float vj[ATTENTION_COLS];
#pragma unroll
            for (int u = 0; u < ATTENTION_COLS; u++) {
                int cc = lane + 32 * u;
                vj[u] = cc < d ? vs[j * d + cc] : 0.0f;
            }
#pragma unroll
            for (int r = 0; r < 8; r++) {
                float pj = __shfl_sync(MLIP_FULL_MASK, s[r], j);
#pragma unroll
                for (int u = 0; u < ATTENTION_COLS; u++) acc[r][u] += pj * vj[u];
            }
        }
    }
#pragma unroll
    for (int r = 0; r < 8; r++) {
        float total = warp_sum(l[r]);
        int i = q0 + warp * 8 + r;
        if (i < Tq) {
            float* oi = out + ((long long)bh * Tq + i) * d;
#pragma unroll
            for (int u = 0; u < ATTENTION_COLS; u++) {
                int cc = lane + 32 * u;
                if (cc < d) oi[cc] = acc[r][u] / total;  // no key: 0 / 0 = NaN
            }
            if (lane == 0) lse[(long long)bh * Tq + i] = total > 0.0f ? m[r] + logf(total) : NAN;
        }
    }
}

// ------------------------------------------------------------------------------------------------
// backward

// D_i = dout_i . out_i for rows (B H Tq) of d; one warp per row.
extern "C" __global__ void attention_backward_preprocess_kernel1_f32(float* D, const float* dout, const float* out, int rows, int d) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;  // whole warps leave together
    const float* g = dout + (long long)row * d;
    const float* o = out + (long long)row * d;
    float acc = 0.0f;
    for (int c = lane; c < d; c += 32) acc += g[c] * o[c];
    acc = warp_sum(acc);
    if (lane == 0) D[row] = acc;
}

// One backward block (shared memory sh): 32 owned rows of head bh starting at own0 (8 per warp) against all rows of the other
// side in tiles of 16. KEYS_OWN: owned = keys (writes g1 = dk, g2 = dv), other = queries; else owned =
// queries (writes g1 = dq), other = keys. Shared: a1, a2 (32, d) the owned rows of (k, v) or (q, dout);
// b1, b2 (16, d) the streamed rows of (q, dout) or (k, v). Either way s = a1 . b1 and dp = a2 . b2.
template <bool KEYS_OWN>
static __device__ void attention_backward_block(float* sh, float* g1, float* g2, const float* dout, const float* q, const float* k,
                                                const float* v, const float* lse, const float* D, const int* pb, int bh,
                                                int own0, int Tq, int Tk, int d, float scale) {
    float* a1 = sh;
    float* a2 = a1 + ATTENTION_OWN * d;
    float* b1 = a2 + ATTENTION_OWN * d;
    float* b2 = b1 + ATTENTION_OTILE * d;
    int nOwn = KEYS_OWN ? Tk : Tq, nOther = KEYS_OWN ? Tq : Tk;
    const float* A1 = (KEYS_OWN ? k : q) + (long long)bh * nOwn * d;
    const float* A2 = (KEYS_OWN ? v : dout) + (long long)bh * nOwn * d;
    const float* B1 = (KEYS_OWN ? q : k) + (long long)bh * nOther * d;
    const float* B2 = (KEYS_OWN ? dout : v) + (long long)bh * nOther * d;
    const float* lseh = lse + (long long)bh * Tq;
    const float* Dh = D + (long long)bh * Tq;
    for (int e = threadIdx.x; e < ATTENTION_OWN * d; e += blockDim.x) {
        int r = e / d, c = e - r * d;
        bool in = own0 + r < nOwn;
        long long at = (long long)(own0 + r) * d + c;
        a1[e] = in ? A1[at] : 0.0f;
        a2[e] = in ? A2[at] : 0.0f;
    }
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int o = lane & 15;                    // score phase: the streamed row of this lane
    int rbase = warp * 8 + (lane >> 4) * 4;  // ... against owned rows rbase..rbase+3
    // What the score phase needs of the owned rows: in range; a padded key (KEYS_OWN); lse, D of a query (dq).
    bool ownOk[4], ownPad[4];
    float ownLse[4], ownD[4];
#pragma unroll
    for (int x = 0; x < 4; x++) {
        int r = own0 + rbase + x;
        ownOk[x] = r < nOwn;
        ownPad[x] = KEYS_OWN && ownOk[x] && attention_padded(pb, r);
        ownLse[x] = !KEYS_OWN && ownOk[x] ? lseh[r] : 0.0f;
        ownD[x] = !KEYS_OWN && ownOk[x] ? Dh[r] : 0.0f;
    }
    float acc1[8][ATTENTION_COLS], acc2[8][ATTENTION_COLS];
#pragma unroll
    for (int r = 0; r < 8; r++) {
#pragma unroll
        for (int u = 0; u < ATTENTION_COLS; u++) acc1[r][u] = acc2[r][u] = 0.0f;
    }
    int start = lane % d;
    for (int o0 = 0; o0 < nOther; o0 += ATTENTION_OTILE) {
        __syncthreads();  // a1, a2 written (first tile); the previous b1, b2 consumed
        for (int e = threadIdx.x; e < ATTENTION_OTILE * d; e += blockDim.x) {
            int r = e / d, c = e - r * d;
            bool in = o0 + r < nOther;
            long long at = (long long)(o0 + r) * d + c;
            b1[e] = in ? B1[at] : 0.0f;
            b2[e] = in ? B2[at] : 0.0f;
        }
        __syncthreads();
        int other = o0 + o;
        bool otherOk = other < nOther;
        bool otherPad = !KEYS_OWN && otherOk && attention_padded(pb, other);
        float otherLse = KEYS_OWN && otherOk ? lseh[other] : 0.0f;
        float otherD = KEYS_OWN && otherOk ? Dh[other] : 0.0f;
        float s[4], dp[4];
#pragma unroll
        for (int x = 0; x < 4; x++) s[x] = dp[x] = 0.0f;
        const float* b1r = b1 + o * d;
        const float* b2r = b2 + o * d;
        const float* a1r = a1 + rbase * d;
        const float* a2r = a2 + rbase * d;
        int c = start;
        for (int t = 0; t < d; t++) {
            float x1 = b1r[c], x2 = b2r[c];
#pragma unroll
            for (int x = 0; x < 4; x++) {
                s[x] += a1r[x * d + c] * x1;
                dp[x] += a2r[x * d + c] * x2;
            }
            c = c + 1 == d ? 0 : c + 1;
        }
        // p = exp(s - lse) (a padded key: s = -inf, p = 0 — NaN when the query has no key, as the composite);
        // ds = p (dp - D); rows out of range give exactly 0.
#pragma unroll
        for (int x = 0; x < 4; x++) {
            bool ok = ownOk[x] && otherOk;
            bool padded = KEYS_OWN ? ownPad[x] : otherPad;
            float L = KEYS_OWN ? otherLse : ownLse[x];
            float DD = KEYS_OWN ? otherD : ownD[x];
            float sv = padded ? -INFINITY : s[x] * scale;
            float p = ok ? expf(sv - L) : 0.0f;
            dp[x] = ok ? p * (dp[x] - DD) : 0.0f;  // ds
            s[x] = p;
        }
        // owned row r (of the warp's 8) against streamed row j: p, ds live in lane (r / 4) * 16 + j, slot r % 4
        for (int j = 0; j < ATTENTION_OTILE; j++) {
            float x1[ATTENTION_COLS], x2[ATTENTION_COLS];
#pragma unroll
            for (int u = 0; u < ATTENTION_COLS; u++) {
                int cc = lane + 32 * u;
                x1[u] = cc < d ? b1[j * d + cc] : 0.0f;
                x2[u] = KEYS_OWN && cc < d ? b2[j * d + cc] : 0.0f;
            }
#pragma unroll
            for (int r = 0; r < 8; r++) {
                int src = (r >> 2) * 16 + j;
                float dsv = __shfl_sync(MLIP_FULL_MASK, dp[r & 3], src);
#pragma unroll
                for (int u = 0; u < ATTENTION_COLS; u++) acc1[r][u] += dsv * x1[u];  // dk += ds q, or dq += ds k
                if (KEYS_OWN) {
                    float pv = __shfl_sync(MLIP_FULL_MASK, s[r & 3], src);
#pragma unroll
                    for (int u = 0; u < ATTENTION_COLS; u++) acc2[r][u] += pv * x2[u];  // dv += p dout
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < 8; r++) {
        int row = own0 + warp * 8 + r;
        if (row >= nOwn) continue;
        long long base = ((long long)bh * nOwn + row) * d;
#pragma unroll
        for (int u = 0; u < ATTENTION_COLS; u++) {
            int cc = lane + 32 * u;
            if (cc >= d) continue;
            g1[base + cc] = acc1[r][u] * scale;
            if (KEYS_OWN) g2[base + cc] = acc2[r][u];
        }
    }
}

// Blocks [0, B H ceil(Tk/32)) own 32 keys each (dk, dv); the next B H ceil(Tq/32) own 32 queries each (dq).
extern "C" __global__ void attention_backward_kernel1_f32(float* dq, float* dk, float* dv, const float* dout, const float* q,
                                                          const float* k, const float* v, const float* lse, const float* D,
                                                          const int* pad, int B, int H, int Tq, int Tk, int d, float scale) {
    int keyTiles = (Tk + ATTENTION_OWN - 1) / ATTENTION_OWN, queryTiles = (Tq + ATTENTION_OWN - 1) / ATTENTION_OWN;
    int blk = blockIdx.x, keyBlocks = B * H * keyTiles;
    DYN_SHARED(float, sh);
    if (blk < keyBlocks) {  // uniform over the block: both sides reach the same barriers
        int bh = blk / keyTiles;
        attention_backward_block<true>(sh, dk, dv, dout, q, k, v, lse, D, pad == nullptr ? nullptr : pad + (bh / H) * Tk, bh,
                                       (blk % keyTiles) * ATTENTION_OWN, Tq, Tk, d, scale);
    } else {
        blk -= keyBlocks;
        int bh = blk / queryTiles;
        attention_backward_block<false>(sh, dq, nullptr, dout, q, k, v, lse, D, pad == nullptr ? nullptr : pad + (bh / H) * Tk, bh,
                                        (blk % queryTiles) * ATTENTION_OWN, Tq, Tk, d, scale);
    }
}
