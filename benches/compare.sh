#!/usr/bin/env bash
# benches/compare.sh: time hexroot's tools against Debian's mescc-tools on the same large input.
#
# Usage: benches/compare.sh [WORKDIR]        (default WORKDIR: target/bench-compare)
# Needs: bash, awk, cargo, cmp; /usr/bin/time if present (else peak memory is read from /proc).
# Environment: FUNCTIONS (size of the generated program, default 60000 ~ 40 MB of M1),
#              RUNS (best of N, default 3), SECTIONS (default "hex2"; each NAME runs the
#              function section_NAME, so another tool's section can be appended below).
#
# Steps: generate M1 input with ../shared/bench/gen-large-m1.sh, turn it into hex2 with
# Debian's M1 (/usr/bin/M1, mescc-tools 1.4.0; installed with apt-get if missing), then
# run Debian's /usr/bin/hex2 and ours (release build) on the same files, check the outputs
# are identical, and print times, the speed ratio and the peak memory (RSS) of each.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$ROOT/target/bench-compare}
FUNCTIONS=${FUNCTIONS:-60000}
RUNS=${RUNS:-3}
SECTIONS=${SECTIONS:-hex2}
OURS=$ROOT/target/release

ensure_debian_tools() {
    if [ ! -x /usr/bin/M1 ] || [ ! -x /usr/bin/hex2 ]; then
        echo "installing Debian's mescc-tools" >&2
        apt-get install -y mescc-tools >&2
    fi
}

build_hexroot() {
    (cd "$ROOT" && cargo build --release --quiet -p hex2 --bins)
}

# gen_inputs: $WORK/large.M1, $WORK/elf.hex2 and $WORK/large.hex2 (Debian M1's output).
gen_inputs() {
    mkdir -p "$WORK"
    if [ ! -s "$WORK/large.M1" ]; then
        sh "$ROOT/../shared/bench/gen-large-m1.sh" "$WORK" "$FUNCTIONS"
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

# measure CMD...: runs CMD RUNS times; sets SECONDS_BEST (wall seconds of the fastest run)
# and PEAK_KB (peak resident set of that run, in KiB).
measure() {
    SECONDS_BEST=""
    PEAK_KB=""
    local i t kb start end
    for ((i = 0; i < RUNS; i++)); do
        if [ -x /usr/bin/time ]; then
            start=$(date +%s.%N)
            /usr/bin/time -f %M -o "$WORK/.peak" "$@" >/dev/null 2>"$WORK/.stderr"
            end=$(date +%s.%N)
            kb=$(tail -n 1 "$WORK/.peak")
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
            kb=$hwm
        fi
        t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
        if [ -z "$SECONDS_BEST" ] || awk -v a="$t" -v b="$SECONDS_BEST" 'BEGIN { exit !(a < b) }'; then
            SECONDS_BEST=$t
            PEAK_KB=$kb
        fi
    done
}

size_of() { wc -c <"$1" | tr -d ' '; }

# report NAME INPUT_BYTES REF_S REF_KB OUR_S OUR_KB
report() {
    awk -v name="$1" -v in_b="$2" -v rs="$3" -v rk="$4" -v os="$5" -v ok="$6" 'BEGIN {
        printf "%-6s input %.1f MB\n", name, in_b / 1e6
        printf "  debian   %8.3f s  peak %8.1f MB\n", rs, rk / 1024
        printf "  hexroot  %8.3f s  peak %8.1f MB  (%.1f MB/s)\n", os, ok / 1024, in_b / 1e6 / (os > 0 ? os : 0.001)
        printf "  speed-up %.1fx; hexroot peak memory is %.2f of the input size\n", rs / (os > 0 ? os : 0.001), ok * 1024 / in_b
    }'
}

section_hex2() {
    local input_bytes
    input_bytes=$(($(size_of "$WORK/elf.hex2") + $(size_of "$WORK/large.hex2") + $(size_of "$WORK/numbers.hex2")))
    local args=(--architecture x86 --little-endian --base-address 0x8048000
        -f "$WORK/elf.hex2" -f "$WORK/large.hex2" -f "$WORK/numbers.hex2")
    measure /usr/bin/hex2 "${args[@]}" -o "$WORK/debian.bin"
    local rs=$SECONDS_BEST rk=$PEAK_KB
    measure "$OURS/hex2" "${args[@]}" -o "$WORK/hexroot.bin"
    local os=$SECONDS_BEST ok=$PEAK_KB
    if cmp -s "$WORK/debian.bin" "$WORK/hexroot.bin"; then
        echo "hex2: outputs identical ($(size_of "$WORK/hexroot.bin") bytes)"
    else
        echo "hex2: OUTPUTS DIFFER" >&2
        exit 1
    fi
    report hex2 "$input_bytes" "$rs" "$rk" "$os" "$ok"
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
