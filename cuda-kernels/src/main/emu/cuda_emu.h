// cuda_emu.h — the CUDA built-ins for g++: the kernel side of the MLIP CUDA emulator (DESIGN.md section 6).
//
// common.cuh includes this header when the compiler is not nvcc, so the same kernel sources compile as
// plain C++17 and run on the emulator's runtime (emu_runtime.cpp): the threads of a block are fibers on
// the calling OS thread, blocks run one after another in blockIdx order, __syncthreads and the warp
// operations are real rendezvous between those fibers, and a barrier or warp operation that can never
// complete is a launch error naming the kernel, block and threads, never a hang.
//
// What the emulator CANNOT show — measure or test these on a GPU:
//   - timing: it says nothing about speed (its own cost is ~0.3 us per switch between threads, mostly the
//     signal-mask system call in swapcontext: a 256-thread block with 10 barriers takes ~1 ms);
//   - memory coalescing, caches, shared-memory bank conflicts, occupancy, register pressure (beyond the
//     ptxas limits table checked at launch);
//   - true concurrency: a thread runs alone until it finishes or waits at a barrier / warp operation,
//     so a race shows up only as two threads writing one shared byte between the same two barriers, or
//     as results that differ between the two schedules the race checker runs (ascending and descending
//     thread/block order); a race that changes nothing under those two schedules, or a write of the
//     value already there, goes unseen;
//   - a memory model weaker than sequential consistency: every store is visible at once to every later
//     load of every thread, so a missing __threadfence or volatile is invisible;
//   - a kernel that spins waiting for another thread or block to write memory hangs here (only one
//     thread runs at a time); barriers and warp operations never do.
// Deviations that are deliberate: memory from cuMemAlloc and shared memory start as 0xFF bytes (float/
// double NaN, int -1) so that reading before writing shows; a shuffle from a lane outside the mask gives
// the same 0xFF pattern; __activemask() is the lanes that exist and have not exited.
#pragma once

#include <math.h>  // libstdc++'s math.h also puts the float/double overloads (sqrt(float), ...) in ::
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <time.h>
#include <type_traits>

// ---- declaration specifiers ---------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __constant__
// Blocks run one at a time, so a static is per block. Every static __shared__ variable lives in the
// section emu_shared, which the runtime fills with 0xFF bytes at every block start (and diffs in race
// check mode); the linker's __start_emu_shared/__stop_emu_shared give its bounds. (g++ ignores the
// attribute inside templates; build-emu.sh moves those variables into the section after compiling.)
#define __shared__ static __attribute__((section("emu_shared")))
// Dynamic shared memory (the portable form of `extern __shared__ T name[]`, see common.cuh).
#define DYN_SHARED(T, name) T* name = reinterpret_cast<T*>(emu::dyn_shared())

// ---- vector types -------------------------------------------------------------------------------------
struct uint3 { unsigned x, y, z; };
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
// Alignments as in CUDA's vector_types.h: a float4 load is one 16-byte access there.
struct alignas(8) float2 { float x, y; };
struct float3 { float x, y, z; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) int2 { int x, y; };
struct int3 { int x, y, z; };
struct alignas(16) int4 { int x, y, z, w; };
struct alignas(8) uint2 { unsigned x, y; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(16) double2 { double x, y; };
static inline float2 make_float2(float x, float y) { return {x, y}; }
static inline float3 make_float3(float x, float y, float z) { return {x, y, z}; }
static inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
static inline int2 make_int2(int x, int y) { return {x, y}; }
static inline int3 make_int3(int x, int y, int z) { return {x, y, z}; }
static inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
static inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }
static inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return {x, y, z}; }
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }
static inline double2 make_double2(double x, double y) { return {x, y}; }

// ---- the runtime interface the built-ins call (implemented in emu_runtime.cpp) ----------------------------
namespace emu {

// What threadIdx & co. read: the current fiber's thread. Set by the scheduler before each switch.
// (Field names differ from the built-ins' because those are macros.)
struct ThreadCtx {
    uint3 tidx, bidx;
    dim3 bdim, gdim;
};
extern __thread const ThreadCtx* tls_cur;

// Warp operation kinds (one rendezvous implementation serves them all).
enum WarpOp { SHFL_IDX, SHFL_UP, SHFL_DOWN, SHFL_XOR, BALLOT, ANY, ALL, SYNCWARP,
              RED_ADD, RED_MIN, RED_MAX, RED_UMIN, RED_UMAX, RED_AND, RED_OR, RED_XOR };
// Block barrier kinds: plain, and the __syncthreads_count/and/or reductions.
enum BarOp { BAR_PLAIN, BAR_COUNT, BAR_AND, BAR_OR };

int block_barrier(int kind, int pred, const char* file, int line);
unsigned long long warp_op(int kind, unsigned mask, unsigned long long v, int arg, int width, const char* file,
                           int line);
unsigned active_mask();
void* dyn_shared();
[[noreturn]] void trap(const char* file, int line);
// Race check: float/double atomicAdd targets are compared with a tolerance (their order is free).
extern bool rc_fp_atomics;
void note_fp_atomic(const void* p, int bytes);

template <class T>
static inline unsigned long long to_bits(T v) {
    static_assert((sizeof(T) == 4 || sizeof(T) == 8) && std::is_trivially_copyable<T>::value,
                  "warp shuffles move 4- or 8-byte values");
    unsigned long long u = 0;
    std::memcpy(&u, &v, sizeof(T));
    return u;
}
template <class T>
static inline T from_bits(unsigned long long u) {
    T v;
    std::memcpy(&v, &u, sizeof(T));
    return v;
}

// A source site: the built-in macros below expand to Site{__FILE__, __LINE__}.op(args), so a barrier is
// identified by where it is written and error messages can say where threads wait.
struct Site {
    const char* file;
    int line;
    void syncthreads() const { block_barrier(BAR_PLAIN, 0, file, line); }
    int syncthreads_count(int p) const { return block_barrier(BAR_COUNT, p != 0, file, line); }
    int syncthreads_and(int p) const { return block_barrier(BAR_AND, p != 0, file, line); }
    int syncthreads_or(int p) const { return block_barrier(BAR_OR, p != 0, file, line); }
    void syncwarp(unsigned mask = 0xffffffffu) const { warp_op(SYNCWARP, mask, 0, 0, 32, file, line); }
    template <class T>
    T shfl(int kind, unsigned mask, T v, int arg, int width) const {
        return from_bits<T>(warp_op(kind, mask, to_bits(v), arg, width, file, line));
    }
    template <class T> T shfl_idx(unsigned m, T v, int src, int w = 32) const { return shfl(SHFL_IDX, m, v, src, w); }
    template <class T> T shfl_up(unsigned m, T v, unsigned d, int w = 32) const { return shfl(SHFL_UP, m, v, (int)d, w); }
    template <class T> T shfl_down(unsigned m, T v, unsigned d, int w = 32) const { return shfl(SHFL_DOWN, m, v, (int)d, w); }
    template <class T> T shfl_xor(unsigned m, T v, int lm, int w = 32) const { return shfl(SHFL_XOR, m, v, lm, w); }
    unsigned ballot(unsigned m, int p) const { return (unsigned)warp_op(BALLOT, m, p != 0, 0, 32, file, line); }
    int any(unsigned m, int p) const { return (int)warp_op(ANY, m, p != 0, 0, 32, file, line); }
    int all(unsigned m, int p) const { return (int)warp_op(ALL, m, p != 0, 0, 32, file, line); }
    unsigned reduce(int kind, unsigned m, unsigned v) const { return (unsigned)warp_op(kind, m, v, 0, 32, file, line); }
    [[noreturn]] void trap() const { emu::trap(file, line); }
};

}  // namespace emu

// ---- thread geometry -----------------------------------------------------------------------------------
#define threadIdx (emu::tls_cur->tidx)
#define blockIdx (emu::tls_cur->bidx)
#define blockDim (emu::tls_cur->bdim)
#define gridDim (emu::tls_cur->gdim)
constexpr int warpSize = 32;

// ---- synchronisation: barriers are identified by file:line ------------------------------------------------
#define EMU_SITE (emu::Site{__FILE__, __LINE__})
#define __syncthreads() EMU_SITE.syncthreads()
#define __syncthreads_count(p) EMU_SITE.syncthreads_count(p)
#define __syncthreads_and(p) EMU_SITE.syncthreads_and(p)
#define __syncthreads_or(p) EMU_SITE.syncthreads_or(p)
#define __syncwarp(...) EMU_SITE.syncwarp(__VA_ARGS__)
#define __shfl_sync(...) EMU_SITE.shfl_idx(__VA_ARGS__)
#define __shfl_up_sync(...) EMU_SITE.shfl_up(__VA_ARGS__)
#define __shfl_down_sync(...) EMU_SITE.shfl_down(__VA_ARGS__)
#define __shfl_xor_sync(...) EMU_SITE.shfl_xor(__VA_ARGS__)
#define __ballot_sync(m, p) EMU_SITE.ballot((m), (p))
#define __any_sync(m, p) EMU_SITE.any((m), (p))
#define __all_sync(m, p) EMU_SITE.all((m), (p))
#define __reduce_add_sync(m, v) EMU_SITE.reduce(emu::RED_ADD, (m), (unsigned)(v))
#define __reduce_and_sync(m, v) EMU_SITE.reduce(emu::RED_AND, (m), (unsigned)(v))
#define __reduce_or_sync(m, v) EMU_SITE.reduce(emu::RED_OR, (m), (unsigned)(v))
#define __reduce_xor_sync(m, v) EMU_SITE.reduce(emu::RED_XOR, (m), (unsigned)(v))
#define __trap() EMU_SITE.trap()
// __reduce_min/max_sync have signed and unsigned forms, chosen by the argument type.
static inline int emu_reduce_min(const emu::Site& s, unsigned m, int v) { return (int)s.reduce(emu::RED_MIN, m, (unsigned)v); }
static inline unsigned emu_reduce_min(const emu::Site& s, unsigned m, unsigned v) { return s.reduce(emu::RED_UMIN, m, v); }
static inline int emu_reduce_max(const emu::Site& s, unsigned m, int v) { return (int)s.reduce(emu::RED_MAX, m, (unsigned)v); }
static inline unsigned emu_reduce_max(const emu::Site& s, unsigned m, unsigned v) { return s.reduce(emu::RED_UMAX, m, v); }
#define __reduce_min_sync(m, v) emu_reduce_min(EMU_SITE, (m), (v))
#define __reduce_max_sync(m, v) emu_reduce_max(EMU_SITE, (m), (v))
static inline unsigned __activemask() { return emu::active_mask(); }
// One thread runs at a time and sees every store at once: fences have nothing to order. They stay
// compiler barriers so that the code around them is not moved across.
static inline void __threadfence() { __asm__ __volatile__("" ::: "memory"); }
static inline void __threadfence_block() { __asm__ __volatile__("" ::: "memory"); }
static inline void __threadfence_system() { __asm__ __volatile__("" ::: "memory"); }

// ---- atomics: fibers are cooperative on one OS thread, so a plain read-modify-write is atomic ------------
#define EMU_ATOMIC(name, T, expr)                 \
    static inline T name(T* p, T v) {             \
        T old = *p;                               \
        *p = (expr);                              \
        return old;                               \
    }
EMU_ATOMIC(atomicAdd, int, old + v)
EMU_ATOMIC(atomicAdd, unsigned, old + v)
EMU_ATOMIC(atomicAdd, unsigned long long, old + v)
EMU_ATOMIC(atomicSub, int, old - v)
EMU_ATOMIC(atomicSub, unsigned, old - v)
EMU_ATOMIC(atomicMax, int, old > v ? old : v)
EMU_ATOMIC(atomicMax, unsigned, old > v ? old : v)
EMU_ATOMIC(atomicMax, long long, old > v ? old : v)
EMU_ATOMIC(atomicMax, unsigned long long, old > v ? old : v)
EMU_ATOMIC(atomicMin, int, old < v ? old : v)
EMU_ATOMIC(atomicMin, unsigned, old < v ? old : v)
EMU_ATOMIC(atomicMin, long long, old < v ? old : v)
EMU_ATOMIC(atomicMin, unsigned long long, old < v ? old : v)
EMU_ATOMIC(atomicAnd, int, old & v)
EMU_ATOMIC(atomicAnd, unsigned, old & v)
EMU_ATOMIC(atomicOr, int, old | v)
EMU_ATOMIC(atomicOr, unsigned, old | v)
EMU_ATOMIC(atomicXor, int, old ^ v)
EMU_ATOMIC(atomicXor, unsigned, old ^ v)
EMU_ATOMIC(atomicExch, int, v)
EMU_ATOMIC(atomicExch, unsigned, v)
EMU_ATOMIC(atomicExch, unsigned long long, v)
EMU_ATOMIC(atomicExch, float, v)
#undef EMU_ATOMIC
// Floating-point sums depend on the order of the additions, which is free on a GPU: the race checker
// compares their targets with a tolerance instead of bitwise.
static inline float atomicAdd(float* p, float v) {
    if (emu::rc_fp_atomics) emu::note_fp_atomic(p, 4);
    float old = *p;
    *p = old + v;
    return old;
}
static inline double atomicAdd(double* p, double v) {
    if (emu::rc_fp_atomics) emu::note_fp_atomic(p, 8);
    double old = *p;
    *p = old + v;
    return old;
}
static inline unsigned atomicInc(unsigned* p, unsigned v) {
    unsigned old = *p;
    *p = old >= v ? 0 : old + 1;
    return old;
}
static inline unsigned atomicDec(unsigned* p, unsigned v) {
    unsigned old = *p;
    *p = (old == 0 || old > v) ? v : old - 1;
    return old;
}
template <class T>
static inline T emu_atomic_cas(T* p, T cmp, T v) {
    T old = *p;
    if (old == cmp) *p = v;
    return old;
}
static inline int atomicCAS(int* p, int c, int v) { return emu_atomic_cas(p, c, v); }
static inline unsigned atomicCAS(unsigned* p, unsigned c, unsigned v) { return emu_atomic_cas(p, c, v); }
static inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long c, unsigned long long v) {
    return emu_atomic_cas(p, c, v);
}

// ---- bit reinterpretation and integer intrinsics ---------------------------------------------------------
static inline int __float_as_int(float f) { return emu::from_bits<int>(emu::to_bits(f)); }
static inline unsigned __float_as_uint(float f) { return emu::from_bits<unsigned>(emu::to_bits(f)); }
static inline float __int_as_float(int i) { return emu::from_bits<float>(emu::to_bits(i)); }
static inline float __uint_as_float(unsigned i) { return emu::from_bits<float>(emu::to_bits(i)); }
static inline long long __double_as_longlong(double d) { return emu::from_bits<long long>(emu::to_bits(d)); }
static inline double __longlong_as_double(long long i) { return emu::from_bits<double>(emu::to_bits(i)); }
static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
static inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
static inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
static inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
// 24-bit multiplies: the low 24 bits of each operand (sign-extended for __mul24), low 32 bits of the product.
static inline int __mul24(int a, int b) {
    long long sa = (int)((unsigned)a << 8) >> 8, sb = (int)((unsigned)b << 8) >> 8;
    return (int)(unsigned long long)(sa * sb);
}
static inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xffffffu) * (b & 0xffffffu); }
static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
static inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned __brev(unsigned x) {
    unsigned r = 0;
    for (int i = 0; i < 32; i++) r |= ((x >> i) & 1u) << (31 - i);
    return r;
}
template <class T>
static inline T __ldg(const T* p) { return *p; }
// A clock for kernels that time themselves: nanoseconds here, cycles on a GPU.
static inline long long clock64() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

// ---- math -----------------------------------------------------------------------------------------------
// The C functions (expf, sqrt, ...) and the C++ float/double overloads are in :: through <math.h>.
// The fast-math intrinsics are the accurate functions here (a GPU's __expf is less accurate).
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
// glibc's math.h already declares __expf, __sinf, ... (internal names it does not export), so these
// are macros onto the standard functions rather than functions of their own.
#define __expf expf
#define __exp10f exp10f
#define __logf logf
#define __log2f log2f
#define __log10f log10f
#define __sinf sinf
#define __cosf cosf
#define __tanf tanf
#define __powf powf
static inline float __fdividef(float a, float b) { return a / b; }
static inline float fdividef(float a, float b) { return a / b; }
static inline float __frcp_rn(float x) { return 1.0f / x; }
static inline float __fsqrt_rn(float x) { return sqrtf(x); }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline double __dadd_rn(double a, double b) { return a + b; }
static inline double __dsub_rn(double a, double b) { return a - b; }
static inline double __dmul_rn(double a, double b) { return a * b; }
static inline double __ddiv_rn(double a, double b) { return a / b; }
static inline double __drcp_rn(double x) { return 1.0 / x; }
static inline double __dsqrt_rn(double x) { return sqrt(x); }
static inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
// Clamp to [0, 1]; NaN gives 0 as on the GPU.
static inline float __saturatef(float x) { return x >= 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); }
// Conversions with an explicit rounding mode: _rn nearest-even, _rz toward zero.
static inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
static inline int __float2int_rz(float x) { return (int)x; }
static inline int __double2int_rn(double x) { return (int)nearbyint(x); }
static inline int __double2int_rz(double x) { return (int)x; }
static inline float __int2float_rn(int x) { return (float)x; }
static inline float __double2float_rn(double x) { return (float)x; }

// min/max: CUDA's overloads for equal argument types, plus its int/unsigned and float/double mixes.
#define EMU_MINMAX(T)                                          \
    static inline T min(T a, T b) { return a < b ? a : b; }   \
    static inline T max(T a, T b) { return a > b ? a : b; }
EMU_MINMAX(int)
EMU_MINMAX(unsigned)
EMU_MINMAX(long)
EMU_MINMAX(unsigned long)
EMU_MINMAX(long long)
EMU_MINMAX(unsigned long long)
#undef EMU_MINMAX
// Floating min/max are fminf/fmax: a NaN argument loses to the number, as on the GPU.
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline double min(double a, double b) { return fmin(a, b); }
static inline double max(double a, double b) { return fmax(a, b); }
static inline unsigned min(int a, unsigned b) { return min((unsigned)a, b); }
static inline unsigned min(unsigned a, int b) { return min(a, (unsigned)b); }
static inline unsigned max(int a, unsigned b) { return max((unsigned)a, b); }
static inline unsigned max(unsigned a, int b) { return max(a, (unsigned)b); }
static inline double min(float a, double b) { return fmin(a, b); }
static inline double min(double a, float b) { return fmin(a, b); }
static inline double max(float a, double b) { return fmax(a, b); }
static inline double max(double a, float b) { return fmax(a, b); }
