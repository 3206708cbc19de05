#!/bin/sh
# Replays a stage0-posix chain with `crossverify replay --exec native` and then with
# `--exec emulated` (every program that is not one of hexroot's tools runs in hexroot's
# Linux user-mode machine), side by side, and prints both wall and CPU times, their ratios
# and the guest instructions the emulated run executed and fast-forwarded.
#
#   benches/replay_vs_native.sh STAGE0_POSIX_DIR [x86|amd64|aarch64|riscv32|riscv64] [REPLAY OPTIONS...]
#
# STAGE0_POSIX_DIR is a stage0-posix checkout with its submodules; it is never written:
# each run gets its own copy in a temporary directory. Both runs use `--tools ours
# --host-cc none --answers ARCH.answers` (plus any options given) and must succeed with
# every answer matched. With REPORTS=DIR the two replay reports are kept there
# (native.report, emulated.report). Needs `cargo build --release -p crossverify` and, for
# the native run, a kernel that runs the architecture's binaries; on an x86-64 host the
# foreign chains' native run goes through qemu-user (`qemu-ARCH` on PATH, or pass
# `--qemu DIR`), so for them the script compares hexroot's machine with qemu-user.
set -eu
src=${1:?usage: benches/replay_vs_native.sh STAGE0_POSIX_DIR [x86|amd64|aarch64|riscv32|riscv64] [OPTIONS...]}
arch=${2:-x86}
[ $# -ge 2 ] && shift 2 || shift $#
case $arch in
    x86|amd64|aarch64|riscv32|riscv64) ;;
    *) echo "unknown architecture '$arch': expected x86, amd64, aarch64, riscv32 or riscv64" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")/.." && pwd)
cv=${CROSSVERIFY:-${CARGO_TARGET_DIR:-$here/target}/release/crossverify}
[ -x "$cv" ] || { echo "no $cv: run cargo build --release -p crossverify first" >&2; exit 1; }
[ -f "$src/kaem.$arch" ] || { echo "$src is not a stage0-posix checkout (no kaem.$arch)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {
    mode=$1; shift
    cp -a "$src" "$tmp/$mode"
    if [ -x /usr/bin/time ]; then
        (cd "$tmp/$mode" && /usr/bin/time -f '%e %U %S' -o "$tmp/$mode.time" "$cv" replay \
            "kaem.$arch" --root . --tools ours --host-cc none --answers "$arch.answers" \
            --exec "$mode" --report "$tmp/$mode.report" "$@" > "$tmp/$mode.out" 2> "$tmp/$mode.err") \
            || { echo "the $mode replay failed:" >&2; tail -20 "$tmp/$mode.err" >&2; exit 1; }
    else
        start=$(date +%s.%N)
        (cd "$tmp/$mode" && "$cv" replay "kaem.$arch" --root . --tools ours --host-cc none \
            --answers "$arch.answers" --exec "$mode" --report "$tmp/$mode.report" "$@" \
            > "$tmp/$mode.out" 2> "$tmp/$mode.err") \
            || { echo "the $mode replay failed:" >&2; tail -20 "$tmp/$mode.err" >&2; exit 1; }
        end=$(date +%s.%N)
        awk "BEGIN { print $end - $start, 0, 0 }" > "$tmp/$mode.time"
    fi
    rm -rf "$tmp/$mode"
}
run native "$@"
run emulated "$@"
if [ -n "${REPORTS:-}" ]; then
    mkdir -p "$REPORTS" && cp "$tmp/native.report" "$tmp/emulated.report" "$REPORTS/"
fi
read -r nw nu ns < "$tmp/native.time"
read -r ew eu es < "$tmp/emulated.time"
insns=$(sed -n 's/.*exec: emulated (\([0-9]*\) instructions.*/\1/p' "$tmp/emulated.report" \
    | awk '{ t += $1 } END { printf "%.0f", t }')
printf 'replay kaem.%s --tools ours:\n' "$arch"
printf '  native:   %6.1f s wall, %6.1f s CPU (%.1f user + %.1f system)\n' "$nw" "$(awk "BEGIN { print $nu + $ns }")" "$nu" "$ns"
printf '  emulated: %6.1f s wall, %6.1f s CPU (%.1f user + %.1f system), %s guest instructions\n' "$ew" "$(awk "BEGIN { print $eu + $es }")" "$eu" "$es" "$insns"
printf '  emulated/native: %.2f wall, %.2f CPU\n' "$(awk "BEGIN { print $ew / $nw }")" "$(awk "BEGIN { print ($eu + $es) / ($nu + $ns) }")"
tail -1 "$tmp/native.err" | sed 's/^/  native:   /'
tail -1 "$tmp/emulated.err" | sed 's/^/  emulated: /'
