// emu_runtime.cpp — fibers, block scheduler, barriers, warp operations, launch checks, race check, kernel
// registry and device memory of the CUDA emulator (see emu_runtime.h for the API, cuda_emu.h for what
// the emulator cannot show).
//
// Scheduling. Fiber i runs thread i of the current block; it loops forever (run the kernel for the
// thread, report "done", wait to be resumed for the next block), so fibers are made once and reused by
// every block and launch. The scheduler (on the launching thread's own stack) keeps a FIFO of ready
// threads and switches to each in turn; a thread runs until it exits or waits at a barrier or warp
// operation, and the wait itself decides whether that completes the rendezvous (then it makes every
// participant ready again). When the FIFO is empty and threads are still unfinished, nothing can ever
// release them: the block is deadlocked and diagnose() says who waits where. So a launch never hangs
// on synchronisation; it fails with a message.
//
// When a launch fails, the fibers that were inside the kernel are abandoned (their stacks just get
// reused): kernel code holds no resources, and a fresh makecontext resets them before their next use.
#include "emu_runtime.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>

// Bounds of the section holding every static __shared__ variable (cuda_emu.h), defined by the linker.
extern "C" char __start_emu_shared[], __stop_emu_shared[];

namespace emu {

__thread const ThreadCtx* tls_cur;
bool rc_fp_atomics;

namespace {

// One anchor so that the section, and with it its bounds, exist in every binary linking the runtime.
__attribute__((section("emu_shared"), used)) char shared_anchor[16];

// ================================================================================================ errors

std::mutex err_mu;
int err_code;
std::string err_msg;
bool quiet;

std::string hex(unsigned long long v) {
    char b[24];
    snprintf(b, sizeof b, "0x%llx", v);
    return b;
}

std::string base_name(const char* f) {
    const char* s = strrchr(f, '/');
    return s ? s + 1 : f;
}

std::string site(const char* f, int line) { return base_name(f) + ":" + std::to_string(line); }

bool same_site(const char* f1, int l1, const char* f2, int l2) {
    return l1 == l2 && (f1 == f2 || strcmp(f1, f2) == 0);
}

// Sorted ids as "0-127,130".
std::string ranges(const std::vector<int>& ids) {
    std::string s;
    for (size_t i = 0; i < ids.size();) {
        size_t j = i;
        while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) j++;
        if (!s.empty()) s += ",";
        s += std::to_string(ids[i]);
        if (j > i) s += "-" + std::to_string(ids[j]);
        i = j + 1;
    }
    return s;
}

const char* op_name(int warp_kind) {
    static const char* names[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync",
                                  "__ballot_sync", "__any_sync", "__all_sync", "__syncwarp",
                                  "__reduce_add_sync", "__reduce_min_sync", "__reduce_max_sync",
                                  "__reduce_min_sync", "__reduce_max_sync", "__reduce_and_sync",
                                  "__reduce_or_sync", "__reduce_xor_sync"};
    return names[warp_kind];
}

const char* bar_name(int bar_kind) {
    static const char* names[] = {"__syncthreads", "__syncthreads_count", "__syncthreads_and", "__syncthreads_or"};
    return names[bar_kind];
}

// ================================================================================================ registry

struct Registry {
    std::mutex mu;
    std::map<std::string, Kernel*> by_name;
    std::unordered_map<const void*, Kernel*> by_fn;
};
Registry& registry() {  // a function-local static: registrations run from static constructors
    static Registry r;
    return r;
}

// ================================================================================================ memory

constexpr size_t ALIGN = 256, REDZONE = 256;
constexpr unsigned char REDZONE_BYTE = 0xA5;
struct Alloc {
    size_t size, total;  // requested bytes; bytes including alignment slack and red zone
};
std::mutex mem_mu;
std::map<uintptr_t, Alloc> allocs;  // by start address
size_t in_use;

// ================================================================================================ launch state

constexpr size_t STACK = 64 << 10;

struct Fiber {
    ucontext_t uc;
    char* stack;
    bool fresh;  // needs makecontext before it is resumed (new, or abandoned by a failed launch)
};
std::vector<Fiber*> fibers;
size_t page_size;

enum State : unsigned char { READY, BAR_WAIT, WARP_WAIT, DONE };

struct Thread : ThreadCtx {
    int tid, warp, lane;
    State state;
    bool started;                  // its fiber entered the kernel in this block
    const char* file;              // where it waits: a barrier or warp-operation site
    int line, kind;                // ... and which BarOp / WarpOp
    int pred, bres;                // __syncthreads_count/and/or: predicate in, result out
    unsigned wmask;                // warp operation: mask, value in, argument (lane, delta, mask), width
    unsigned long long wval, wres; // ... and this lane's result, written by the last lane to arrive
    int warg, wwidth;
};

// A pending warp operation: lanes with equal masks meet in one group; groups of one warp have disjoint masks.
struct Group {
    unsigned mask, arrived;
    int kind;
};

// Race check, per byte of shared memory: the last writer, and the barrier / warp-operation counts at the
// start of the run segment in which it wrote.
struct Owner {
    int tid;
    unsigned bar, wep;
};
struct Region {
    const char* name;
    unsigned char* base;
    size_t size;
    std::vector<unsigned char> shadow;  // the contents after the previous segment
    std::vector<Owner> owner;
};

struct Launch {
    Kernel* k;
    void** params;
    dim3 grid, block;
    unsigned dyn;
    bool rc, desc;  // race check on; schedule threads and blocks in descending order
    int n;          // threads per block
    uint3 b;        // current block
    std::vector<Thread> th;
    std::deque<int> ready;
    int live, waiting;                    // unfinished threads; threads waiting at a block barrier
    const char* bar_file;                 // site of the first waiter at the current barrier
    int bar_line;
    bool bar_mixed;                       // waiters at different sites: it can never release
    const char* last_bar_file = nullptr;  // the last barrier released (race reports)
    int last_bar_line;
    unsigned bar;                         // barriers released in this block
    std::vector<std::vector<Group>> groups;  // per warp
    std::vector<unsigned> wep;               // per warp: warp operations completed
    Thread* cur;
    ucontext_t sched;
    bool failed;
    int code;
    std::string msg;
    Region rs{"static __shared__ section", nullptr, 0, {}, {}}, rd{"dynamic shared memory", nullptr, 0, {}, {}};
};
Launch L;
std::mutex launch_mu;
alignas(256) unsigned char dyn_buf[SMEM_OPTIN];
Stats st;
int rc_mode = -1;  // -1: from MLIP_EMU_RACECHECK
std::unordered_map<uintptr_t, int> fp_targets;  // race check: float/double atomicAdd addresses -> size

std::string where() {
    std::string s = L.k->name + " block (" + std::to_string(L.b.x) + "," + std::to_string(L.b.y) + "," +
                    std::to_string(L.b.z) + ")";
    if (L.desc) s += " [descending-order run]";
    return s;
}

// Thread ids in messages are linear (x + y*bx + z*bx*by), warps are tid / 32, lanes tid % 32.
std::string tid_note() { return L.block.y * L.block.z > 1 ? " (linear thread ids x + y*bx + z*bx*by)" : ""; }

// ================================================================================================ fibers

void yield() { swapcontext(&fibers[L.cur->tid]->uc, &L.sched); }

// Called in a fiber: record the failure, return to the scheduler for good. Messages are built by the
// caller in a full expression, so no std::string of an abandoned frame is left holding memory.
void set_fail(int code, const std::string& msg) {
    if (L.failed) return;
    L.failed = true;
    L.code = code;
    L.msg = msg;
}
[[noreturn]] void abandon() {
    yield();
    abort();  // the scheduler never resumes a failed thread
}

void fiber_main(int idx) {
    for (;;) {
        L.k->tramp(L.k->fn, L.params);
        Thread& t = L.th[idx];
        t.state = DONE;
        L.live--;
        swapcontext(&fibers[idx]->uc, &L.sched);  // resumed for thread idx of a later block
    }
}

void make_fiber(Fiber* f, int idx) {
    getcontext(&f->uc);
    f->uc.uc_stack.ss_sp = f->stack;
    f->uc.uc_stack.ss_size = STACK;
    f->uc.uc_link = nullptr;
    makecontext(&f->uc, reinterpret_cast<void (*)()>(fiber_main), 1, idx);
    f->fresh = false;
}

// Stacks come from one mmap per growth step; a PROT_NONE page below each stack turns an overflow into
// SIGSEGV instead of silently corrupting the neighbour. MAP_NORESERVE: untouched stack pages cost nothing.
bool grow_fibers(size_t n) {
    if (fibers.size() >= n) return true;
    if (!page_size) page_size = (size_t)sysconf(_SC_PAGESIZE);
    size_t add = n - fibers.size(), slot = STACK + page_size;
    void* m = mmap(nullptr, add * slot, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return false;
    char* base = static_cast<char*>(m);
    for (size_t i = 0; i < add; i++) {
        char* s = base + i * slot;
        mprotect(s, page_size, PROT_NONE);
        fibers.push_back(new Fiber{{}, s + page_size, true});
    }
    return true;
}

// ================================================================================================ race check

// The static __shared__ variable holding addr, demangled ("topk_rows<float>(...)::warpV"), from the symbol
// table of the binary that contains it (static locals are not dynamic symbols, so dladdr alone cannot
// name them); "" when not found (a stripped binary). Only used to word a race report.
std::string shared_var(const void* addr, size_t* offset) {
    Dl_info info;
    if (!dladdr(addr, &info) || !info.dli_fbase) return "";
    int fd = open(info.dli_fname && *info.dli_fname ? info.dli_fname : "/proc/self/exe", O_RDONLY);
    if (fd < 0) fd = open("/proc/self/exe", O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) return fd >= 0 ? (close(fd), "") : "";
    void* m = mmap(nullptr, sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return "";
    const char* base = static_cast<const char*>(m);
    auto eh = reinterpret_cast<const Elf64_Ehdr*>(base);
    std::string name;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64) {
        auto sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
        uintptr_t rel = (uintptr_t)addr - (eh->e_type == ET_DYN ? (uintptr_t)info.dli_fbase : 0);
        for (int i = 0; i < eh->e_shnum && name.empty(); i++) {
            if (sh[i].sh_type != SHT_SYMTAB) continue;
            auto sym = reinterpret_cast<const Elf64_Sym*>(base + sh[i].sh_offset);
            const char* strtab = base + sh[sh[i].sh_link].sh_offset;
            for (size_t j = 0; j < sh[i].sh_size / sizeof(Elf64_Sym); j++) {
                if (ELF64_ST_TYPE(sym[j].st_info) != STT_OBJECT || rel < sym[j].st_value ||
                    rel >= sym[j].st_value + sym[j].st_size)
                    continue;
                const char* mangled = strtab + sym[j].st_name;
                int status = 0;
                char* d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
                name = d ? d : mangled;
                free(d);
                *offset = rel - sym[j].st_value;
                break;
            }
        }
    }
    munmap(m, sb.st_size);
    return name;
}

std::string shared_location(const Region& r, size_t i) {
    std::string s = std::string(r.name) + " byte " + std::to_string(i);
    size_t off = 0;
    std::string var = r.base == reinterpret_cast<unsigned char*>(__start_emu_shared) ? shared_var(r.base + i, &off) : "";
    return var.empty() ? s : var + " byte " + std::to_string(off) + " (" + s + ")";
}

void region_reset(Region& r, unsigned char* base, size_t size) {
    r.base = base;
    r.size = size;
    r.shadow.assign(base, base + size);
    r.owner.assign(size, Owner{-1, 0, 0});
}

// After a run segment of thread t (which started with seg_bar barriers and seg_wep warp operations of its
// warp completed): every byte that changed was written by t. Two writers of one byte race unless a block
// barrier separates them, or they are lanes of one warp and a warp operation of that warp does.
void region_diff(Region& r, const Thread& t, unsigned seg_bar, unsigned seg_wep) {
    // Most segments write no shared memory: one memcmp of the region says so; else narrow down by 1 KiB
    // blocks, then 64-byte chunks, then bytes.
    if (r.size == 0 || memcmp(r.base, r.shadow.data(), r.size) == 0) return;
    for (size_t off = 0; off < r.size; off += 64) {
        if (off % 1024 == 0) {
            size_t kb = std::min<size_t>(1024, r.size - off);
            if (memcmp(r.base + off, &r.shadow[off], kb) == 0) {
                off += kb - 64;
                continue;
            }
        }
        size_t len = std::min<size_t>(64, r.size - off);
        if (memcmp(r.base + off, &r.shadow[off], len) == 0) continue;
        for (size_t i = off; i < off + len; i++) {
            if (r.base[i] == r.shadow[i]) continue;
            Owner& o = r.owner[i];
            if (o.tid >= 0 && o.tid != t.tid && o.bar == seg_bar && ((o.tid >> 5) != t.warp || o.wep == seg_wep)) {
                set_fail(ERR_LAUNCH_FAILED,
                         where() + ": shared-memory race: threads " + std::to_string(o.tid) + " and " +
                             std::to_string(t.tid) + " both wrote " + shared_location(r, i) + " " +
                             (seg_bar == 0 ? std::string("before the first barrier")
                                           : "after the barrier at " + site(L.last_bar_file, L.last_bar_line)) +
                             " with no barrier between them" + tid_note());
            }
            o = Owner{t.tid, seg_bar, seg_wep};
        }
        memcpy(&r.shadow[off], r.base + off, len);
    }
}

// ================================================================================================ scheduler

void push_ready(int tid) { L.ready.push_back(tid); }

// Lanes of warp w that exist (the last warp of a block whose size is not a multiple of 32 is partial).
unsigned lanes_of(int w) {
    int k = std::min(32, L.n - w * 32);
    return k >= 32 ? 0xffffffffu : (1u << k) - 1;
}

// Every thread waits at one barrier site: compute the __syncthreads_count/and/or results, release all.
void release_barrier() {
    int cnt = 0;
    for (auto& t : L.th) cnt += t.pred;
    for (int j = 0; j < L.n; j++) {
        Thread& t = L.th[L.desc ? L.n - 1 - j : j];
        t.bres = t.kind == BAR_COUNT ? cnt : t.kind == BAR_AND ? cnt == L.n : t.kind == BAR_OR ? cnt > 0 : 0;
        t.state = READY;
        push_ready(t.tid);
    }
    L.waiting = 0;
    L.bar++;
    L.last_bar_file = L.bar_file;
    L.last_bar_line = L.bar_line;
}

// Source lane of a shuffle for `lane`, or `lane` itself where CUDA returns the caller's own value.
// width splits the warp into segments; an index wraps within the segment, up/down stop at its edges,
// xor may reach earlier segments but not later ones (CUDA programming guide, warp shuffle functions).
int shfl_src(int kind, int lane, int arg, int width) {
    int seg = lane & ~(width - 1);
    switch (kind) {
        case SHFL_IDX: return seg + (arg & (width - 1));
        case SHFL_UP: return (unsigned)(lane - seg) >= (unsigned)arg ? lane - arg : lane;
        case SHFL_DOWN: return (long long)(lane - seg) + (unsigned)arg < width ? lane + arg : lane;
        default: {
            int s = lane ^ (arg & 31);
            return s < seg + width ? s : lane;
        }
    }
}

// The last lane of group g arrived: compute every lane's result into its own slot, release the lanes.
void complete_warp_op(int w, const Group& g) {
    Thread* lanes = &L.th[w * 32];
    unsigned ballot = 0, sum = 0, band = ~0u, bor = 0, bxor = 0, umin = ~0u, umax = 0;
    int smin = 0x7fffffff, smax = -0x7fffffff - 1;
    for (int l = 0; l < 32; l++) {
        if (!(g.mask >> l & 1)) continue;
        unsigned v = (unsigned)lanes[l].wval;
        if (v) ballot |= 1u << l;
        sum += v, band &= v, bor |= v, bxor ^= v;
        umin = std::min(umin, v), umax = std::max(umax, v);
        smin = std::min(smin, (int)v), smax = std::max(smax, (int)v);
    }
    for (int l = 0; l < 32; l++) {
        if (!(g.mask >> l & 1)) continue;
        Thread& x = lanes[l];
        switch (g.kind) {
            case SHFL_IDX: case SHFL_UP: case SHFL_DOWN: case SHFL_XOR: {
                int s = shfl_src(g.kind, l, x.warg, x.wwidth);
                // A source lane outside the mask has no defined value: give the poison pattern.
                x.wres = (g.mask >> s & 1) ? lanes[s].wval : ~0ull;
                break;
            }
            case BALLOT: x.wres = ballot; break;
            case ANY: x.wres = ballot != 0; break;
            case ALL: x.wres = ballot == g.mask; break;
            case RED_ADD: x.wres = sum; break;
            case RED_MIN: x.wres = (unsigned)smin; break;
            case RED_MAX: x.wres = (unsigned)smax; break;
            case RED_UMIN: x.wres = umin; break;
            case RED_UMAX: x.wres = umax; break;
            case RED_AND: x.wres = band; break;
            case RED_OR: x.wres = bor; break;
            case RED_XOR: x.wres = bxor; break;
            default: x.wres = 0;  // SYNCWARP
        }
    }
    for (int j = 0; j < 32; j++) {
        int l = L.desc ? 31 - j : j;
        if (!(g.mask >> l & 1)) continue;
        lanes[l].state = READY;
        push_ready(lanes[l].tid);
    }
}

// What thread t is doing, for deadlock messages.
std::string doing(const Thread& t) {
    switch (t.state) {
        case DONE: return "exited";
        case BAR_WAIT: return std::string("wait at ") + bar_name(t.kind) + " at " + site(t.file, t.line);
        case WARP_WAIT:
            return std::string("wait at ") + op_name(t.kind) + " at " + site(t.file, t.line) + " (warp " +
                   std::to_string(t.warp) + ", mask " + hex(t.wmask) + ")";
        default: return "ready";
    }
}

// Groups ids by what they do: "threads 0-127 wait at __syncthreads at a.cu:57; threads 128-255 exited".
std::string by_activity(const std::vector<int>& ids, const char* noun, int offset) {
    std::vector<std::pair<std::string, std::vector<int>>> groups;
    for (int id : ids) {
        std::string d = doing(L.th[id + offset]);
        auto it = std::find_if(groups.begin(), groups.end(), [&](auto& g) { return g.first == d; });
        if (it == groups.end()) groups.push_back({d, {id}});
        else it->second.push_back(id);
    }
    std::string s;
    for (auto& g : groups) s += (s.empty() ? "" : "; ") + std::string(noun) + " " + ranges(g.second) + " " + g.first;
    return s;
}

// The ready FIFO ran dry with threads unfinished: say why nothing can move.
std::string diagnose() {
    // A warp operation that cannot complete: its warp, who arrived, what the missing lanes do.
    for (size_t w = 0; w < L.groups.size(); w++) {
        for (const Group& g : L.groups[w]) {
            std::vector<int> lanes;
            for (int l = 0; l < 32; l++)
                if (g.mask >> l & 1) lanes.push_back(l);
            return where() + " warp " + std::to_string(w) + ": " + op_name(g.kind) + " (mask " + hex(g.mask) +
                   ") can never complete: " + by_activity(lanes, "lanes", (int)w * 32);
        }
    }
    // Block barriers: divergent (some threads exited) or at different sites.
    std::vector<int> all(L.n);
    for (int i = 0; i < L.n; i++) all[i] = i;
    bool exited = L.live < L.n;
    return where() + ": " + (exited ? "divergent __syncthreads (some threads exited, so it can never release)"
                                    : "threads wait at different __syncthreads (it can never release)") +
           ": " + by_activity(all, "threads", 0) + tid_note();
}

int run_block(uint3 b) {
    L.b = b;
    const dim3& B = L.block;
    for (int i = 0; i < L.n; i++) {
        Thread& t = L.th[i];
        t.tidx = {i % B.x, i / B.x % B.y, i / (B.x * B.y)};
        t.bidx = b;
        t.bdim = B;
        t.gdim = L.grid;
        t.tid = i, t.warp = i >> 5, t.lane = i & 31;
        t.state = READY;
        t.started = false;
        t.pred = 0;
    }
    L.live = L.n;
    L.waiting = 0;
    L.bar = 0;
    L.last_bar_file = nullptr;
    for (auto& g : L.groups) g.clear();
    std::fill(L.wep.begin(), L.wep.end(), 0u);
    // Shared memory starts as 0xFF bytes in every block (NaN as float/double, -1 as int): a read before
    // the write that should have preceded it shows, instead of reading the previous block's values.
    memset(__start_emu_shared, 0xFF, __stop_emu_shared - __start_emu_shared);
    memset(dyn_buf, 0xFF, L.dyn);
    if (L.rc) {
        region_reset(L.rs, reinterpret_cast<unsigned char*>(__start_emu_shared), __stop_emu_shared - __start_emu_shared);
        region_reset(L.rd, dyn_buf, L.dyn);
    }
    L.ready.clear();
    for (int j = 0; j < L.n; j++) push_ready(L.desc ? L.n - 1 - j : j);

    while (!L.ready.empty()) {
        int i = L.ready.front();
        L.ready.pop_front();
        Thread& t = L.th[i];
        Fiber* f = fibers[i];
        if (f->fresh) make_fiber(f, i);
        t.started = true;
        unsigned seg_bar = L.bar, seg_wep = L.wep[t.warp];
        L.cur = &t;
        tls_cur = &t;
        st.switches++;
        swapcontext(&L.sched, &f->uc);
        tls_cur = nullptr;
        if (L.rc && !L.failed) {
            region_diff(L.rs, t, seg_bar, seg_wep);
            region_diff(L.rd, t, seg_bar, seg_wep);
        }
        if (L.failed) break;
    }
    if (!L.failed && L.live > 0) set_fail(ERR_LAUNCH_FAILED, diagnose());
    if (L.failed) {
        for (int i = 0; i < L.n; i++)
            if (L.th[i].started && L.th[i].state != DONE) fibers[i]->fresh = true;
        return L.code;
    }
    return OK;
}

int run_grid() {
    const dim3& G = L.grid;
    unsigned long long nb = (unsigned long long)G.x * G.y * G.z;
    for (unsigned long long j = 0; j < nb; j++) {
        unsigned long long b = L.desc ? nb - 1 - j : j;
        st.blocks++;
        if (int r = run_block({(unsigned)(b % G.x), (unsigned)(b / G.x % G.y), (unsigned)(b / G.x / G.y)})) return r;
    }
    return OK;
}

// ================================================================================================ race check: two orders

struct Snap {
    unsigned char* p;
    Alloc a;
    std::vector<unsigned char> before, asc;
};

// Which kernel parameter points into [p, p + n), for reports.
std::string param_of(const unsigned char* p, size_t n) {
    for (size_t i = 0; i < L.k->is_ptr.size(); i++) {
        if (!L.k->is_ptr[i] || !L.params[i]) continue;
        auto q = *static_cast<unsigned char**>(L.params[i]);
        if (q >= p && q < p + n) return ", kernel parameter " + std::to_string(i);
    }
    return "";
}

std::string describe_alloc(const Snap& s) {
    return "allocation " + hex((uintptr_t)s.p) + " (" + std::to_string(s.a.size) + " bytes" +
           param_of(s.p, s.a.size) + ")";
}

// Out-of-bounds writes land in the red zone after an allocation.
bool redzones_ok(std::vector<Snap>& snaps) {
    for (auto& s : snaps) {
        for (size_t i = s.a.size; i < s.a.total; i++) {
            if (s.p[i] == REDZONE_BYTE) continue;
            set_fail(ERR_LAUNCH_FAILED, L.k->name + (L.desc ? " [descending-order run]" : "") +
                                            ": out-of-bounds write at byte " + std::to_string(i - s.a.size) +
                                            " past the end of " + describe_alloc(s));
            for (auto& t : snaps) memset(t.p + t.a.size, REDZONE_BYTE, t.a.total - t.a.size);
            return false;
        }
    }
    return true;
}

// Elements of two results that may differ: float/double atomicAdd targets, within a relative 1e-4 (f32)
// or 1e-10 (f64) — the additions' order is free on a GPU, so their rounding differs legitimately.
bool fp_close(const unsigned char* a, const unsigned char* b, int bytes) {
    double x, y, tol;
    if (bytes == 4) {
        float fx, fy;
        memcpy(&fx, a, 4), memcpy(&fy, b, 4);
        x = fx, y = fy, tol = 1e-4;
    } else {
        memcpy(&x, a, 8), memcpy(&y, b, 8);
        tol = 1e-10;
    }
    if (x != x && y != y) return true;
    return std::abs(x - y) <= tol * std::max({1.0, std::abs(x), std::abs(y)});
}

// First difference between the ascending result s.asc and the current (descending) memory, or "".
std::string first_difference(const Snap& s) {
    const unsigned char *d = s.p, *a = s.asc.data();
    size_t n = s.a.size;
    if (memcmp(d, a, n) == 0) return "";
    for (size_t off = 0; off < n;) {
        size_t w = std::min<size_t>(4, n - off);
        if (memcmp(d + off, a + off, w) == 0) {
            off += w;
            continue;
        }
        // A float/double atomic target starting here (or, for a double, 4 bytes before)?
        uintptr_t addr = (uintptr_t)(d + off);
        auto it = fp_targets.find(addr);
        if (it == fp_targets.end() && off >= 4) {
            it = fp_targets.find(addr - 4);
            if (it != fp_targets.end() && it->second != 8) it = fp_targets.end();
        }
        if (it != fp_targets.end()) {
            size_t e = it->first - (uintptr_t)d;
            if (e + it->second <= n && fp_close(d + e, a + e, it->second)) {
                off = e + it->second;
                continue;
            }
        }
        unsigned va = 0, vd = 0;
        memcpy(&va, a + off, w), memcpy(&vd, d + off, w);
        float fa, fd;
        memcpy(&fa, &va, 4), memcpy(&fd, &vd, 4);
        char vals[160];
        snprintf(vals, sizeof vals, "ascending order left 0x%08x (%g as f32, %d as i32), descending left 0x%08x (%g, %d)",
                 va, fa, (int)va, vd, fd, (int)vd);
        return describe_alloc(s) + ", byte offset " + std::to_string(off) + " (word " + std::to_string(off / 4) +
               "): " + vals;
    }
    return "";
}

// Race check: run the grid in ascending then descending thread and block order from the same memory;
// any allocation that ends different depends on the schedule. Memory is left as the ascending run left it.
int run_checked() {
    std::vector<Snap> snaps;
    {
        std::lock_guard<std::mutex> g(mem_mu);
        for (auto& [p, a] : allocs) snaps.push_back({reinterpret_cast<unsigned char*>(p), a, {}, {}});
    }
    for (auto& s : snaps) s.before.assign(s.p, s.p + s.a.size);
    L.rc = true;
    rc_fp_atomics = true;
    fp_targets.clear();
    int r = OK;
    for (int pass = 0; pass < 2 && r == OK; pass++) {
        L.desc = pass == 1;
        r = run_grid();
        if (r == OK && !redzones_ok(snaps)) r = L.code;
        if (r != OK || pass == 1) break;
        for (auto& s : snaps) {
            s.asc.assign(s.p, s.p + s.a.size);
            memcpy(s.p, s.before.data(), s.a.size);
        }
    }
    if (r == OK) {
        for (auto& s : snaps) {
            std::string d = first_difference(s);
            if (!d.empty() && r == OK) {
                L.failed = true;
                r = L.code = ERR_LAUNCH_FAILED;
                L.msg = L.k->name + " grid (" + std::to_string(L.grid.x) + "," + std::to_string(L.grid.y) + "," +
                        std::to_string(L.grid.z) + "): race: the result depends on the thread order: " + d;
            }
            memcpy(s.p, s.asc.data(), s.a.size);
        }
    }
    rc_fp_atomics = false;
    L.rc = L.desc = false;
    return r;
}

}  // namespace

// ================================================================================================ kernel side

int block_barrier(int kind, int pred, const char* file, int line) {
    Thread& t = *L.cur;
    t.state = BAR_WAIT;
    t.file = file, t.line = line, t.kind = kind, t.pred = pred;
    if (L.waiting == 0) {
        L.bar_file = file, L.bar_line = line, L.bar_mixed = false;
    } else if (!same_site(file, line, L.bar_file, L.bar_line)) {
        L.bar_mixed = true;
    }
    // Releases only when every thread of the block waits here; exited threads or other sites leave the
    // barrier waiting for ever, which the scheduler reports as a deadlock when nothing else can run.
    if (++L.waiting == L.n && !L.bar_mixed) release_barrier();
    yield();
    return t.bres;
}

unsigned long long warp_op(int kind, unsigned mask, unsigned long long v, int arg, int width, const char* file,
                           int line) {
    Thread& t = *L.cur;
    // (No std::string may live across yield(): a failed launch abandons this frame.)
    auto at = [&] { return std::string(op_name(kind)) + " at " + site(file, line); };
    unsigned exist = lanes_of(t.warp);
    if (mask & ~exist) {
        set_fail(ERR_LAUNCH_FAILED, [&] {
            std::vector<int> missing;
            for (int l = 0; l < 32; l++)
                if ((mask & ~exist) >> l & 1) missing.push_back(l);
            return where() + " warp " + std::to_string(t.warp) + ": " + at() + ": mask " + hex(mask) + " names lanes " +
                   ranges(missing) + ", which do not exist (the block has " + std::to_string(L.n) +
                   " threads, so this warp is partial)";
        }());
        abandon();
    }
    if (!(mask >> t.lane & 1)) {
        set_fail(ERR_LAUNCH_FAILED, where() + " warp " + std::to_string(t.warp) + ": " + at() + ": lane " +
                                        std::to_string(t.lane) + " is not in its own mask " + hex(mask));
        abandon();
    }
    if (kind <= SHFL_XOR && (width < 1 || width > 32 || (width & (width - 1)))) {
        set_fail(ERR_LAUNCH_FAILED, where() + ": " + at() + ": width " + std::to_string(width) +
                                        " is not a power of 2 <= 32");
        abandon();
    }
    t.state = WARP_WAIT;
    t.file = file, t.line = line, t.kind = kind;
    t.wmask = mask, t.wval = v, t.warg = arg, t.wwidth = width;
    auto& gs = L.groups[t.warp];
    auto g = std::find_if(gs.begin(), gs.end(), [&](const Group& x) { return (x.mask & mask) != 0; });
    if (g != gs.end() && (g->mask != mask || g->kind != kind)) {
        int other = __builtin_ctz(g->arrived);
        set_fail(ERR_LAUNCH_FAILED, where() + " warp " + std::to_string(t.warp) + ": lane " + std::to_string(t.lane) +
                                        " reached " + at() + " with mask " + hex(mask) + " while lane " +
                                        std::to_string(other) + " waits at " + op_name(g->kind) + " at " +
                                        site(L.th[t.warp * 32 + other].file, L.th[t.warp * 32 + other].line) +
                                        " with mask " + hex(g->mask));
        abandon();
    }
    if (g == gs.end()) {
        gs.push_back(Group{mask, 0, kind});
        g = gs.end() - 1;
    }
    g->arrived |= 1u << t.lane;
    if (g->arrived == g->mask) {
        Group done = *g;
        gs.erase(g);
        complete_warp_op(t.warp, done);
        L.wep[t.warp]++;
    }
    yield();
    return t.wres;
}

unsigned active_mask() {
    const Thread& t = *L.cur;
    unsigned m = 0, exist = lanes_of(t.warp);
    for (int l = 0; l < 32; l++)
        if ((exist >> l & 1) && L.th[t.warp * 32 + l].state != DONE) m |= 1u << l;
    return m;
}

void* dyn_shared() { return dyn_buf; }

void trap(const char* file, int line) {
    set_fail(ERR_LAUNCH_FAILED, where() + ": __trap() at " + site(file, line) + " in thread " + std::to_string(L.cur->tid));
    abandon();
}

void note_fp_atomic(const void* p, int bytes) { fp_targets[(uintptr_t)p] = bytes; }

// ================================================================================================ host API

int fail(int code, const std::string& msg) {
    std::lock_guard<std::mutex> g(err_mu);
    err_code = code;
    err_msg = msg;
    if (!quiet) fprintf(stderr, "[cuda-emu] %s\n", msg.c_str());
    return code;
}
int last_error_code() {
    std::lock_guard<std::mutex> g(err_mu);
    return err_code;
}
std::string last_error() {
    std::lock_guard<std::mutex> g(err_mu);
    return err_msg;
}
void set_quiet(bool q) { quiet = q; }

Kernel* add_kernel(const char* name, void* fn, void (*tramp)(void*, void**), std::vector<const std::type_info*> types,
                   std::vector<bool> is_ptr, int regs, int static_smem) {
    Registry& r = registry();
    std::lock_guard<std::mutex> g(r.mu);
    Kernel*& k = r.by_name[name];
    if (!k) k = new Kernel{name, fn, tramp, std::move(types), std::move(is_ptr), regs, static_smem, -1};
    r.by_fn[fn] = k;
    return k;
}
Kernel* find_kernel(const char* name) {
    Registry& r = registry();
    std::lock_guard<std::mutex> g(r.mu);
    auto it = r.by_name.find(name);
    return it == r.by_name.end() ? nullptr : it->second;
}
Kernel* find_kernel(const void* fn) {
    Registry& r = registry();
    std::lock_guard<std::mutex> g(r.mu);
    auto it = r.by_fn.find(fn);
    return it == r.by_fn.end() ? nullptr : it->second;
}
std::vector<Kernel*> kernels() {
    Registry& r = registry();
    std::lock_guard<std::mutex> g(r.mu);
    std::vector<Kernel*> v;
    for (auto& [n, k] : r.by_name) v.push_back(k);
    return v;
}

bool check_arg_types(Kernel* k, const std::type_info* const* types, size_t n) {
    if (n != k->types.size()) {
        fail(ERR_INVALID_VALUE, "launch " + k->name + ": " + std::to_string(n) + " arguments for " +
                                    std::to_string(k->types.size()) + " parameters");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (*types[i] != *k->types[i]) {
            fail(ERR_INVALID_VALUE, "launch " + k->name + ": argument " + std::to_string(i) + " has type " +
                                        types[i]->name() + ", the parameter " + k->types[i]->name() +
                                        " (mangled names)");
            return false;
        }
    }
    return true;
}

int launch(Kernel* k, dim3 grid, dim3 block, unsigned dyn, void** params) {
    if (!k) return fail(ERR_INVALID_HANDLE, "cuLaunchKernel: no kernel (NULL function handle)");
    std::lock_guard<std::mutex> lock(launch_mu);
    st.launches++;
    auto bad = [&](int code, const std::string& why) { return fail(code, "cuLaunchKernel(" + k->name + "): " + why); };
    auto d3 = [](dim3 d) { return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")"; };
    // The checks a GPU makes before running anything.
    if (!block.x || !block.y || !block.z || !grid.x || !grid.y || !grid.z)
        return bad(ERR_INVALID_VALUE, "grid " + d3(grid) + " / block " + d3(block) + " has a zero dimension");
    if (block.x > (unsigned)MAX_BLOCK_X || block.y > (unsigned)MAX_BLOCK_Y || block.z > (unsigned)MAX_BLOCK_Z)
        return bad(ERR_INVALID_VALUE, "block " + d3(block) + " exceeds the block dimension limits (1024,1024,64)");
    unsigned long long threads = (unsigned long long)block.x * block.y * block.z;
    if (threads > (unsigned)MAX_THREADS)
        return bad(ERR_INVALID_VALUE, "block " + d3(block) + " has " + std::to_string(threads) + " threads > 1024");
    if (grid.x > MAX_GRID_X || grid.y > MAX_GRID_YZ || grid.z > MAX_GRID_YZ)
        return bad(ERR_INVALID_VALUE, "grid " + d3(grid) + " exceeds the grid dimension limits (2^31-1,65535,65535)");
    int stat = std::max(k->static_smem, 0);
    int max_dyn = k->max_dyn_smem >= 0 ? k->max_dyn_smem : SMEM_DEFAULT - stat;
    if ((long long)dyn > max_dyn)
        return bad(ERR_INVALID_VALUE,
                   std::to_string(dyn) + " bytes of dynamic shared memory + " +
                       (k->static_smem >= 0 ? std::to_string(stat) + " static" : std::string("(unknown) static")) +
                       (k->max_dyn_smem >= 0 ? " > the opted-in maximum of " + std::to_string(k->max_dyn_smem) + " dynamic"
                                             : " > 48 KiB (above that needs cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES))"));
    // Registers are allocated per warp: a whole warp's worth even for a partial last warp.
    unsigned long long regs = (unsigned long long)std::max(k->regs, 0) * ((threads + 31) / 32 * 32);
    if (regs > (unsigned long long)REGS_PER_BLOCK)
        return bad(ERR_OUT_OF_RESOURCES, std::to_string(k->regs) + " registers x " + std::to_string(threads) +
                                             " threads = " + std::to_string(regs) + " > 65536 registers per block");
    if (!params && !k->types.empty())
        return bad(ERR_INVALID_VALUE, "kernelParams is NULL (the `extra` form is not supported by the emulator)");
    if (!grow_fibers(threads)) return bad(ERR_OUT_OF_MEMORY, "cannot map fiber stacks");

    L.k = k, L.params = params, L.grid = grid, L.block = block, L.dyn = dyn;
    L.n = (int)threads;
    L.th.resize(threads);
    L.groups.assign((threads + 31) / 32, {});
    L.wep.assign((threads + 31) / 32, 0);
    L.failed = false;
    L.code = OK;
    L.msg.clear();
    int r;
    if (racecheck()) {
        r = run_checked();
    } else {
        L.rc = L.desc = false;
        r = run_grid();
    }
    tls_cur = nullptr;
    return r == OK ? OK : fail(r, L.msg);
}

void set_racecheck(bool on) { rc_mode = on; }
bool racecheck() {
    if (rc_mode < 0) {
        const char* e = getenv("MLIP_EMU_RACECHECK");
        rc_mode = e && *e && strcmp(e, "0") != 0;
    }
    return rc_mode;
}

void* dev_alloc(size_t n) {
    size_t total = (n + ALIGN - 1) / ALIGN * ALIGN + REDZONE;
    void* p = aligned_alloc(ALIGN, total);
    if (!p) return nullptr;
    memset(p, 0xFF, n);
    memset(static_cast<char*>(p) + n, REDZONE_BYTE, total - n);
    std::lock_guard<std::mutex> g(mem_mu);
    allocs[(uintptr_t)p] = Alloc{n, total};
    in_use += n;
    return p;
}

bool dev_free(void* p) {
    std::lock_guard<std::mutex> g(mem_mu);
    auto it = allocs.find((uintptr_t)p);
    if (it == allocs.end()) return false;
    in_use -= it->second.size;
    allocs.erase(it);
    free(p);
    return true;
}

bool dev_range_ok(const void* p, size_t n) {
    if (n == 0) return true;
    std::lock_guard<std::mutex> g(mem_mu);
    auto it = allocs.upper_bound((uintptr_t)p);
    if (it == allocs.begin()) return false;
    --it;
    return (uintptr_t)p + n <= it->first + it->second.size;
}

size_t dev_bytes_in_use() {
    std::lock_guard<std::mutex> g(mem_mu);
    return in_use;
}

Stats stats() { return st; }

}  // namespace emu
