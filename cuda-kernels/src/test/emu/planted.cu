// planted.cu — kernels with deliberate synchronisation bugs, and correct twins, for the emulator's race
// harness (race_harness.cpp). Compiled into the harness only, never into libcuda.so.1. Each bug is one a
// GPU would show as wrong results or a hang some of the time; the emulator must report it every time.
#include "common.cuh"

// Missing __syncthreads: each thread reads its right neighbour's shared write, which only happened if
// the neighbour ran first. Caught by the two-order run (the result depends on the schedule).
extern "C" __global__ void planted_missing_sync_f32(float* out, const float* x, int n) {
    __shared__ float buf[256];
    int t = threadIdx.x;
    buf[t] = t < n ? x[t] : 0.0f;
    // __syncthreads();  <- the bug
    int r = t + 1 < (int)blockDim.x ? t + 1 : 0;
    if (t < n) out[t] = buf[r];
}

// Its correct twin.
extern "C" __global__ void planted_with_sync_f32(float* out, const float* x, int n) {
    __shared__ float buf2[256];
    int t = threadIdx.x;
    buf2[t] = t < n ? x[t] : 0.0f;
    __syncthreads();
    int r = t + 1 < (int)blockDim.x ? t + 1 : 0;
    if (t < n) out[t] = buf2[r];
}

// Two threads write one shared word between the same two barriers (a classic lost "last writer wins").
// Caught by the shared-memory diff even though both orders may give the same final value.
extern "C" __global__ void planted_shared_write_write_f32(float* out) {
    __shared__ float slot;
    __shared__ float other[64];
    int t = threadIdx.x;
    other[t] = 1.0f;
    if (t == 3 || t == 40) slot = 2.0f * t;  // threads 3 and 40: different warps, no barrier between
    __syncthreads();
    if (t == 0) out[0] = slot + other[5];
}

// Half the threads return before the barrier: the other half wait for ever on a GPU.
extern "C" __global__ void planted_early_return_f32(float* out, int n) {
    __shared__ float part[128];
    int t = threadIdx.x;
    if (t >= (int)blockDim.x / 2) return;  // the bug: these threads never reach __syncthreads
    part[t] = (float)t;
    __syncthreads();
    out[t] = part[(t + 1) % (blockDim.x / 2)];
}

// __syncthreads in both branches of a divergent if/else: two different barriers.
extern "C" __global__ void planted_divergent_barrier_f32(float* out) {
    int t = threadIdx.x;
    if (t % 2 == 0) {
        out[t] = 1.0f;
        __syncthreads();
    } else {
        out[t] = 2.0f;
        __syncthreads();
    }
}

// A full-mask shuffle after lanes 16-31 exited.
extern "C" __global__ void planted_shfl_exited_f32(float* out) {
    int lane = threadIdx.x & 31;
    if (lane >= 16) return;  // the bug: the mask below still names these lanes
    float v = __shfl_xor_sync(MLIP_FULL_MASK, (float)lane, 1);
    out[threadIdx.x] = v;
}

// A full-mask shuffle in a partial warp (blockDim.x = 48: warp 1 has lanes 0-15 only).
extern "C" __global__ void planted_partial_warp_f32(float* out) {
    float v = warp_sum((float)threadIdx.x);
    out[threadIdx.x] = v;
}

// Lanes that meet at a shuffle with different, overlapping masks.
extern "C" __global__ void planted_mask_mismatch_f32(float* out) {
    int lane = threadIdx.x & 31;
    unsigned mask = lane >= 24 ? 0xff000000u : MLIP_FULL_MASK;
    out[threadIdx.x] = __shfl_down_sync(mask, (float)lane, 1);
}

// Every block writes the same output word: blocks are unordered on a GPU.
extern "C" __global__ void planted_block_race_i32(int* out) {
    if (threadIdx.x == 0) out[0] = blockIdx.x;
}

// A write one element past the end of the output.
extern "C" __global__ void planted_out_of_bounds_f32(float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) out[i] = 1.0f;  // the bug: <= instead of <
}

// Correct warp-synchronous code: shuffles, a ballot and __syncwarp-ordered shared memory within a warp,
// then a block reduction through dynamic shared memory. Must pass the race check.
extern "C" __global__ void planted_correct_warps_f32(float* out, const float* x, int n) {
    DYN_SHARED(float, warp_part);
    __shared__ float scratch[8][32];
    int t = threadIdx.x, lane = t & 31, warp = t >> 5;
    float v = t < n ? x[t] : 0.0f;
    scratch[warp][lane] = v;
    __syncwarp();
    float mirrored = scratch[warp][31 - lane];  // ordered by __syncwarp: same warp
    __syncwarp();
    scratch[warp][lane] = mirrored;              // rewritten by the same lane after the warp sync
    float s = warp_sum(v);
    unsigned positive = __ballot_sync(MLIP_FULL_MASK, v > 0.0f);
    if (lane == 0) warp_part[warp] = s + 0.0f * (float)__popc(positive);
    __syncthreads();
    if (t == 0) {
        float total = 0.0f;
        for (int w = 0; w < (int)blockDim.x / 32; w++) total += warp_part[w];
        out[0] = total;
    }
}

// A template kernel body's __shared__ array must start every block as the 0xFF poison, like any other
// (g++ drops the section attribute in templates; build-emu.sh moves these variables back).
template <typename T>
static __device__ void planted_template_shared(unsigned* seen) {
    __shared__ T tmpl_buf[64];
    unsigned bits;
    memcpy(&bits, &tmpl_buf[threadIdx.x], sizeof bits);
    seen[blockIdx.x * blockDim.x + threadIdx.x] = bits;  // what this block found before writing
    __syncthreads();
    tmpl_buf[threadIdx.x] = (T)1;
}
extern "C" __global__ void planted_template_shared_f32(unsigned* seen) { planted_template_shared<float>(seen); }
