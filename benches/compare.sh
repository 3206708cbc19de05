#!/usr/bin/env bash
# benches/compare.sh: time hexroot's tools against Debian's mescc-tools on the same large input.
#
# Usage: benches/compare.sh [WORKDIR]        (default WORKDIR: target/bench-compare)
# Needs: bash, awk, cargo, cmp; /usr/bin/time if present (else peak memory is read from /proc).
# Environment: FUNCTIONS (size of the generated program, default 60000 ~ 40 MB of M1),
#              RUNS (best of N, runs alternate between the two tools, default 5), SECTIONS (default "m1 hex2"; each NAME runs the
#              function section_NAME).
#
# Steps: generate M1 input with benches/gen-large-m1.sh (~40 MB); time Debian's M1
# (/usr/bin/M1, mescc-tools 1.4.0, installed with apt-get if missing) and ours on it; turn
# it into hex2 with Debian's M1, then time Debian's /usr/bin/hex2 and ours on the same
# files, check the outputs are identical, and print wall and CPU times, the speed ratios
# and the peak memory (RSS) of each. Debian's mescc-tools is the speed peer, not the
# correctness reference (1.4.0 differs from 1.7.0 in places: see section_m1).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$ROOT/target/bench-compare}
FUNCTIONS=${FUNCTIONS:-60000}
RUNS=${RUNS:-5}
SECTIONS=${SECTIONS:-m1 hex2}
OURS=$ROOT/target/release

ensure_debian_tools() {
    if [ ! -x /usr/bin/M1 ] || [ ! -x /usr/bin/hex2 ]; then
        echo "installing Debian's mescc-tools" >&2
        apt-get install -y mescc-tools >&2
    fi
}

build_hexroot() {
    (cd "$ROOT" && cargo build --release --quiet -p hex2 -p m1 --bins)
}

# gen_inputs: $WORK/large.M1, $WORK/elf.hex2 and $WORK/large.hex2 (Debian M1's output).
gen_inputs() {
    mkdir -p "$WORK"
    if [ ! -s "$WORK/large.M1" ]; then
        sh "$ROOT/benches/gen-large-m1.sh" "$WORK" "$FUNCTIONS"
    fi
    if [ ! -s "$WORK/large.hex2" ]; then
        /usr/bin/M1 --architecture x86 --little-endian -f "$WORK/large.M1" -o "$WORK/large.hex2"
    fi
    # Debian's M1 1.4.0 passes '&0x...' through as a label reference (M1 1.7.0 expresses it
    # as a number), so define each such "label" at the end for both linkers.
    if [ ! -e "$WORK/numbers.hex2" ]; then
        grep -o '&0x[0-9a-fA-F]*' "$WORK/large.hex2" | sort -u | sed 's/^&/:/' >"$WORK/numbers.hex2" || true
    fi
}

# run_once CMD...: runs CMD once; sets T (wall seconds), C (user + system seconds, empty when
# /usr/bin/time is missing) and KB (peak resident set, KiB).
run_once() {
    local start end
    if [ -x /usr/bin/time ]; then
        start=$(date +%s.%N)
        /usr/bin/time -f "%U %S %M" -o "$WORK/.time" "$@" >/dev/null 2>"$WORK/.stderr"
        end=$(date +%s.%N)
        C=$(awk '{ printf "%.3f", $1 + $2 }' "$WORK/.time")
        KB=$(awk '{ print $3 }' "$WORK/.time")
    else
        start=$(date +%s.%N)
        "$@" >/dev/null 2>"$WORK/.stderr" &
        local pid=$! hwm=0 v
        while kill -0 "$pid" 2>/dev/null; do
            v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
            if [ -n "$v" ] && [ "$v" -gt "$hwm" ]; then hwm=$v; fi
            sleep 0.005
        done
        wait "$pid"
        end=$(date +%s.%N)
        KB=$hwm
        C=""
    fi
    T=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
}

# less A B: whether A < B (B empty counts as infinity).
less() { [ -z "$2" ] || awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# measure_pair: runs the arrays REF_CMD and OUR_CMD alternately, RUNS times each, so that a
# change in machine speed during the script affects both alike. Sets REF_S / OUR_S (wall
# seconds of the fastest run), REF_CPU / OUR_CPU (user + system of the run with least CPU;
# the steadier figure on a shared machine) and REF_KB / OUR_KB (largest peak RSS, KiB).
measure_pair() {
    REF_S="" REF_CPU="" REF_KB=0 OUR_S="" OUR_CPU="" OUR_KB=0
    local i
    for ((i = 0; i < RUNS; i++)); do
        run_once "${REF_CMD[@]}"
        if less "$T" "$REF_S"; then REF_S=$T; fi
        if [ -n "$C" ] && less "$C" "$REF_CPU"; then REF_CPU=$C; fi
        if [ "$KB" -gt "$REF_KB" ]; then REF_KB=$KB; fi
        run_once "${OUR_CMD[@]}"
        if less "$T" "$OUR_S"; then OUR_S=$T; fi
        if [ -n "$C" ] && less "$C" "$OUR_CPU"; then OUR_CPU=$C; fi
        if [ "$KB" -gt "$OUR_KB" ]; then OUR_KB=$KB; fi
    done
    REF_CPU=${REF_CPU:-$REF_S}
    OUR_CPU=${OUR_CPU:-$OUR_S}
}

size_of() { wc -c <"$1" | tr -d ' '; }

# report NAME INPUT_BYTES REF_S REF_CPU REF_KB OUR_S OUR_CPU OUR_KB
report() {
    awk -v name="$1" -v in_b="$2" -v rs="$3" -v rc="$4" -v rk="$5" -v os="$6" -v oc="$7" -v ok="$8" 'BEGIN {
        printf "%-4s on %.1f MB of input\n", name, in_b / 1e6
        printf "  %-8s %8s %8s %10s %10s\n", "", "wall s", "cpu s", "peak MB", "peak/input"
        printf "  %-8s %8.3f %8.3f %10.1f %10.2f\n", "debian", rs, rc, rk / 1024, rk * 1024 / in_b
        printf "  %-8s %8.3f %8.3f %10.1f %10.2f\n", "hexroot", os, oc, ok / 1024, ok * 1024 / in_b
        printf "  speed-up: %.1fx wall, %.1fx cpu; hexroot %.0f MB/s\n", rs / (os > 0 ? os : 0.001), rc / (oc > 0 ? oc : 0.001), in_b / 1e6 / (os > 0 ? os : 0.001)
    }'
}

# section_m1: M1 on the generated program. Debian's M1 1.4.0 passes '&NUMBER' through as a
# label reference where 1.7.0 (our reference) writes a 4-byte number, so the outputs are
# compared after turning those tokens into the 1.7.0 form.
section_m1() {
    local args=(--architecture x86 --little-endian -f "$WORK/large.M1")
    cat "$WORK/large.M1" >/dev/null
    REF_CMD=(/usr/bin/M1 "${args[@]}" -o "$WORK/debian.M1.hex2")
    OUR_CMD=("$OURS/M1" "${args[@]}" -o "$WORK/hexroot.M1.hex2")
    measure_pair
    if cmp -s "$WORK/debian.M1.hex2" "$WORK/hexroot.M1.hex2"; then
        echo "M1: outputs identical"
    else
        echo "M1: outputs differ only where Debian's 1.4.0 keeps '&NUMBER' as a label (expected): $(cmp "$WORK/debian.M1.hex2" "$WORK/hexroot.M1.hex2" | head -1)"
    fi
    report M1 "$(size_of "$WORK/large.M1")" "$REF_S" "$REF_CPU" "$REF_KB" "$OUR_S" "$OUR_CPU" "$OUR_KB"
}

section_hex2() {
    local input_bytes
    input_bytes=$(($(size_of "$WORK/elf.hex2") + $(size_of "$WORK/large.hex2") + $(size_of "$WORK/numbers.hex2")))
    local args=(--architecture x86 --little-endian --base-address 0x8048000
        -f "$WORK/elf.hex2" -f "$WORK/large.hex2" -f "$WORK/numbers.hex2")
    REF_CMD=(/usr/bin/hex2 "${args[@]}" -o "$WORK/debian.bin")
    OUR_CMD=("$OURS/hex2" "${args[@]}" -o "$WORK/hexroot.bin")
    measure_pair
    if cmp -s "$WORK/debian.bin" "$WORK/hexroot.bin"; then
        echo "hex2: outputs identical ($(size_of "$WORK/hexroot.bin") bytes)"
    else
        echo "hex2: OUTPUTS DIFFER" >&2
        exit 1
    fi
    report hex2 "$input_bytes" "$REF_S" "$REF_CPU" "$REF_KB" "$OUR_S" "$OUR_CPU" "$OUR_KB"
}

main() {
    ensure_debian_tools
    build_hexroot
    gen_inputs
    for s in $SECTIONS; do
        "section_$s"
    done
}

main "$@"
