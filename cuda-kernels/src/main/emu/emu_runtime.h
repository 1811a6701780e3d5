// emu_runtime.h — the host side of the CUDA emulator runtime: kernel registry, launch, device memory,
// errors, race check. The driver (emu_driver.cpp) is a thin C layer over this; the race harness
// (src/test/emu/race_harness.cpp) calls it directly.
//
// A launch runs the grid on the calling OS thread: blocks one after another in blockIdx order (x fastest),
// each block's threads as fibers (ucontext, 64 KiB stacks with a guard page) that run until they finish
// or wait at __syncthreads / a warp operation. One launch at a time per process (a mutex): static
// __shared__ variables are process globals.
#pragma once

#include "cuda_emu.h"

#include <string>
#include <tuple>
#include <typeinfo>
#include <utility>
#include <vector>

namespace emu {

// CUresult values used here (the real numbers: the driver returns them unchanged).
enum Result {
    OK = 0,
    ERR_INVALID_VALUE = 1,
    ERR_OUT_OF_MEMORY = 2,
    ERR_INVALID_HANDLE = 400,
    ERR_NOT_FOUND = 500,
    ERR_OUT_OF_RESOURCES = 701,  // CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES: registers x threads too many
    ERR_LAUNCH_FAILED = 719,     // deadlock, warp misuse, __trap, race found by the race check
};

// Device limits (an sm_80-class device; DYN_SMEM_OPTIN is the sm_86 opt-in maximum).
constexpr int MAX_THREADS = 1024, MAX_BLOCK_X = 1024, MAX_BLOCK_Y = 1024, MAX_BLOCK_Z = 64;
constexpr unsigned MAX_GRID_X = 2147483647u, MAX_GRID_YZ = 65535;
constexpr int SMEM_DEFAULT = 48 * 1024, SMEM_OPTIN = 101376, REGS_PER_BLOCK = 65536;

// A registered kernel; a CUfunction is a pointer to one.
struct Kernel {
    std::string name;
    void* fn;                            // the kernel function
    void (*tramp)(void* fn, void** p);   // calls fn with cuLaunchKernel-style parameters
    std::vector<const std::type_info*> types;  // parameter types (pointers without const), for checked launches
    std::vector<bool> is_ptr;                  // which parameters are pointers (names allocations in reports)
    int regs = -1, static_smem = -1;           // from the ptxas limits table; -1: unknown
    int max_dyn_smem = -1;  // cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES); -1: SMEM_DEFAULT - static
};

// ---- errors ---------------------------------------------------------------------------------------------
// Records code + message as the last error, prints "[cuda-emu] message" to stderr (unless quiet), returns code.
int fail(int code, const std::string& msg);
int last_error_code();
std::string last_error();
void set_quiet(bool quiet);  // the harness expects errors and prints its own lines

// ---- registry -----------------------------------------------------------------------------------------
Kernel* add_kernel(const char* name, void* fn, void (*tramp)(void*, void**),
                   std::vector<const std::type_info*> types, std::vector<bool> is_ptr, int regs, int static_smem);
Kernel* find_kernel(const char* name);   // nullptr when absent
Kernel* find_kernel(const void* fn);     // by function pointer
std::vector<Kernel*> kernels();          // all, sorted by name

// Parameter types compare without pointee const (a float* may be passed for a const float*).
template <class T>
using norm_t = std::conditional_t<std::is_pointer<T>::value,
                                  std::remove_cv_t<std::remove_pointer_t<T>>*, std::remove_cv_t<T>>;

// Unpacks cuLaunchKernel's void** (parameter i points at the value of parameter i) into f's parameter
// types, deduced from f itself: structs by value (Layout) work like scalars.
template <class... A, size_t... I>
void call_unpacked(void (*f)(A...), void** p, std::index_sequence<I...>) {
    (void)p;
    f(*static_cast<std::decay_t<A>*>(p[I])...);
}
template <class... A>
void trampoline(void* fn, void** p) {
    call_unpacked(reinterpret_cast<void (*)(A...)>(fn), p, std::index_sequence_for<A...>{});
}
template <class... A>
Kernel* register_kernel(const char* name, void (*f)(A...), int regs = -1, int static_smem = -1) {
    return add_kernel(name, reinterpret_cast<void*>(f), &trampoline<A...>, {&typeid(norm_t<A>)...},
                      {std::is_pointer<A>::value...}, regs, static_smem);
}

// ---- launch ---------------------------------------------------------------------------------------------
// Checks the configuration, runs the grid (twice in race check mode), returns a Result; on failure
// last_error() says why.
int launch(Kernel* k, dim3 grid, dim3 block, unsigned dyn_smem, void** params);

// Launch by name with typed arguments, checked against the registered parameter types (the harness's
// way; the Java side passes untyped void** through cuLaunchKernel like real CUDA).
bool check_arg_types(Kernel* k, const std::type_info* const* types, size_t n);
template <class... A>
int launch(const char* name, dim3 grid, dim3 block, unsigned dyn_smem, A... args) {
    Kernel* k = find_kernel(name);
    if (!k) return fail(ERR_NOT_FOUND, std::string("no kernel named ") + name);
    const std::type_info* types[] = {&typeid(norm_t<A>)..., nullptr};
    if (!check_arg_types(k, types, sizeof...(A))) return ERR_INVALID_VALUE;
    void* params[] = {static_cast<void*>(&args)..., nullptr};
    return launch(k, grid, block, dyn_smem, params);
}
// Launch a kernel function directly (registered on first use), converting the arguments to its
// parameter types: for kernels outside the registry, such as the harness's planted ones.
template <class... P, class... A>
int launch_fn(const char* name, void (*f)(P...), dim3 grid, dim3 block, unsigned dyn_smem, A&&... args) {
    Kernel* k = find_kernel(reinterpret_cast<const void*>(f));
    if (!k) k = register_kernel(name, f);
    std::tuple<std::decay_t<P>...> vals(std::forward<A>(args)...);
    return std::apply([&](auto&... v) {
        void* params[] = {static_cast<void*>(&v)..., nullptr};
        return launch(k, grid, block, dyn_smem, params);
    }, vals);
}
#define EMU_LAUNCH(kernel, grid, block, smem, ...) emu::launch_fn(#kernel, kernel, grid, block, smem, __VA_ARGS__)

// ---- race check -------------------------------------------------------------------------------------------
// On: every launch (1) diffs shared memory after each fiber run segment and reports a byte written by two
// threads between the same two barriers (write-write race), and (2) runs the grid twice, threads and
// blocks in ascending then descending order, from the same device memory, and reports the first word of
// any allocation that differs (a read-after-write race that changes results; float atomicAdd targets
// are compared with a tolerance), and (3) checks the red zone after every allocation (out-of-bounds
// writes). Off by default; MLIP_EMU_RACECHECK=1 in the environment turns it on.
void set_racecheck(bool on);
bool racecheck();

// ---- device memory (host memory here; a CUdeviceptr is its address) ---------------------------------------
// 256-byte aligned, filled with 0xFF bytes (uninitialised memory shows as NaN / -1), followed by a red
// zone; tracked so that the race check can snapshot every allocation.
void* dev_alloc(size_t bytes);
bool dev_free(void* p);                   // false: not an allocation start
bool dev_range_ok(const void* p, size_t bytes);  // [p, p+bytes) inside one allocation
size_t dev_bytes_in_use();

// ---- statistics (for timing reports) -------------------------------------------------------------------
struct Stats {
    unsigned long long launches, blocks, switches;
};
Stats stats();

}  // namespace emu
