// emu_driver.cpp — libcuda.so.1 of the CUDA emulator: the Driver API functions JCuda calls, as a thin C
// layer over the runtime (emu_runtime.h).
//
// Real ABI: CUresult values as in cuda.h, CUdeviceptr is a 64-bit integer (here: a host address from
// emu::dev_alloc), handles are pointers to structs of our own. JCuda's JNI library names libcuda.so.1 as
// needed and binds each cu* lazily, so only the functions it actually calls have to exist; loading this
// library with System.load before any JCuda class makes JCuda use it (mlip.cuda.Emulator).
//
// Everything is synchronous: a launch or an "async" copy has finished when the call returns, so streams
// and events only keep their handles (and events the host time at which they were recorded).
//
// As on a real driver: nothing works before cuInit; memory, modules, launches and streams need a current
// context on the calling thread (cuCtxSetCurrent / cuCtxPushCurrent) — a Java thread that forgot it fails
// here exactly as it would on a GPU. Copies and memsets are checked to stay inside one allocation.
#include "emu_runtime.h"

#include <unistd.h>

#include <chrono>
#include <mutex>
#include <vector>

#define API extern "C" __attribute__((visibility("default")))

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
struct CUctx_st {
    int device;
};
struct CUmod_st {
    int unused;
};
struct CUstream_st {
    unsigned flags;
};
struct CUevent_st {
    std::chrono::steady_clock::time_point t;
    bool recorded;
};
typedef CUctx_st* CUcontext;
typedef CUmod_st* CUmodule;
typedef emu::Kernel* CUfunction;
typedef CUstream_st* CUstream;
typedef CUevent_st* CUevent;

enum {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
};

namespace {

bool initialized;
CUctx_st primary{0};
int primary_refs;
thread_local std::vector<CUcontext> ctx_stack;  // the calling thread's context stack; back() is current

CUresult err(CUresult code, const std::string& msg) { return emu::fail(code, msg); }

// The preconditions of every call that touches the device.
CUresult need_ctx(const char* fn) {
    if (!initialized) return err(CUDA_ERROR_NOT_INITIALIZED, std::string(fn) + ": cuInit has not been called");
    if (ctx_stack.empty() || !ctx_stack.back())
        return err(CUDA_ERROR_INVALID_CONTEXT, std::string(fn) + ": no current context on this thread "
                                               "(call cuCtxSetCurrent on every thread that uses the device)");
    return CUDA_SUCCESS;
}

CUresult need_init(const char* fn) {
    return initialized ? CUDA_SUCCESS : err(CUDA_ERROR_NOT_INITIALIZED, std::string(fn) + ": cuInit has not been called");
}

CUresult need_dev(const char* fn, CUdevice d) {
    if (CUresult r = need_init(fn)) return r;
    return d == 0 ? CUDA_SUCCESS : err(CUDA_ERROR_INVALID_DEVICE, std::string(fn) + ": no device " + std::to_string(d));
}

void* ptr(CUdeviceptr p) { return reinterpret_cast<void*>(static_cast<uintptr_t>(p)); }

CUresult range(const char* fn, const char* what, CUdeviceptr p, size_t n) {
    if (emu::dev_range_ok(ptr(p), n)) return CUDA_SUCCESS;
    char b[64];
    snprintf(b, sizeof b, "0x%llx + %zu bytes", p, n);
    return err(CUDA_ERROR_INVALID_VALUE, std::string(fn) + ": " + what + " " + b + " is not inside one device allocation");
}

size_t physical_memory() { return (size_t)sysconf(_SC_PHYS_PAGES) * (size_t)sysconf(_SC_PAGESIZE); }

struct ErrorText {
    int code;
    const char *name, *text;
};
const ErrorText error_texts[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {4, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {201, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {218, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {600, "CUDA_ERROR_NOT_READY", "device not ready"},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {702, "CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {801, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {999, "CUDA_ERROR_UNKNOWN", "unknown error"},
};
const ErrorText* error_text(int code) {
    for (auto& e : error_texts)
        if (e.code == code) return &e;
    return nullptr;
}

}  // namespace

// ================================================================================================ init, device

API CUresult cuInit(unsigned flags) {
    if (flags != 0) return err(CUDA_ERROR_INVALID_VALUE, "cuInit: flags must be 0");
    initialized = true;
    return CUDA_SUCCESS;
}

API CUresult cuDriverGetVersion(int* v) {
    if (!v) return CUDA_ERROR_INVALID_VALUE;
    *v = 12000;
    return CUDA_SUCCESS;
}

API CUresult cuDeviceGetCount(int* n) {
    if (CUresult r = need_init("cuDeviceGetCount")) return r;
    if (!n) return CUDA_ERROR_INVALID_VALUE;
    *n = 1;
    return CUDA_SUCCESS;
}

API CUresult cuDeviceGet(CUdevice* d, int ordinal) {
    if (CUresult r = need_dev("cuDeviceGet", ordinal)) return r;
    if (!d) return CUDA_ERROR_INVALID_VALUE;
    *d = 0;
    return CUDA_SUCCESS;
}

API CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
    if (CUresult r = need_dev("cuDeviceGetName", d)) return r;
    if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, len, "%s", "MLIP CUDA emulator (CPU)");
    return CUDA_SUCCESS;
}

// An sm_80-class device (A100-like numbers where they matter for launch geometry; the multiprocessor
// count is the number of CPUs, so grids sized "32 blocks per SM" stay small).
API CUresult cuDeviceGetAttribute(int* pi, int attrib, CUdevice d) {
    if (CUresult r = need_dev("cuDeviceGetAttribute", d)) return r;
    if (!pi) return CUDA_ERROR_INVALID_VALUE;
    int v = 0;
    switch (attrib) {
        case 1: v = emu::MAX_THREADS; break;              // MAX_THREADS_PER_BLOCK
        case 2: v = emu::MAX_BLOCK_X; break;              // MAX_BLOCK_DIM_X
        case 3: v = emu::MAX_BLOCK_Y; break;
        case 4: v = emu::MAX_BLOCK_Z; break;
        case 5: v = (int)emu::MAX_GRID_X; break;          // MAX_GRID_DIM_X
        case 6: case 7: v = (int)emu::MAX_GRID_YZ; break;
        case 8: v = emu::SMEM_DEFAULT; break;             // MAX_SHARED_MEMORY_PER_BLOCK
        case 9: v = 65536; break;                         // TOTAL_CONSTANT_MEMORY
        case 10: v = 32; break;                           // WARP_SIZE
        case 11: v = 2147483647; break;                   // MAX_PITCH
        case 12: v = emu::REGS_PER_BLOCK; break;          // MAX_REGISTERS_PER_BLOCK
        case 13: v = 1410000; break;                      // CLOCK_RATE (kHz)
        case 14: v = 512; break;                          // TEXTURE_ALIGNMENT
        case 15: v = 1; break;                            // GPU_OVERLAP
        case 16: v = (int)std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)); break;  // MULTIPROCESSOR_COUNT
        case 19: v = 1; break;                            // CAN_MAP_HOST_MEMORY
        case 31: v = 1; break;                            // CONCURRENT_KERNELS
        case 36: v = 1215000; break;                      // MEMORY_CLOCK_RATE (kHz)
        case 37: v = 5120; break;                         // GLOBAL_MEMORY_BUS_WIDTH (bits)
        case 38: v = 40 << 20; break;                     // L2_CACHE_SIZE
        case 39: v = 2048; break;                         // MAX_THREADS_PER_MULTIPROCESSOR
        case 40: v = 2; break;                            // ASYNC_ENGINE_COUNT
        case 41: v = 1; break;                            // UNIFIED_ADDRESSING
        case 75: v = 8; break;                            // COMPUTE_CAPABILITY_MAJOR
        case 76: v = 0; break;                            // COMPUTE_CAPABILITY_MINOR
        case 81: v = 102400; break;                       // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
        case 82: v = 65536; break;                        // MAX_REGISTERS_PER_MULTIPROCESSOR
        case 97: v = emu::SMEM_OPTIN; break;              // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
        case 106: v = 32; break;                          // MAX_BLOCKS_PER_MULTIPROCESSOR
        default: v = 0;                                   // everything else: "not supported"
    }
    *pi = v;
    return CUDA_SUCCESS;
}

API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d) {
    if (CUresult r = need_dev("cuDeviceTotalMem", d)) return r;
    if (!bytes) return CUDA_ERROR_INVALID_VALUE;
    *bytes = physical_memory();
    return CUDA_SUCCESS;
}

API CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice d) {
    if (CUresult r = need_dev("cuDeviceComputeCapability", d)) return r;
    if (!major || !minor) return CUDA_ERROR_INVALID_VALUE;
    *major = 8, *minor = 0;
    return CUDA_SUCCESS;
}

// ================================================================================================ contexts

API CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice d) {
    if (CUresult r = need_dev("cuDevicePrimaryCtxRetain", d)) return r;
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    primary_refs++;
    *pctx = &primary;
    return CUDA_SUCCESS;
}

API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
    if (CUresult r = need_dev("cuDevicePrimaryCtxRelease", d)) return r;
    if (primary_refs > 0) primary_refs--;
    return CUDA_SUCCESS;
}

API CUresult cuDevicePrimaryCtxReset_v2(CUdevice d) { return need_dev("cuDevicePrimaryCtxReset", d); }

API CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice d, unsigned) { return need_dev("cuDevicePrimaryCtxSetFlags", d); }

API CUresult cuDevicePrimaryCtxGetState(CUdevice d, unsigned* flags, int* active) {
    if (CUresult r = need_dev("cuDevicePrimaryCtxGetState", d)) return r;
    if (!flags || !active) return CUDA_ERROR_INVALID_VALUE;
    *flags = 0, *active = primary_refs > 0;
    return CUDA_SUCCESS;
}

API CUresult cuCtxCreate_v2(CUcontext* pctx, unsigned, CUdevice d) {
    if (CUresult r = need_dev("cuCtxCreate", d)) return r;
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    *pctx = new CUctx_st{0};
    ctx_stack.push_back(*pctx);  // a new context becomes current
    return CUDA_SUCCESS;
}

API CUresult cuCtxDestroy_v2(CUcontext ctx) {
    if (CUresult r = need_init("cuCtxDestroy")) return r;
    if (!ctx) return CUDA_ERROR_INVALID_VALUE;
    for (auto& c : ctx_stack)
        if (c == ctx) c = nullptr;
    while (!ctx_stack.empty() && !ctx_stack.back()) ctx_stack.pop_back();
    if (ctx != &primary) delete ctx;
    return CUDA_SUCCESS;
}

API CUresult cuCtxSetCurrent(CUcontext ctx) {
    if (CUresult r = need_init("cuCtxSetCurrent")) return r;
    if (!ctx) {
        if (!ctx_stack.empty()) ctx_stack.pop_back();
    } else if (ctx_stack.empty()) {
        ctx_stack.push_back(ctx);
    } else {
        ctx_stack.back() = ctx;
    }
    return CUDA_SUCCESS;
}

API CUresult cuCtxGetCurrent(CUcontext* pctx) {
    if (CUresult r = need_init("cuCtxGetCurrent")) return r;
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    *pctx = ctx_stack.empty() ? nullptr : ctx_stack.back();
    return CUDA_SUCCESS;
}

API CUresult cuCtxPushCurrent_v2(CUcontext ctx) {
    if (CUresult r = need_init("cuCtxPushCurrent")) return r;
    if (!ctx) return CUDA_ERROR_INVALID_VALUE;
    ctx_stack.push_back(ctx);
    return CUDA_SUCCESS;
}

API CUresult cuCtxPopCurrent_v2(CUcontext* pctx) {
    if (CUresult r = need_ctx("cuCtxPopCurrent")) return r;
    if (pctx) *pctx = ctx_stack.back();
    ctx_stack.pop_back();
    return CUDA_SUCCESS;
}

API CUresult cuCtxGetDevice(CUdevice* d) {
    if (CUresult r = need_ctx("cuCtxGetDevice")) return r;
    if (!d) return CUDA_ERROR_INVALID_VALUE;
    *d = 0;
    return CUDA_SUCCESS;
}

API CUresult cuCtxSynchronize() { return need_ctx("cuCtxSynchronize"); }

// ================================================================================================ modules, functions

// The image (PTX) is ignored: every kernel compiled into this library is found by name.
API CUresult cuModuleLoadData(CUmodule* m, const void* image) {
    if (CUresult r = need_ctx("cuModuleLoadData")) return r;
    if (!m || !image) return CUDA_ERROR_INVALID_VALUE;
    *m = new CUmod_st{0};
    return CUDA_SUCCESS;
}

API CUresult cuModuleLoadDataEx(CUmodule* m, const void* image, unsigned, void*, void**) {
    return cuModuleLoadData(m, image);
}

API CUresult cuModuleUnload(CUmodule m) {
    if (CUresult r = need_init("cuModuleUnload")) return r;
    if (!m) return CUDA_ERROR_INVALID_HANDLE;
    delete m;
    return CUDA_SUCCESS;
}

API CUresult cuModuleGetFunction(CUfunction* f, CUmodule m, const char* name) {
    if (CUresult r = need_ctx("cuModuleGetFunction")) return r;
    if (!f || !name) return CUDA_ERROR_INVALID_VALUE;
    if (!m) return CUDA_ERROR_INVALID_HANDLE;
    *f = emu::find_kernel(name);
    if (!*f)
        return err(CUDA_ERROR_NOT_FOUND, std::string("cuModuleGetFunction: no kernel ") + name +
                                             " in the emulator (it registers the extern \"C\" __global__ functions "
                                             "of src/main/cuda/*.cu as they were when it was built)");
    return CUDA_SUCCESS;
}

API CUresult cuFuncGetAttribute(int* pi, int attrib, CUfunction f) {
    if (CUresult r = need_init("cuFuncGetAttribute")) return r;
    if (!pi) return CUDA_ERROR_INVALID_VALUE;
    if (!f) return CUDA_ERROR_INVALID_HANDLE;
    int stat = std::max(f->static_smem, 0);
    switch (attrib) {
        case 0:  // MAX_THREADS_PER_BLOCK: what the registers allow (whole warps), at most 1024
            *pi = f->regs > 0 ? std::min(emu::MAX_THREADS, emu::REGS_PER_BLOCK / (f->regs * 32) * 32) : emu::MAX_THREADS;
            break;
        case 1: *pi = stat; break;                  // SHARED_SIZE_BYTES (static)
        case 4: *pi = std::max(f->regs, 0); break;  // NUM_REGS (0: not in the ptxas limits table)
        case 5: case 6: *pi = 80; break;            // PTX_VERSION, BINARY_VERSION
        case 8: *pi = f->max_dyn_smem >= 0 ? f->max_dyn_smem : emu::SMEM_DEFAULT - stat; break;  // MAX_DYNAMIC_SHARED
        case 9: *pi = -1; break;                    // PREFERRED_SHARED_MEMORY_CARVEOUT: default
        default: *pi = 0;
    }
    return CUDA_SUCCESS;
}

API CUresult cuFuncSetAttribute(CUfunction f, int attrib, int value) {
    if (CUresult r = need_init("cuFuncSetAttribute")) return r;
    if (!f) return CUDA_ERROR_INVALID_HANDLE;
    if (attrib == 8) {  // MAX_DYNAMIC_SHARED_SIZE_BYTES: opt in to more than 48 KiB
        int stat = std::max(f->static_smem, 0);
        if (value < 0 || value + stat > emu::SMEM_OPTIN)
            return err(CUDA_ERROR_INVALID_VALUE, "cuFuncSetAttribute(" + f->name + ", MAX_DYNAMIC_SHARED_SIZE_BYTES, " +
                                                     std::to_string(value) + "): dynamic + static " +
                                                     std::to_string(stat) + " exceeds the opt-in maximum " +
                                                     std::to_string(emu::SMEM_OPTIN));
        f->max_dyn_smem = value;
    }
    return CUDA_SUCCESS;  // other attributes (carveout, ...) change nothing here
}

// ================================================================================================ memory

API CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytes) {
    if (CUresult r = need_ctx("cuMemAlloc")) return r;
    if (!dptr || bytes == 0) return err(CUDA_ERROR_INVALID_VALUE, "cuMemAlloc: size 0 or NULL result pointer");
    void* p = emu::dev_alloc(bytes);
    if (!p) return err(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc: out of memory for " + std::to_string(bytes) + " bytes");
    *dptr = (CUdeviceptr)(uintptr_t)p;
    return CUDA_SUCCESS;
}

API CUresult cuMemFree_v2(CUdeviceptr p) {
    if (CUresult r = need_ctx("cuMemFree")) return r;
    if (p == 0) return CUDA_SUCCESS;
    if (!emu::dev_free(ptr(p))) {
        char b[32];
        snprintf(b, sizeof b, "0x%llx", p);
        return err(CUDA_ERROR_INVALID_VALUE, std::string("cuMemFree: ") + b + " is not the start of a device allocation");
    }
    return CUDA_SUCCESS;
}

API CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) {
    if (CUresult r = need_ctx("cuMemGetInfo")) return r;
    if (!free_bytes || !total) return CUDA_ERROR_INVALID_VALUE;
    *total = physical_memory();
    size_t used = emu::dev_bytes_in_use();
    *free_bytes = used < *total ? *total - used : 0;
    return CUDA_SUCCESS;
}

API CUresult cuMemAllocHost_v2(void** pp, size_t bytes) {
    if (CUresult r = need_ctx("cuMemAllocHost")) return r;
    if (!pp) return CUDA_ERROR_INVALID_VALUE;
    *pp = malloc(bytes ? bytes : 1);
    return *pp ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

API CUresult cuMemFreeHost(void* p) {
    if (CUresult r = need_ctx("cuMemFreeHost")) return r;
    free(p);
    return CUDA_SUCCESS;
}

API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
    if (CUresult r = need_ctx("cuMemcpyHtoD")) return r;
    if (CUresult r = range("cuMemcpyHtoD", "destination", dst, n)) return r;
    if (n) memcpy(ptr(dst), src, n);
    return CUDA_SUCCESS;
}

API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
    if (CUresult r = need_ctx("cuMemcpyDtoH")) return r;
    if (CUresult r = range("cuMemcpyDtoH", "source", src, n)) return r;
    if (n) memcpy(dst, ptr(src), n);
    return CUDA_SUCCESS;
}

API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    if (CUresult r = need_ctx("cuMemcpyDtoD")) return r;
    if (CUresult r = range("cuMemcpyDtoD", "destination", dst, n)) return r;
    if (CUresult r = range("cuMemcpyDtoD", "source", src, n)) return r;
    if (n) memmove(ptr(dst), ptr(src), n);
    return CUDA_SUCCESS;
}

API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, CUstream) { return cuMemcpyHtoD_v2(dst, src, n); }
API CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, CUstream) { return cuMemcpyDtoH_v2(dst, src, n); }
API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream) { return cuMemcpyDtoD_v2(dst, src, n); }

// Unified addressing: either side may be host or device memory.
API CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    if (CUresult r = need_ctx("cuMemcpy")) return r;
    if (n) memmove(ptr(dst), ptr(src), n);
    return CUDA_SUCCESS;
}

API CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned v, size_t count) {
    if (CUresult r = need_ctx("cuMemsetD32")) return r;
    if (dst % 4) return err(CUDA_ERROR_INVALID_VALUE, "cuMemsetD32: destination is not 4-byte aligned");
    if (CUresult r = range("cuMemsetD32", "destination", dst, count * 4)) return r;
    unsigned* p = static_cast<unsigned*>(ptr(dst));
    for (size_t i = 0; i < count; i++) p[i] = v;
    return CUDA_SUCCESS;
}

API CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char v, size_t count) {
    if (CUresult r = need_ctx("cuMemsetD8")) return r;
    if (CUresult r = range("cuMemsetD8", "destination", dst, count)) return r;
    if (count) memset(ptr(dst), v, count);
    return CUDA_SUCCESS;
}

API CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned v, size_t count, CUstream) { return cuMemsetD32_v2(dst, v, count); }
API CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char v, size_t count, CUstream) { return cuMemsetD8_v2(dst, v, count); }

// ================================================================================================ launch

API CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                            unsigned bz, unsigned smem, CUstream, void** params, void** /*extra: not supported*/) {
    if (CUresult r = need_ctx("cuLaunchKernel")) return r;
    return emu::launch(f, dim3(gx, gy, gz), dim3(bx, by, bz), smem, params);
}

// ================================================================================================ streams, events

API CUresult cuStreamCreate(CUstream* s, unsigned flags) {
    if (CUresult r = need_ctx("cuStreamCreate")) return r;
    if (!s) return CUDA_ERROR_INVALID_VALUE;
    *s = new CUstream_st{flags};
    return CUDA_SUCCESS;
}

API CUresult cuStreamDestroy_v2(CUstream s) {
    if (CUresult r = need_init("cuStreamDestroy")) return r;
    if (!s) return CUDA_ERROR_INVALID_HANDLE;
    delete s;
    return CUDA_SUCCESS;
}

API CUresult cuStreamSynchronize(CUstream) { return need_ctx("cuStreamSynchronize"); }
API CUresult cuStreamQuery(CUstream) { return need_ctx("cuStreamQuery"); }

API CUresult cuEventCreate(CUevent* e, unsigned) {
    if (CUresult r = need_ctx("cuEventCreate")) return r;
    if (!e) return CUDA_ERROR_INVALID_VALUE;
    *e = new CUevent_st{{}, false};
    return CUDA_SUCCESS;
}

API CUresult cuEventRecord(CUevent e, CUstream) {
    if (CUresult r = need_ctx("cuEventRecord")) return r;
    if (!e) return CUDA_ERROR_INVALID_HANDLE;
    e->t = std::chrono::steady_clock::now();
    e->recorded = true;
    return CUDA_SUCCESS;
}

API CUresult cuEventSynchronize(CUevent e) { return e ? need_init("cuEventSynchronize") : CUDA_ERROR_INVALID_HANDLE; }
API CUresult cuEventQuery(CUevent e) { return e ? need_init("cuEventQuery") : CUDA_ERROR_INVALID_HANDLE; }

// Host time between the two records, in ms (launches are synchronous, so it covers the work between them).
API CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
    if (CUresult r = need_init("cuEventElapsedTime")) return r;
    if (!ms) return CUDA_ERROR_INVALID_VALUE;
    if (!start || !end || !start->recorded || !end->recorded)
        return err(CUDA_ERROR_INVALID_HANDLE, "cuEventElapsedTime: an event was not recorded");
    *ms = std::chrono::duration<float, std::milli>(end->t - start->t).count();
    return CUDA_SUCCESS;
}

API CUresult cuEventDestroy_v2(CUevent e) {
    if (!e) return CUDA_ERROR_INVALID_HANDLE;
    delete e;
    return CUDA_SUCCESS;
}

// ================================================================================================ errors

// For the code of the last error the emulator raised, the detailed message (which kernel, block, threads,
// why); for other codes the driver's usual text.
API CUresult cuGetErrorString(CUresult code, const char** str) {
    if (!str) return CUDA_ERROR_INVALID_VALUE;
    static thread_local std::string detail;
    if (code != CUDA_SUCCESS && code == emu::last_error_code()) {
        detail = emu::last_error();
        *str = detail.c_str();
        return CUDA_SUCCESS;
    }
    const ErrorText* e = error_text(code);
    *str = e ? e->text : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuGetErrorName(CUresult code, const char** str) {
    if (!str) return CUDA_ERROR_INVALID_VALUE;
    const ErrorText* e = error_text(code);
    *str = e ? e->name : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
