// topk_mask.cu — top-k masking by semantic integrity (MLIP): per image b, keep the k patches of x (B, N, D)
// with the highest scores (B, N) and gather their embeddings, fused: values (B, k, D) and I32 indices (B, k).
//
// Semantics are those of the CPU backend (tensor/.../cpu/Indexing.topkGather, Backend.topkGather): the kept
// SET is the first k of the total order "NaN first, then score descending, equal scores by index ascending"
// ("equal" is ==, so -0.0 and 0.0 tie); the indices are emitted in ASCENDING patch order and values row j
// is x row indices[j]. The backward scatters grad (B, k, D) back into zeros (B, N, D).
//
// Both selection versions work on the 32-bit order-preserving key of a score (topk_mask_key): NaN ->
// 0xffffffff (above +inf), -0.0 -> the key of +0.0, else the IEEE bits with the sign bit flipped for
// positives and all bits flipped for negatives, so unsigned key order == float order and ties are
// exactly the CPU's == ties. All kernels: block 256 (8 warps); x, scores, grad contiguous; B, N, k, D int.
//
// Versions (forward: grid B, one block per image)
//   topk_mask_kernel1_f32  bitonic sort of the (key, index) pairs of the row in shared memory, padded to
//       P = next power of two >= N (pads sort last), in the order key descending, index ascending; the
//       first k are flagged kept (flags in patch order), a block-wide exclusive prefix sum over the flag
//       counts of contiguous index chunks gives each kept patch its output slot (ascending patch order),
//       then each warp copies whole kept rows of x (float4 when D % 4 == 0 and x, values 16-byte aligned).
//       Work per row: (P/2) log2 P (log2 P + 1)/2 compare-exchanges, one __syncthreads per step (+ 5):
//       P = 256 -> 4608 compare-exchanges, 41 barriers. Shared memory: 8P + 4N bytes dynamic (N = 196:
//       2832 B) + 128 B static, so N <= 2048 under the default 48 KB.
//   topk_mask_kernel2_f32  (production) threshold select instead of a sort: the k-th largest key T is found
//       by a radix select, 4 passes of 8 bits from the top. Each pass builds a 256-bin histogram of the
//       next digit over the keys that match the digits fixed so far, without atomics: per group of 32
//       keys a warp takes one ballot of "is a candidate" (a group without one is skipped) and 8 ballots of
//       the digit bits, and lane l counts bins l + 32m with AND/NOT masks and __popc, into per-warp
//       histograms (8 x 256 words); a block scan over the bins in descending order picks the digit where
//       the running count reaches the remaining rank. Then a patch is kept when key > T, or key == T and
//       it is among the first (k - #(key > T)) ties by index: ONE block scan of the packed counts
//       (#gt | #eq << 16) per index chunk gives both prefix sums (hence N < 65536). Same emission and
//       gather as kernel1. Why it is faster: (1) O(N) work per pass, and after the first one or two passes
//       almost every group is skipped after one ballot: ~100-170 instructions per key in all, against
//       ~235 for the bitonic network at N = 196, which grows as log^2 P; (2) 19 barriers whatever N,
//       against log2 P (log2 P + 1)/2 + 5 (41 at N = 196, 60 at N = 1024); (3) 8.3 KB of static shared
//       memory, not 8P + 4N, so any N < 65536 and occupancy does not drop as N grows. Scores are re-read
//       from L1/L2 in each pass (6 reads of N floats), not from DRAM. At the paper shape both versions are
//       dominated by the 77 MB gather, so the selection is a few percent of either kernel's time (estimate:
//       no GPU measurement yet; the emulator's times say nothing about GPU speed).
//
// Backward (grid (B, ceil(N / 32)): a block owns 32 patch rows of one image, a warp one row at a time)
//   topk_mask_backward_kernel1_f32  each dx element is written exactly once, no atomics and no separate
//       zero-fill: for its row n a warp finds the slots j with indices[j] == n by k/32 ballots; no slot ->
//       0, one slot -> 0 + grad row j (float4 when D % 4 == 0 and aligned; "0 +" gives the CPU's +0.0
//       for a -0.0 gradient), repeated slots (possible through the public op, never from the forward) ->
//       the sum in slot order, as the CPU's serial loop. Out-of-range indices set *err (checked by the
//       blocks of the first row chunk) and match no row. The index scans re-read the image's k indices
//       from L1 once per row (k/32 ballots per row), not from DRAM. Shared memory: none.
//
// Traffic and work per call at the paper shape B = 128, N = 196, k = 98, D = 768 (f32):
//   forward:  reads scores 100 KB + kept rows 38.5 MB, writes values 38.5 MB + indices 50 KB:
//             77.2 MB (77,220,864 B); no floating-point flops. Selection (integer work): kernel1 590 K
//             compare-exchanges, ~6 M thread instructions; kernel2 ~2.5-4.5 M thread instructions.
//   backward: reads grad 38.5 MB + indices 50 KB, writes dx 77.1 MB: 115.7 MB (115,655,680 B); 9.6 M adds
//             (0 + grad).
#include "common.cuh"

#define TOPK_MASK_THREADS 256
#define TOPK_MASK_WARPS (TOPK_MASK_THREADS / 32)
#define TOPK_MASK_BWD_ROWS 32  // backward: patch rows per block

// Order-preserving key of a score: NaN highest, -0.0 == 0.0.
static __device__ __forceinline__ unsigned topk_mask_key(float s) {
    if (s != s) return 0xffffffffu;
    unsigned u = __float_as_uint(s == 0.0f ? 0.0f : s);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Exclusive prefix sum of v over the block in threadIdx order; total gets the block's sum. Every thread
// calls it; sums holds 32 words; two barriers (the second lets the caller reuse sums at once).
static __device__ __forceinline__ unsigned topk_mask_scan(unsigned v, unsigned* sums, unsigned& total) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    unsigned x = v;
    for (int o = 1; o < 32; o <<= 1) {
        unsigned y = __shfl_up_sync(MLIP_FULL_MASK, x, o);
        if (lane >= o) x += y;
    }
    if (lane == 31) sums[warp] = x;
    __syncthreads();
    unsigned before = 0;
    total = 0;
    for (int w = 0; w < nw; w++) {
        unsigned s = sums[w];
        if (w < warp) before += s;
        total += s;
    }
    __syncthreads();
    return before + x - v;
}

// Contiguous chunk [lo, hi) of the N patch indices owned by this thread (for the in-order scans).
static __device__ __forceinline__ void topk_mask_chunk(int N, int& lo, int& hi) {
    int chunk = (N + blockDim.x - 1) / blockDim.x;
    lo = min(N, (int)threadIdx.x * chunk);
    hi = min(N, lo + chunk);
}

// values (k, D) = rows ir[0..k) of x (N, D), a warp per row. ir was written by this block before a barrier.
static __device__ __forceinline__ void topk_mask_gather(float* values, const int* ir, const float* x, int k, int D) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    bool vec = (D & 3) == 0 && ((((unsigned long long)values) | ((unsigned long long)x)) & 15ull) == 0;
    for (int p = warp; p < k; p += nw) {
        const float* src = x + (long long)ir[p] * D;
        float* dst = values + (long long)p * D;
        if (vec) {
            const float4* s4 = reinterpret_cast<const float4*>(src);
            float4* d4 = reinterpret_cast<float4*>(dst);
            for (int c = lane; c < (D >> 2); c += 32) d4[c] = s4[c];
        } else {
            for (int c = lane; c < D; c += 32) dst[c] = src[c];
        }
    }
}

// ------------------------------------------------------------------------------------------------
// kernel1: bitonic sort of (key, index) in shared memory.

extern "C" __global__ void topk_mask_kernel1_f32(float* values, int* indices, const float* x, const float* scores, int B, int N,
                                                 int k, int D) {
    DYN_SHARED(unsigned, smem);  // key[P], idx[P], flag[N]
    __shared__ unsigned sums[32];
    int b = blockIdx.x;
    if (b >= B || k <= 0) return;  // the whole block leaves together
    int tid = threadIdx.x, bd = blockDim.x;
    int P = 1;
    while (P < N) P <<= 1;
    unsigned* key = smem;
    unsigned* idx = smem + P;
    unsigned* flag = smem + 2 * P;
    const float* sr = scores + (long long)b * N;
    for (int i = tid; i < P; i += bd) {
        key[i] = i < N ? topk_mask_key(sr[i]) : 0u;  // real keys are >= key(-inf) = 0x007fffff > 0: pads last
        idx[i] = (unsigned)i;
    }
    for (int i = tid; i < N; i += bd) flag[i] = 0u;
    __syncthreads();
    // Bitonic network over P/2 disjoint pairs per step; sub-sequences with (i & size) == 0 sort in the
    // "before" order (key descending, index ascending), the others reversed; the last stage is all "before".
    for (int size = 2; size <= P; size <<= 1) {
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            for (int t = tid; t < (P >> 1); t += bd) {
                int i = ((t & ~(stride - 1)) << 1) | (t & (stride - 1)), j = i + stride;
                unsigned ki = key[i], kj = key[j], ii = idx[i], ij = idx[j];
                bool jBefore = kj > ki || (kj == ki && ij < ii);
                if (jBefore == ((i & size) == 0)) {
                    key[i] = kj;
                    key[j] = ki;
                    idx[i] = ij;
                    idx[j] = ii;
                }
            }
            __syncthreads();
        }
    }
    for (int p = tid; p < k; p += bd) flag[idx[p]] = 1u;
    __syncthreads();
    int lo, hi;
    topk_mask_chunk(N, lo, hi);
    unsigned c = 0, total;
    for (int i = lo; i < hi; i++) c += flag[i];
    int pos = (int)topk_mask_scan(c, sums, total);
    int* ir = indices + (long long)b * k;
    for (int i = lo; i < hi; i++)
        if (flag[i]) ir[pos++] = i;
    __syncthreads();  // the block's index writes are visible to every warp of the gather
    topk_mask_gather(values + (long long)b * k * D, ir, x + (long long)b * N * D, k, D);
}

// ------------------------------------------------------------------------------------------------
// kernel2: radix select of the k-th largest key (4 x 8 bits, ballot histograms), then a threshold.

extern "C" __global__ void topk_mask_kernel2_f32(float* values, int* indices, const float* x, const float* scores, int B, int N,
                                                 int k, int D) {
    __shared__ unsigned hist[TOPK_MASK_WARPS][256];  // per-warp histograms: lane l owns bins l + 32m
    __shared__ unsigned sums[32];
    __shared__ unsigned pick[2];  // the digit chosen, the rank left inside it
    int b = blockIdx.x;
    if (b >= B || k <= 0) return;
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const float* sr = scores + (long long)b * N;
    unsigned prefix = 0u, mask = 0u, remaining = (unsigned)k;  // 1 <= remaining <= #keys matching prefix
    for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned cnt[8];
#pragma unroll
        for (int m = 0; m < 8; m++) cnt[m] = 0u;
        for (int base = warp * 32; base < N; base += TOPK_MASK_THREADS) {  // warp-uniform trip count
            int i = base + lane;
            unsigned kk = i < N ? topk_mask_key(sr[i]) : 0u;
            unsigned d = (kk >> shift) & 255u;
            unsigned low = __ballot_sync(MLIP_FULL_MASK, i < N && (kk & mask) == prefix);
            if (low == 0u) continue;  // warp-uniform: no candidate among these 32 keys (most groups after pass 1-2)
#pragma unroll
            for (int q = 0; q < 5; q++) {
                unsigned bq = __ballot_sync(MLIP_FULL_MASK, (d >> q) & 1u);
                low &= ((lane >> q) & 1) ? bq : ~bq;
            }
            unsigned b5 = __ballot_sync(MLIP_FULL_MASK, (d >> 5) & 1u);
            unsigned b6 = __ballot_sync(MLIP_FULL_MASK, (d >> 6) & 1u);
            unsigned b7 = __ballot_sync(MLIP_FULL_MASK, (d >> 7) & 1u);
#pragma unroll
            for (int m = 0; m < 8; m++) {
                unsigned hit = low & ((m & 1) ? b5 : ~b5) & ((m & 2) ? b6 : ~b6) & ((m & 4) ? b7 : ~b7);
                cnt[m] += (unsigned)__popc(hit);
            }
        }
#pragma unroll
        for (int m = 0; m < 8; m++) hist[warp][lane + 32 * m] = cnt[m];
        __syncthreads();
        unsigned h = 0u, total;
        if (tid < 256) {
            for (int w = 0; w < TOPK_MASK_WARPS; w++) h += hist[w][255 - tid];  // thread t: bin 255 - t (descending)
        }
        unsigned above = topk_mask_scan(h, sums, total);  // keys in higher bins
        if (tid < 256 && above < remaining && remaining <= above + h) {
            pick[0] = 255u - (unsigned)tid;
            pick[1] = remaining - above;
        }
        __syncthreads();
        prefix |= pick[0] << shift;
        mask |= 255u << shift;
        remaining = pick[1];
    }
    // prefix = T, the k-th largest key; keep every key > T and the first `remaining` keys == T by index.
    int lo, hi;
    topk_mask_chunk(N, lo, hi);
    unsigned gt = 0u, eq = 0u, total;
    for (int i = lo; i < hi; i++) {
        unsigned kk = topk_mask_key(sr[i]);
        gt += kk > prefix;
        eq += kk == prefix;
    }
    unsigned before = topk_mask_scan(gt | (eq << 16), sums, total);  // gt, eq <= N < 65536: no carry
    unsigned eqBefore = before >> 16;
    int pos = (int)((before & 0xffffu) + min(eqBefore, remaining));
    int* ir = indices + (long long)b * k;
    for (int i = lo; i < hi; i++) {
        unsigned kk = topk_mask_key(sr[i]);
        bool keep = kk > prefix;
        if (kk == prefix) keep = eqBefore++ < remaining;
        if (keep) ir[pos++] = i;
    }
    __syncthreads();
    topk_mask_gather(values + (long long)b * k * D, ir, x + (long long)b * N * D, k, D);
}

// ------------------------------------------------------------------------------------------------
// backward: dx (B, N, D), every element written once.

extern "C" __global__ void topk_mask_backward_kernel1_f32(float* dx, const float* grad, const int* indices, int B, int N, int k,
                                                          int D, int* err) {
    int b = blockIdx.x, r0 = blockIdx.y * TOPK_MASK_BWD_ROWS;
    if (b >= B || r0 >= N) return;
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, nw = blockDim.x >> 5;
    const int* ir = indices + (long long)b * k;
    const float* gb = grad + (long long)b * k * D;
    float* db = dx + (long long)b * N * D;
    if (blockIdx.y == 0) {
        for (int j = tid; j < k; j += blockDim.x) {
            int n = ir[j];
            if (n < 0 || n >= N) *err = (int)(1u + (unsigned)max(n, 0));
        }
    }
    bool vec = (D & 3) == 0 && ((((unsigned long long)dx) | ((unsigned long long)grad)) & 15ull) == 0;
    int rows = min(TOPK_MASK_BWD_ROWS, N - r0);
    for (int rr = warp; rr < rows; rr += nw) {  // warp-uniform
        int n = r0 + rr;
        int first = k, count = 0;
        for (int j0 = 0; j0 < k; j0 += 32) {
            int j = j0 + lane;
            unsigned m = __ballot_sync(MLIP_FULL_MASK, j < k && ir[j] == n);
            if (m != 0u && first == k) first = j0 + __ffs((int)m) - 1;
            count += __popc(m);
        }
        float* dst = db + (long long)n * D;
        if (count <= 1) {
            const float* src = gb + (long long)(count ? first : 0) * D;
            if (vec) {
                const float4* s4 = reinterpret_cast<const float4*>(src);
                float4* d4 = reinterpret_cast<float4*>(dst);
                for (int c = lane; c < (D >> 2); c += 32) {
                    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
                    if (count) {
                        float4 g = s4[c];
                        v.x += g.x;
                        v.y += g.y;
                        v.z += g.z;
                        v.w += g.w;
                    }
                    d4[c] = v;
                }
            } else {
                for (int c = lane; c < D; c += 32) dst[c] = count ? 0.0f + src[c] : 0.0f;
            }
        } else {  // repeated slots: sum them in slot order
            for (int c0 = 0; c0 < D; c0 += 32) {  // warp-uniform
                int c = c0 + lane;
                float acc = 0.0f;
                for (int j0 = first & ~31; j0 < k; j0 += 32) {
                    int j = j0 + lane;
                    unsigned m = __ballot_sync(MLIP_FULL_MASK, j < k && ir[j] == n);
                    while (m != 0u) {
                        int bit = __ffs((int)m) - 1;
                        m &= m - 1u;
                        if (c < D) acc += gb[(long long)(j0 + bit) * D + c];
                    }
                }
                if (c < D) dst[c] = acc;
            }
        }
    }
}
