#!/usr/bin/env bash
# build-kernels.sh — builds everything native in cuda-kernels; Maven calls it (see pom.xml).
#
#   build-kernels.sh build <target-dir>   PTX for compute_80 and compute_90 into the jar's resources,
#                                          ptxas' resource report for sm_80 and sm_90, the emulator
#                                          libraries (libcuda.so.1, libcublas.so.12)
#   build-kernels.sh check <target-dir>   runs the emulator's race harness
#
# A missing tool skips its part with a message (no nvcc: no PTX, so device `cuda` cannot load kernels;
# no g++: no emulator, so device `cuda-emu` is unavailable and its tests fail loudly). The build fails
# when a kernel spills registers or uses local memory, or when the PTX entry names differ from the
# kernels the emulator registers.
set -euo pipefail

mode=${1:?usage: build-kernels.sh build|check <target-dir>}
target=${2:?usage: build-kernels.sh build|check <target-dir>}
here=$(cd "$(dirname "$0")" && pwd)
src="$here/src/main/cuda"
res="$target/classes/mlip/cuda"
emu_out="$res/emu"
report="$target/ptxas-report.txt"
limits="$target/ptxas-limits-sm_80.txt"

# The kernels every .cu file declares: what the emulator registers and what the PTX must contain.
declared_kernels() {
    grep -ohP 'extern "C" __global__ void \K\w+' "$src"/*.cu | sort
}

build_ptx() {
    if ! command -v nvcc >/dev/null || ! command -v ptxas >/dev/null; then
        echo "cuda-kernels: nvcc/ptxas not found: skipping PTX and the ptxas report (device 'cuda' needs them)"
        return
    fi
    local stamp="$target/ptx.stamp"
    if [[ -f "$stamp" && -f "$report" ]] && [[ -z $(find "$src" -newer "$stamp" -type f | head -1) ]]; then
        echo "cuda-kernels: PTX up to date"
        return
    fi
    mkdir -p "$res/ptx/compute_80" "$res/ptx/compute_90" "$target/ptxas"
    echo "cuda-kernels: nvcc -> PTX (compute_80, compute_90), ptxas report (sm_80, sm_90)"
    # One job per (file, arch), two at a time: nvcc is single-threaded.
    local jobs=()
    for cu in "$src"/*.cu; do
        for cc in 80 90; do jobs+=("$cu $cc"); done
    done
    printf '%s\n' "${jobs[@]}" | xargs -P 2 -L 1 bash -c '
        cu=$0; cc=$1; fam=$(basename "$cu" .cu)
        ptx='"$res"'/ptx/compute_$cc/$fam.ptx
        nvcc -ptx -std=c++17 -arch=compute_$cc -I'"$src"' -o "$ptx" "$cu"
        # -Werror with -warn-spills/-warn-lmem-usage: a kernel that spills or uses local memory fails the build.
        ptxas -arch=sm_$cc -v -warn-spills -warn-lmem-usage -Werror -o /dev/null "$ptx" \
            > '"$target"'/ptxas/$fam.sm_$cc.log 2>&1 || { cat '"$target"'/ptxas/$fam.sm_$cc.log; exit 255; }
    '
    # The report: one line per (arch, kernel) from ptxas -v.
    {
        printf '%-6s %-44s %5s %7s %11s %10s %6s\n' arch kernel regs smem spill_store spill_load stack
        for log in "$target"/ptxas/*.log; do
            awk '
                /Compiling entry function/ { match($0, /'"'"'[^'"'"']+'"'"'/); k = substr($0, RSTART+1, RLENGTH-2);
                                             match($0, /sm_[0-9]+/); arch = substr($0, RSTART, RLENGTH) }
                /bytes stack frame/ { for (i = 1; i <= NF; i++) { if ($i == "stack") stack = $(i-2) + 0;
                                          if ($i == "stores,") st = $(i-3) + 0; if ($i == "loads") sl = $(i-3) + 0 } }
                /Used [0-9]+ registers/ { regs = 0; smem = 0;
                    for (i = 1; i <= NF; i++) { if ($i ~ /^registers/) regs = $(i-1) + 0;
                                                if ($i == "smem," || $i == "smem") smem = $(i-2) + 0 }
                    printf "%-6s %-44s %5d %7d %11d %10d %6d\n", arch, k, regs, smem, st, sl, stack }
            ' "$log"
        done | sort -k1,1 -k2,2
    } > "$report"
    awk 'NR > 1 && $1 == "sm_80" { print $2, $3, $4 }' "$report" > "$limits"
    # Every production kernel must be spill-free (ptxas -Werror already enforced it; say so plainly).
    if awk 'NR > 1 && ($5 > 0 || $6 > 0) { bad = 1; print "spill: " $0 } END { exit bad }' "$report"; then :; else
        echo "cuda-kernels: register spills (see $report)"; exit 1
    fi
    # PTX entry names == the kernels the emulator registers.
    for cc in 80 90; do
        if ! diff <(grep -ohP '^\.visible \.entry \K\w+' "$res"/ptx/compute_$cc/*.ptx | sort) <(declared_kernels) > "$target/ptx-names.diff"; then
            echo "cuda-kernels: PTX entries (compute_$cc) differ from the kernels the sources declare:"
            cat "$target/ptx-names.diff"; exit 1
        fi
    done
    touch "$stamp"
    echo "cuda-kernels: $(($(wc -l < "$report") - 1)) (arch, kernel) entries in $report, 0 spill bytes"
}

build_emulator() {
    if ! command -v g++ >/dev/null; then
        echo "cuda-kernels: g++ not found: skipping the emulator (device 'cuda-emu' will be unavailable)"
        return
    fi
    local stamp="$target/emu.stamp"
    if [[ -f "$stamp" && -f "$emu_out/libcuda.so.1" ]] &&
       [[ -z $(find "$src" "$here/src/main/emu" "$here/src/test/emu" -newer "$stamp" -type f | head -1) ]]; then
        echo "cuda-kernels: emulator up to date"
        return
    fi
    mkdir -p "$emu_out"
    echo "cuda-kernels: g++ -> emulator (libcuda.so.1, libcublas.so.12, race harness)"
    if [[ -f "$limits" ]]; then
        bash "$here/src/main/emu/build-emu.sh" "$emu_out" "$limits"
    else
        bash "$here/src/main/emu/build-emu.sh" "$emu_out"
    fi
    touch "$stamp"
}

case "$mode" in
    build)
        build_ptx
        build_emulator
        ;;
    check)
        if [[ ! -x "$emu_out/race_harness" ]]; then
            echo "cuda-kernels: no race harness built (g++ missing?): skipping the race check"
            exit 0
        fi
        bash "$here/src/main/emu/build-emu.sh" --check "$emu_out"
        ;;
    *) echo "usage: build-kernels.sh build|check <target-dir>" >&2; exit 2 ;;
esac
