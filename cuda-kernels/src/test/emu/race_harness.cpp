// race_harness.cpp — the CUDA emulator's own test (build-emu.sh --check): one line per check, exit status 1
// when any fails. Uses the runtime's C++ API directly (no Java, no driver).
//
// (a) planted bugs (planted.cu): each must be reported — a missing __syncthreads, a shared write-write,
//     an early return before a barrier, barriers in both branches of an if/else, a shuffle naming exited
//     lanes, a full mask in a partial warp, mismatched masks, blocks racing on one word, an out-of-bounds
//     write — and their correct twins must pass;
// (b) race check of the production kernels that use shared memory, warp shuffles or atomics, on small
//     random inputs whose sizes do not divide the tile / warp / block sizes: both schedules must agree,
//     no shared byte may have two writers between barriers, and every output element must be written.
//     Correctness against the CPU backend is the Java conformance suite's job.
#include "emu_runtime.h"

#include "planted.cu"

#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

int failures, checks;
std::mt19937 rng(20240611);
std::vector<void*> buffers;  // device buffers of the current check

void line(bool ok, const std::string& what, const std::string& detail) {
    checks++;
    if (!ok) failures++;
    printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what.c_str(), detail.empty() ? "" : ": ", detail.c_str());
    fflush(stdout);
}

void free_buffers() {
    for (void* p : buffers) emu::dev_free(p);
    buffers.clear();
}

// Device buffers: uninitialised (0xFF bytes, as the emulator's cuMemAlloc), filled, or random.
template <class T>
T* dev(size_t n) {
    T* p = static_cast<T*>(emu::dev_alloc(n * sizeof(T)));
    buffers.push_back(p);
    return p;
}
template <class T>
T* dev_fill(size_t n, T v) {
    T* p = dev<T>(n);
    for (size_t i = 0; i < n; i++) p[i] = v;
    return p;
}
// Values from a small set of levels, so that ties (argmax, top-k) happen; ints in [lo, hi].
template <class T>
T* dev_rand(size_t n, double lo, double hi, int levels = 0) {
    T* p = dev<T>(n);
    std::uniform_real_distribution<double> u(lo, hi);
    std::uniform_int_distribution<int> ui((int)lo, (int)hi), ul(0, levels > 0 ? levels - 1 : 0);
    for (size_t i = 0; i < n; i++) {
        if (std::is_integral<T>::value) p[i] = (T)ui(rng);
        else p[i] = levels > 0 ? (T)(lo + (hi - lo) * ul(rng) / (levels - 1)) : (T)u(rng);
    }
    return p;
}

Layout contiguous(std::vector<int> shape) {
    Layout l{};
    l.rank = (int)shape.size();
    int s = 1;
    for (int d = l.rank - 1; d >= 0; d--) l.shape[d] = shape[d], l.stride[d] = s, s *= shape[d];
    return l;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string geometry(dim3 g, dim3 b) {
    char s[96];
    snprintf(s, sizeof s, "grid (%u,%u,%u) block (%u,%u,%u)", g.x, g.y, g.z, b.x, b.y, b.z);
    return s;
}

// ---------------------------------------------------------------- (a) planted bugs

// The launch must fail, and the message must contain `expect`.
void planted(const std::string& what, bool racecheck, const char* expect, int (*run)()) {
    emu::set_racecheck(racecheck);
    auto t0 = std::chrono::steady_clock::now();
    int r = run();
    double ms = ms_since(t0);
    std::string msg = emu::last_error();
    bool ok = r != emu::OK && msg.find(expect) != std::string::npos;
    char t[32];
    snprintf(t, sizeof t, " (%.1f ms)", ms);
    line(ok, "planted " + what + t, r == emu::OK ? "NOT REPORTED" : "reported: " + msg);
    free_buffers();
}

// The launch must succeed under the race check.
void clean(const std::string& what, int (*run)()) {
    emu::set_racecheck(true);
    int r = run();
    line(r == emu::OK, "clean   " + what, r == emu::OK ? "" : emu::last_error());
    free_buffers();
}

void planted_bugs() {
    planted("missing __syncthreads (neighbour's shared write)", true, "depends on the thread order", [] {
        return EMU_LAUNCH(planted_missing_sync_f32, dim3(1), dim3(96), 0, dev<float>(96), dev_rand<float>(96, -1, 1), 96);
    });
    clean("same kernel with the __syncthreads", [] {
        return EMU_LAUNCH(planted_with_sync_f32, dim3(1), dim3(96), 0, dev<float>(96), dev_rand<float>(96, -1, 1), 96);
    });
    planted("two threads write one shared word between barriers", true, "shared-memory race", [] {
        return EMU_LAUNCH(planted_shared_write_write_f32, dim3(1), dim3(64), 0, dev<float>(1));
    });
    planted("half the threads return before __syncthreads", false, "divergent __syncthreads", [] {
        return EMU_LAUNCH(planted_early_return_f32, dim3(2), dim3(128), 0, dev<float>(128), 128);
    });
    planted("__syncthreads in both branches of an if/else", false, "different __syncthreads", [] {
        return EMU_LAUNCH(planted_divergent_barrier_f32, dim3(1), dim3(64), 0, dev<float>(64));
    });
    planted("__shfl_xor_sync after lanes 16-31 exited", false, "lanes 16-31 exited", [] {
        return EMU_LAUNCH(planted_shfl_exited_f32, dim3(1), dim3(64), 0, dev<float>(64));
    });
    planted("full-mask shuffle in a partial warp (48 threads)", false, "do not exist", [] {
        return EMU_LAUNCH(planted_partial_warp_f32, dim3(1), dim3(48), 0, dev<float>(48));
    });
    planted("lanes meet at a shuffle with different masks", false, "with mask", [] {
        return EMU_LAUNCH(planted_mask_mismatch_f32, dim3(1), dim3(32), 0, dev<float>(32));
    });
    planted("every block writes one global word", true, "depends on the thread order", [] {
        return EMU_LAUNCH(planted_block_race_i32, dim3(5), dim3(32), 0, dev<int>(1));
    });
    planted("write one element past the end", true, "out-of-bounds write", [] {
        return EMU_LAUNCH(planted_out_of_bounds_f32, dim3(1), dim3(128), 0, dev<float>(100), 100);
    });
    clean("template __shared__ array poisoned at every block start", [] {
        unsigned* seen = dev<unsigned>(3 * 64);
        int r = EMU_LAUNCH(planted_template_shared_f32, dim3(3), dim3(64), 0, seen);
        for (int i = 0; r == emu::OK && i < 3 * 64; i++)
            if (seen[i] != 0xffffffffu) return emu::fail(emu::ERR_LAUNCH_FAILED, "thread " + std::to_string(i) + " saw " +
                                                             std::to_string(seen[i]) + ", not the poison pattern");
        return r;
    });
    clean("shuffles, ballot, __syncwarp-ordered and dynamic shared memory", [] {
        return EMU_LAUNCH(planted_correct_warps_f32, dim3(1), dim3(256), 8 * sizeof(float), dev<float>(1),
                          dev_rand<float>(250, -1, 1), 250);
    });
}

// ---------------------------------------------------------------- (b) production kernels

// An output to check for unwritten elements (still the 0xFF poison pattern).
struct Out {
    const void* p;
    size_t n;
    int bytes;  // element size: 4 or 8
};

size_t unwritten(const Out& o) {
    size_t k = 0;
    for (size_t i = 0; i < o.n; i++) {
        const unsigned char* e = static_cast<const unsigned char*>(o.p) + i * o.bytes;
        bool poison = true;
        for (int j = 0; j < o.bytes; j++) poison &= e[j] == 0xFF;
        k += poison;
    }
    return k;
}

// As race() below, with `shared` bytes of dynamic shared memory.
template <class... A>
void race_smem(const std::string& label, const std::string& name, dim3 g, dim3 b, int shared, std::vector<Out> outs, A... args) {
    if (!emu::find_kernel(name.c_str())) {
        line(false, "race    " + name, "kernel missing (KERNELS.md lists it; is its .cu file there?)");
        free_buffers();
        return;
    }
    emu::set_racecheck(true);
    auto t0 = std::chrono::steady_clock::now();
    int r = emu::launch(name.c_str(), g, b, shared, args...);
    double ms = ms_since(t0);
    std::string detail = r == emu::OK ? "" : emu::last_error();
    for (size_t i = 0; r == emu::OK && i < outs.size(); i++) {
        if (size_t k = unwritten(outs[i]))
            detail = "output " + std::to_string(i) + ": " + std::to_string(k) + " of " + std::to_string(outs[i].n) +
                     " elements never written";
    }
    char t[48];
    snprintf(t, sizeof t, " (%.1f ms)", ms);
    line(detail.empty(), "race    " + name + " " + label + " " + geometry(g, b) + t, detail);
    free_buffers();
}

template <class... A>
void race(const std::string& label, const std::string& name, dim3 g, dim3 b, std::vector<Out> outs, A... args) {
    race_smem(label, name, g, b, 0, outs, args...);
}

unsigned cdiv(int a, int b) { return (unsigned)((a + b - 1) / b); }

template <class T>
const char* sfx() {
    return std::is_same<T, float>::value ? "_f32" : std::is_same<T, double>::value ? "_f64" : "_i32";
}
template <class T>
int fp() {  // element size for the unwritten check; 0 for ints (-1 may be a real value)
    return std::is_integral<T>::value ? 0 : (int)sizeof(T);
}
template <class T>
Out out(T* p, size_t n) {
    return Out{p, fp<T>() ? n : 0, fp<T>()};
}

template <class T>
void reduce_family() {
    int outer = 3, R = 77, inner = 5, nout = outer * inner;
    for (int op = 0; op < 4; op++) {
        T* o = dev<T>(nout);
        race("op=" + std::to_string(op) + " outer=3 R=77 inner=5", std::string("reduce_kernel2") + sfx<T>(),
             dim3(cdiv(nout, 8)), dim3(256), {out(o, nout)}, o, dev_rand<T>(outer * R * inner, -4, 4, 9), outer, R, inner, op);
    }
    for (int isMax = 0; isMax < 2; isMax++) {
        int* o = dev<int>(nout);
        race("isMax=" + std::to_string(isMax) + " outer=3 R=77 inner=5 (ties)", std::string("argreduce_kernel1") + sfx<T>(),
             dim3(cdiv(nout, 8)), dim3(256), {Out{o, (size_t)nout, 4}}, o, dev_rand<T>(outer * R * inner, -4, 4, 5),
             outer, R, inner, isMax);
    }
}

template <class T>
void softmax_family() {
    for (int C : {3, 45}) {
        for (int log = 0; log < 2; log++) {
            int rows = 19;
            T* o = dev<T>(rows * C);
            race("rows=19 C=" + std::to_string(C) + " log=" + std::to_string(log), std::string("softmax_forward_kernel2") + sfx<T>(),
                 dim3(cdiv(rows, 8)), dim3(256), {out(o, rows * C)}, o, dev_rand<T>(rows * C, -3, 3), rows, C, log);
        }
    }
}

template <class T>
void layernorm_family() {
    int N = 13, C = 45;
    for (int affine = 0; affine < 2; affine++) {
        T *o = dev<T>(N * C), *mean = dev<T>(N), *rstd = dev<T>(N);
        T* w = affine ? dev_rand<T>(C, 0.5, 1.5) : nullptr;
        T* b = affine ? dev_rand<T>(C, -1, 1) : nullptr;
        race("N=13 C=45 affine=" + std::to_string(affine), std::string("layernorm_forward_kernel2") + sfx<T>(),
             dim3(cdiv(N, 8)), dim3(256), {out(o, N * C), out(mean, N), out(rstd, N)}, o, mean, rstd,
             (const T*)dev_rand<T>(N * C, -2, 2), (const T*)w, (const T*)b, N, C, 1e-5);
    }
    for (int affine = 0; affine < 2; affine++) {
        T* dx = dev<T>(N * C);
        T* dw = affine ? dev_fill<T>(C, 0) : nullptr;  // accumulated with atomics: the caller zeroes
        T* db = affine ? dev_fill<T>(C, 0) : nullptr;
        T* w = affine ? dev_rand<T>(C, 0.5, 1.5) : nullptr;
        race("N=13 C=45 affine=" + std::to_string(affine) + " (atomics)", std::string("layernorm_backward_kernel2") + sfx<T>(),
             dim3(cdiv(N, 8)), dim3(256), {out(dx, N * C)}, dx, dw, db, (const T*)dev_rand<T>(N * C, -1, 1),
             (const T*)dev_rand<T>(N * C, -2, 2), (const T*)w, (const T*)dev_rand<T>(N, -0.5, 0.5),
             (const T*)dev_rand<T>(N, 0.5, 2), N, C);
    }
}

// add_layernorm_forward_kernel1 (f32 only): C below, at and past the 768 columns it keeps in registers.
void add_layernorm_family() {
    int N = 13;
    for (int C : {45, 768, 801}) {
        for (int affine = 0; affine < 2; affine++) {
            float *sum = dev<float>(N * C), *o = dev<float>(N * C), *mean = dev<float>(N), *rstd = dev<float>(N);
            float* w = affine ? dev_rand<float>(C, 0.5, 1.5) : nullptr;
            float* b = affine ? dev_rand<float>(C, -1, 1) : nullptr;
            race("N=13 C=" + std::to_string(C) + " affine=" + std::to_string(affine), "add_layernorm_forward_kernel1_f32",
                 dim3(cdiv(N, 8)), dim3(256), {out(sum, N * C), out(o, N * C), out(mean, N), out(rstd, N)}, sum, o, mean, rstd,
                 (const float*)dev_rand<float>(N * C, -2, 2), (const float*)dev_rand<float>(N * C, -2, 2), (const float*)w,
                 (const float*)b, N, C, 1e-5);
        }
    }
}

template <class T>
void crossentropy_family() {
    int N = 13, C = 45, ignore = -100;
    auto targets = [&] {  // a fresh buffer per check: race() frees the check's buffers
        int* t = dev_rand<int>(N, 0, C - 1);
        t[4] = ignore;  // an ignored row
        return (const int*)t;
    };
    for (double smoothing : {0.0, 0.1}) {
        std::string label = "N=13 C=45 smoothing=" + std::to_string(smoothing).substr(0, 3);
        T* loss = dev<T>(N);
        race(label, std::string("crossentropy_forward_kernel1") + sfx<T>(), dim3(cdiv(N, 8)), dim3(256), {out(loss, N)},
             loss, (const T*)dev_rand<T>(N * C, -3, 3), targets(), N, C, ignore, smoothing, dev_fill<int>(1, 0));
        T* dl = dev<T>(N * C);
        race(label, std::string("crossentropy_backward_kernel1") + sfx<T>(), dim3(cdiv(N, 8)), dim3(256), {out(dl, N * C)},
             dl, (const T*)dev_rand<T>(N * C, -3, 3), targets(), (const T*)dev_rand<T>(N, 0.5, 1.5), N, C, ignore, smoothing);
    }
}

// C (batch, M, N) = A (M, K) @ B (K, N): A row-major, B given as its transpose's storage (strides 1, K).
template <class T>
void gemm_case(const std::string& name, int M, int N, int K, int tile, dim3 block) {
    int batch = 2;
    T* C = dev<T>(batch * M * N);
    T* A = dev_rand<T>(batch * M * K, -1, 1);
    T* B = dev_rand<T>(batch * K * N, -1, 1);
    int* aOff = dev<int>(batch);
    int* bOff = dev<int>(batch);
    for (int z = 0; z < batch; z++) aOff[z] = z * M * K, bOff[z] = z * K * N;
    race("M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) + " batch=2 B transposed",
         name, dim3(cdiv(N, tile), cdiv(M, tile), batch), block, {out(C, batch * M * N)}, C, (const T*)A, (const T*)B,
         M, N, K, K, 1, 1, K, (const int*)aOff, (const int*)bOff);
}

template <class T>
void topk_family() {
    int rows = 5, C = 300, k = 7;
    for (int largest = 0; largest < 2; largest++) {
        T* v = dev<T>(rows * k);
        int* idx = dev<int>(rows * k);
        T* x = dev_rand<T>(rows * C, -5, 5, 11);  // 11 levels: many ties
        if (!std::is_integral<T>::value) x[17] = (T)NAN, x[C + 3] = (T)NAN;
        race("rows=5 C=300 k=7 largest=" + std::to_string(largest) + " (ties, NaN)", std::string("topk_kernel1") + sfx<T>(),
             dim3(rows), dim3(256), {out(v, rows * k), Out{idx, (size_t)rows * k, 4}}, v, idx, (const T*)x, rows, C, k, largest);
    }
}

template <class T>
void scatter_add_case() {
    Layout lo = contiguous({6, 10}), li = contiguous({6, 4});
    T* o = dev_rand<T>(60, -2, 2);
    int* index = dev_rand<int>(24, 0, 9);
    race("out (6,10) index (6,4) dim=1 (atomics)", std::string("scatter_add_kernel1") + sfx<T>(), dim3(1), dim3(256),
         {out(o, 60)}, o, lo, (const int*)index, li, (const T*)dev_rand<T>(24, -2, 2), li, 24, 1, dev_fill<int>(1, 0));
}

// patch_sentence_ot.cu: B1=3 images x B2=5 reports, N=13, M=5, D=37 (a partial D tile), a masked patch
// and a 1-sentence report; both forward versions (v2 with 2 reports per block: a partial last group) and
// both backward kernels, whose blocks each own one image's / report's gradient rows.
void ot_family() {
    int b1 = 3, b2 = 5, n = 13, m = 5, d = 37, iters = 7;
    float eps = 0.1f;
    auto inputs = [&](float*& p, float*& pm, float*& s, float*& sm) {
        p = dev_rand<float>(b1 * n * d, -1, 1);
        s = dev_rand<float>(b2 * m * d, -1, 1);
        pm = dev_fill<float>(b1 * n, 1.0f);
        sm = dev_fill<float>(b2 * m, 1.0f);
        pm[4] = 0.0f;
        for (int q = 1; q < m; q++) sm[2 * m + q] = 0.0f;
    };
    float *p, *pm, *s, *sm;
    for (int v = 1; v <= 2; v++) {
        inputs(p, pm, s, sm);
        float *sc = dev<float>(b1 * b2), *u = dev<float>(b1 * b2 * n), *vv = dev<float>(b1 * b2 * m);
        int g = 2, shared = v == 1 ? 4 * (2 * n * m + n + m + 4) : 4 * (n * 32 + g * (m * 32 + 2 * n * m + n + m));
        race_smem("B1=3 B2=5 N=13 M=5 D=37", "patch_sentence_ot_kernel" + std::to_string(v) + "_f32",
                  dim3(v == 1 ? b1 * b2 : b1 * cdiv(b2, g)), dim3(v == 1 ? 128 : 32 * g), shared,
                  {out(sc, b1 * b2), out(u, b1 * b2 * n), out(vv, b1 * b2 * m)}, sc, u, vv, (const float*)p, (const float*)pm,
                  (const float*)s, (const float*)sm, b1, b2, n, m, d, eps, iters);
    }
    for (int side = 0; side < 2; side++) {
        inputs(p, pm, s, sm);
        float* grad = dev<float>(side == 0 ? b1 * n * d : b2 * m * d);
        const float *g = dev_rand<float>(b1 * b2, -1, 1), *u = dev_rand<float>(b1 * b2 * n, 0, 1), *vv = dev_rand<float>(b1 * b2 * m, 0, 1);
        race_smem("B1=3 B2=5 N=13 M=5 D=37", side == 0 ? "patch_sentence_ot_backward_patches_kernel1_f32" : "patch_sentence_ot_backward_sentences_kernel1_f32",
                  dim3(side == 0 ? b1 : b2), dim3(128), 4 * n * m, {out(grad, side == 0 ? b1 * n * d : b2 * m * d)}, grad, g, u, vv,
                  (const float*)p, (const float*)pm, (const float*)s, (const float*)sm, b1, b2, n, m, d, eps);
    }
}

// topk_mask.cu: both selection versions (kernel1 with its dynamic shared memory) on rows with ties, a NaN
// and a -0.0/0.0 tie; N = 37 (not a power of two, D = 19: scalar gather) and N = 300 (more keys than threads,
// D = 8: float4 gather); k = 9, k = N. The backward with distinct indices (as the forward emits) and with
// repeats (the serial-sum path).
void topk_mask_family() {
    struct Shape { int B, N, k, D; };
    for (Shape s : {Shape{3, 37, 9, 19}, Shape{2, 300, 151, 8}, Shape{2, 37, 37, 4}}) {
        for (int v = 1; v <= 2; v++) {
            int P = 1;
            while (P < s.N) P <<= 1;
            float* sc = dev_rand<float>(s.B * s.N, -2, 2, 9);  // 9 levels: ties
            sc[5] = NAN, sc[6] = -0.0f, sc[s.N + 1] = 0.0f;
            float* vals = dev<float>(s.B * s.k * s.D);
            int* idx = dev<int>(s.B * s.k);
            race_smem("B=" + std::to_string(s.B) + " N=" + std::to_string(s.N) + " k=" + std::to_string(s.k) + " D=" +
                          std::to_string(s.D) + " (ties, NaN, -0)",
                      "topk_mask_kernel" + std::to_string(v) + "_f32", dim3(s.B), dim3(256), v == 1 ? 4 * (2 * P + s.N) : 0,
                      {out(vals, s.B * s.k * s.D), Out{idx, (size_t)s.B * s.k, 4}}, vals, idx,
                      (const float*)dev_rand<float>(s.B * s.N * s.D, -1, 1), (const float*)sc, s.B, s.N, s.k, s.D);
        }
    }
    for (int repeats = 0; repeats < 2; repeats++) {
        for (int D : {19, 8}) {
            int B = 3, N = 70, k = 9;
            int* idx = dev<int>(B * k);
            for (int b = 0; b < B; b++)
                for (int j = 0; j < k; j++) idx[b * k + j] = repeats ? (j * 7 + b) % 5 * 13 : j * 7 + b;  // rows in 3 chunks
            float* dx = dev<float>(B * N * D);
            race("B=3 N=70 k=9 D=" + std::to_string(D) + (repeats ? " (repeated indices)" : " (distinct indices)"),
                 "topk_mask_backward_kernel1_f32", dim3(B, cdiv(N, 32)), dim3(256), {out(dx, B * N * D)}, dx,
                 (const float*)dev_rand<float>(B * k * D, -1, 1), (const int*)idx, B, N, k, D, dev_fill<int>(1, 0));
        }
    }
}

// attention.cu: d=40 (a second, partial column slot per lane); B=2 H=2, Tq=37 queries (a partial 32-query
// tile) against Tk=21 keys (Tq != Tk, a partial key tile) with keys 3 and 20 of batch 0 padded, then B=1 H=1
// Tq=Tk=33 without a mask. Both forward versions, the preprocess, and the backward's two block kinds in one launch
// (dk/dv blocks own 32 keys, dq blocks 32 queries; each writes its rows alone).
void attention_family() {
    struct Shape { int B, H, tq, tk; bool padded; };
    for (Shape s : {Shape{2, 2, 37, 21, true}, Shape{1, 1, 33, 33, false}}) {
        int B = s.B, H = s.H, d = 40, bh = B * H, tq = s.tq, tk = s.tk, shared = 4 * 96 * d;
        float scale = 1.0f / std::sqrt((float)d);
        auto pad = [&]() -> const int* {
            if (!s.padded) return nullptr;
            int* p = dev_fill<int>(B * tk, 0);
            p[3] = 1, p[20] = 1;
            return p;
        };
        auto in = [&](int rows) { return (const float*)dev_rand<float>((size_t)bh * rows * d, -1, 1); };
        std::string label = "B=" + std::to_string(B) + " H=" + std::to_string(H) + " Tq=" + std::to_string(tq) + " Tk=" + std::to_string(tk) + " d=40" + (s.padded ? " (padded keys)" : "");
        for (int v = 1; v <= 2; v++) {
            float *o = dev<float>(bh * tq * d), *lse = dev<float>(bh * tq);
            race_smem(label, "attention_forward_kernel" + std::to_string(v) + "_f32",
                      dim3(v == 1 ? cdiv(bh * tq, 128) : bh * cdiv(tq, 32)), dim3(128), v == 1 ? 0 : shared,
                      {out(o, bh * tq * d), out(lse, bh * tq)}, o, lse, in(tq), in(tk), in(tk), pad(), B, H, tq, tk, d, scale);
        }
        float* D = dev<float>(bh * tq);
        race(label, "attention_backward_preprocess_kernel1_f32", dim3(cdiv(bh * tq, 8)), dim3(256), {out(D, bh * tq)}, D, in(tq),
             in(tq), bh * tq, d);
        float *dq = dev<float>(bh * tq * d), *dk = dev<float>(bh * tk * d), *dv = dev<float>(bh * tk * d);
        race_smem(label, "attention_backward_kernel1_f32", dim3(bh * (cdiv(tk, 32) + cdiv(tq, 32))), dim3(128), shared,
                  {out(dq, bh * tq * d), out(dk, bh * tk * d), out(dv, bh * tk * d)}, dq, dk, dv, in(tq), in(tq), in(tk), in(tk),
                  (const float*)dev_rand<float>(bh * tq, 1, 3), (const float*)dev_rand<float>(bh * tq, -1, 1), pad(), B, H, tq, tk,
                  d, scale);
    }
}

void production_kernels() {
    reduce_family<float>();
    reduce_family<double>();
    reduce_family<int>();
    softmax_family<float>();
    softmax_family<double>();
    layernorm_family<float>();
    layernorm_family<double>();
    add_layernorm_family();
    crossentropy_family<float>();
    crossentropy_family<double>();
    gemm_case<float>("sgemm_kernel2_f32", 37, 29, 23, 16, dim3(16, 16));
    gemm_case<double>("gemm_kernel2_f64", 37, 29, 23, 16, dim3(16, 16));
    gemm_case<float>("sgemm_kernel3_f32", 70, 67, 19, 64, dim3(256));
    topk_family<float>();
    topk_family<double>();
    topk_family<int>();
    ot_family();
    attention_family();
    scatter_add_case<float>();
    scatter_add_case<double>();
    scatter_add_case<int>();
    topk_mask_family();
    {
        int N = 40, D = 19, V = 7;  // 40 rows onto 7 embeddings: many atomic collisions
        float* dw = dev_fill<float>(V * D, 0.0f);
        race("N=40 D=19 V=7 (atomics)", "embedding_backward_kernel1_f32", dim3(cdiv(N * D, 256)), dim3(256), {out(dw, V * D)},
             dw, (const int*)dev_rand<int>(N, 0, V - 1), (const float*)dev_rand<float>(N * D, -1, 1), N, D, V, dev_fill<int>(1, 0));
    }
}

}  // namespace

int main() {
    emu::set_quiet(true);  // expected errors are printed by the checks themselves
    auto t0 = std::chrono::steady_clock::now();
    printf("race_harness: (a) planted bugs\n");
    planted_bugs();
    printf("race_harness: (b) production kernels under the race check\n");
    production_kernels();
    auto s = emu::stats();
    printf("race_harness: %d checks, %d failed; %llu launches, %llu blocks, %llu fiber switches, %.0f ms\n", checks,
           failures, s.launches, s.blocks, s.switches, ms_since(t0));
    return failures ? 1 : 0;
}
