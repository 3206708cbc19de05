#!/usr/bin/env bash
# benches/knight_vs_c.sh: hexroot's Knight VM against stage0's C VM built at -O2, side by
# side, on stage0's real Knight bootstrap chain (27 VM runs) and on hexroot's chain-like
# workload (stage0_vm::workload: a table-driven macro assembler in Knight code).
#
# Usage: benches/knight_vs_c.sh STAGE0_DIR [WORKDIR]   (default WORKDIR: target/knight-vs-c)
#   STAGE0_DIR: a checkout of stage0 (https://github.com/oriansj/stage0) with its `seed`
#   submodule (bootstrap-seeds: seed/NATIVE/knight/hex0-seed). Nothing in it is modified.
# Environment: RUNS (best of N, the two VMs alternating, default 3), CC (default gcc),
#   SECTIONS (default "workload chain").
# Needs: bash, a C compiler, cargo, sha256sum, cmp, /usr/bin/time.
#
# Every ROM the chain produces is checked against its expected SHA-256 (both VMs), and the
# workload's tape output of both VMs must be identical; the script fails otherwise.
# Prints wall and user+system CPU seconds (best of RUNS) and the ratios C / hexroot.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STAGE0=${1:?usage: benches/knight_vs_c.sh STAGE0_DIR [WORKDIR]}
STAGE0=$(cd "$STAGE0" && pwd)
WORK=${2:-$ROOT/target/knight-vs-c}
RUNS=${RUNS:-3}
CC=${CC:-gcc}
SECTIONS=${SECTIONS:-workload chain}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
TIME=/usr/bin/time

build() {
    echo "building the C VM at -O2 and hexroot's stage0-vm" >&2
    (cd "$STAGE0" && $CC -O2 -DVM32=true -Dtty_lib=true vm.c vm_globals.c vm_instructions.c \
        vm_halcode.c vm_decode.c tty.c functions/require.c functions/file_print.c \
        functions/match.c -o "$WORK/vm-c")
    (cd "$ROOT" && cargo build --release --quiet -p stage0-vm --bin stage0-vm --example knight_workload)
    local target=${CARGO_TARGET_DIR:-$ROOT/target}
    cp "$target/release/stage0-vm" "$WORK/vm-hexroot"
    cp "$target/release/examples/knight_workload" "$WORK/knight_workload"
}

# timed LABEL CMD...: runs CMD, appends "LABEL wall user+sys" to $WORK/times.
timed() {
    local label=$1
    shift
    "$TIME" -f "%e %U %S" -o "$WORK/time.out" "$@"
    awk -v l="$label" '{ printf "%s %s %.2f\n", l, $1, $2 + $3 }' "$WORK/time.out" >>"$WORK/times"
}

# The chain: one line per VM run (rom, tape_01, tape_02, memory), as stage0's makefile.
CHAIN='seed/NATIVE/knight/hex0-seed stage0/stage0_monitor.hex0 roms/stage0_monitor 16K
seed/NATIVE/knight/hex0-seed stage1/stage1_assembler-0.hex0 roms/stage1_assembler-0 16K
roms/stage1_assembler-0 stage1/stage1_assembler-1.hex0 roms/stage1_assembler-1 16K
roms/stage1_assembler-1 stage1/stage1_assembler-2.hex1 roms/stage1_assembler-2 16K
roms/stage1_assembler-2 stage1/SET.hex2 roms/SET 16K
roms/stage1_assembler-0 stage1/dehex.hex0 roms/DEHEX 16K
roms/stage1_assembler-2 stage1/M0-macro.hex2 roms/M0 48K
roms/M0 CAT_TEMP CAT_TEMP2 48K
roms/stage1_assembler-2 CAT_TEMP2 roms/CAT 48K
roms/M0 M0_TEMP M0_TEMP2 64K
roms/stage1_assembler-2 M0_TEMP2 roms/M0-compact 5K
roms/M0-compact lisp_TEMP lisp_TEMP2 9K
roms/stage1_assembler-2 lisp_TEMP2 roms/lisp 48K
roms/M0-compact cc_x86_TEMP cc_x86_TEMP2 9K
roms/stage1_assembler-2 cc_x86_TEMP2 roms/cc_x86 32K
roms/M0-compact cc_aarch64_TEMP cc_aarch64_TEMP2 9K
roms/stage1_assembler-2 cc_aarch64_TEMP2 roms/cc_aarch64 32K
roms/M0-compact cc_amd64_TEMP cc_amd64_TEMP2 9K
roms/stage1_assembler-2 cc_amd64_TEMP2 roms/cc_amd64 32K
roms/M0-compact cc_armv7l_TEMP cc_armv7l_TEMP2 9K
roms/stage1_assembler-2 cc_armv7l_TEMP2 roms/cc_armv7l 32K
roms/M0-compact cc_knight-posix_TEMP cc_knight-posix_TEMP2 9K
roms/stage1_assembler-2 cc_knight-posix_TEMP2 roms/cc_knight-posix 32K
roms/M0-compact cc_knight-native_TEMP cc_knight-native_TEMP2 9K
roms/stage1_assembler-2 cc_knight-native_TEMP2 roms/cc_knight-native 32K
roms/M0-compact forth_TEMP forth_TEMP2 9K
roms/stage1_assembler-2 forth_TEMP2 roms/forth 12K'

# Expected SHA-256 of every ROM from current sources (stage0's test/SHA256SUMS, except
# cc_x86, whose listed entry is stale, and the cc_* ROMs it does not list).
EXPECTED='13b45134a88c1c6db349cb40f82269cee9edfce71ac644dc0e137bad053bf5ce roms/stage1_assembler-0
156f555fce5b02f52445652b1ed0b443295706cdfbe23c5a021bd4efc77179bb roms/stage1_assembler-1
2c02c50958f489a660a4915d2a9e207a0c61f411d42628bdaf4dcf6bf7149a9d roms/stage1_assembler-2
a551568d72804a2de6f6f94fcb507452e9d672c7638beb170dde84a9bf7fb82a roms/stage0_monitor
059d38e34275029f2de5f600f08fe01bd13cd173f7da58e3fbec7114074beff2 roms/SET
662b14485df5da61c3f5ad63151932985914b2fe074c21798e20ba2d83b45ecc roms/DEHEX
cc31320b390d97409d54afb7c29171a12532aaa66487d1b2e3a0bb3ffe36dc15 roms/M0
695698ebc7ed1d3acbcded1bd832a6b49b9a7c2a37c216a9fccdc0e89e976e99 roms/CAT
5ca41c7051d9f889b5bc0f37310f2e52b617a4e0943e75313b1cf9b675b3df24 roms/M0-compact
96ade767f30e3d9037a6c597cefb103942c8ec104264a3551017f091b10646e1 roms/lisp
20bb83238f4692f6062e5b47530fdbd1f60dcf94f9d62b724176941931127a9f roms/cc_x86
d7c6715496e1dc3a55e5006f1834e7897e356cdaa9cf43dbd3707d471185854e roms/cc_aarch64
0ceacc6d0829b0e4e7db456ebd269fdf63ff47ea55c25bac7bebaea1f136a8a5 roms/cc_amd64
54d95e423b3e9124bddf79ad59f9a9bdc15e7d0b65ebce3c27ad4ab92000b974 roms/cc_armv7l
6d7e411eb9495a25d47075ac32fa8df0580e9ab81f2a542fbd8314107a7dbb2c roms/cc_knight-posix
64af648f37a4859035513f81fb56c68f26bfd4c67c37fabf7523c0cf047b7492 roms/cc_knight-native
f4bbf9e9c4828170d0c153ac265382dc705643f95efd2a029243326d426be5a4 roms/forth'

# chain_inputs DIR: the sources the chain reads, and the defs + source concatenations.
chain_inputs() {
    local dir=$1
    rm -rf "$dir"
    mkdir -p "$dir/roms" "$dir/seed/NATIVE/knight"
    cp -a "$STAGE0/stage0" "$STAGE0/stage1" "$STAGE0/stage2" "$dir/"
    cp "$STAGE0/seed/NATIVE/knight/hex0-seed" "$dir/seed/NATIVE/knight/"
    local defs=$STAGE0/High_level_prototypes/defs
    cat "$defs" "$STAGE0/stage1/CAT.s" >"$dir/CAT_TEMP"
    cat "$defs" "$STAGE0/stage1/M0-macro-compact.s" >"$dir/M0_TEMP"
    cat "$defs" "$STAGE0/stage2/lisp.s" >"$dir/lisp_TEMP"
    cat "$defs" "$STAGE0/stage2/forth.s" >"$dir/forth_TEMP"
    for cc in x86 aarch64 amd64 armv7l knight-posix knight-native; do
        cat "$defs" "$STAGE0/stage2/cc_$cc.s" >"$dir/cc_${cc}_TEMP"
    done
}

# run_chain VM DIR: the 27 runs in DIR.
run_chain() {
    local vm=$1 dir=$2
    cd "$dir"
    while read -r rom in out mem; do
        "$vm" --rom "$rom" --tape_01 "$in" --tape_02 "$out" --memory "$mem" >/dev/null 2>>"$dir/stderr"
    done <<<"$CHAIN"
}

check_chain() {
    local dir=$1
    (cd "$dir" && sha256sum --quiet -c - <<<"$EXPECTED") || {
        echo "FAIL: ROMs in $dir differ from the expected SHA-256" >&2
        exit 1
    }
}

section_chain() {
    for i in $(seq "$RUNS"); do
        for vm in c hexroot; do
            chain_inputs "$WORK/chain-$vm"
            export -f run_chain
            export CHAIN
            timed "chain $vm" bash -c 'run_chain "$0" "$1"' "$WORK/vm-$vm" "$WORK/chain-$vm"
            check_chain "$WORK/chain-$vm"
        done
    done
    # The heaviest single run: M0-compact on defs + cc_knight-posix.s (35.8 M instructions).
    for i in $(seq "$RUNS"); do
        for vm in c hexroot; do
            (cd "$WORK/chain-$vm" && timed "m0-compact-cc $vm" "$WORK/vm-$vm" --rom roms/M0-compact \
                --tape_01 cc_knight-posix_TEMP --tape_02 heavy_out --memory 9K >/dev/null 2>&1)
        done
    done
    cmp "$WORK/chain-c/heavy_out" "$WORK/chain-hexroot/heavy_out"
    echo "chain: all 17 ROMs match their expected SHA-256 on both VMs" >&2
}

section_workload() {
    "$WORK/knight_workload" "$WORK/workload" >&2
    local mem
    mem=$(cat "$WORK/workload.memory")
    for i in $(seq "$RUNS"); do
        for vm in c hexroot; do
            timed "workload $vm" "$WORK/vm-$vm" --rom "$WORK/workload.rom" --tape_01 "$WORK/workload.in" \
                --tape_02 "$WORK/workload.out.$vm" --memory "$mem" >/dev/null 2>"$WORK/workload.err.$vm"
        done
    done
    cmp "$WORK/workload.out.c" "$WORK/workload.expected"
    cmp "$WORK/workload.out.hexroot" "$WORK/workload.expected"
    cmp "$WORK/workload.err.c" "$WORK/workload.err.hexroot"
    echo "workload: tape output (as expected) and HALT line identical on both VMs: $(tr "\n" " " <"$WORK/workload.err.c")" >&2
}

report() {
    awk '
        { key = $1; vm = $2; w = $3; c = $4
          if (!((key, vm) in wall) || w < wall[key, vm]) wall[key, vm] = w
          if (!((key, vm) in cpu) || c < cpu[key, vm]) cpu[key, vm] = c
          if (!(key in seen)) { seen[key] = 1; order[n++] = key } }
        END {
          printf "%-14s %10s %10s %10s %10s %8s %8s\n", "best of runs", "C wall", "C cpu", "ours wall", "ours cpu", "x wall", "x cpu"
          for (i = 0; i < n; i++) { k = order[i]
            cw = wall[k, "c"]; cc = cpu[k, "c"]; hw = wall[k, "hexroot"]; hc = cpu[k, "hexroot"]
            printf "%-14s %10.2f %10.2f %10.2f %10.2f %8.1f %8.1f\n", k, cw, cc, hw, hc, \
                (hw > 0 ? cw / hw : 0), (hc > 0 ? cc / hc : 0) } }' "$WORK/times"
}

build
: >"$WORK/times"
for s in $SECTIONS; do
    "section_$s"
done
report
