#!/usr/bin/env bash
# benches/chain_estimate.sh [WORKDIR]: how long hexroot's tools take for the assembler and
# linker work of a full x86 stage0-posix chain (issue 8's target: under 1 s for its 88
# steps), measured on synthetic inputs of the same size, side by side with Debian's
# mescc-tools (the speed peer) where it has the tool.
#
# Sizes (spec/seed-tools.md §3, §8): the chain's 20 full hex2 runs link about
# 66,000 label pointers and its 7 hex2-0 runs about 16,000; its 21 M1 and 22 blood-elf runs
# read the M1 programs those come from. gen-large-m1.sh writes about 2.8 pointers per
# function, so FUNCTIONS=23000 gives the full-hex2 volume in one program (about 16 MB of
# M1, more text per pointer than real M2-Planet output, so this overestimates) and a
# 6,000-function program the hex2-0 volume. One run per tool on the whole volume stands
# for the chain's many smaller runs (our tools are linear; process start-up is extra).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$ROOT/target/chain-estimate}
OURS=$ROOT/target/release
mkdir -p "$WORK/full" "$WORK/seed"
(cd "$ROOT" && cargo build --release --quiet -p hex2 -p m1 -p hex0 --bins)
# The chain's one hex1 step (a few KB) is not modelled: it is below the timer's resolution.
[ -s "$WORK/full/large.M1" ] || sh "$ROOT/benches/gen-large-m1.sh" "$WORK/full" 23000
[ -s "$WORK/seed/large.M1" ] || sh "$ROOT/benches/gen-large-m1.sh" "$WORK/seed" 6000
cd "$WORK"
X86=(--architecture x86 --little-endian)

# cpu CMD...: user+system seconds of one run (output discarded).
cpu() {
    /usr/bin/time -f "%U %S" -o .time "$@" >/dev/null 2>.stderr || { cat .stderr >&2; exit 1; }
    awk '{ printf "%.3f", $1 + $2 }' .time
}

step() { # NAME OURS_SECONDS [DEBIAN_SECONDS]
    printf '  %-34s %7s s' "$1" "$2"
    [ -n "${3:-}" ] && printf '   debian %7s s' "$3"
    printf '\n'
}

echo "synthetic x86-chain volume: $(wc -c <full/large.M1) + $(wc -c <seed/large.M1) bytes of M1"
total=0
add() { total=$(awk -v a="$total" -v b="$1" 'BEGIN { printf "%.3f", a + b }'); }

o=$(cpu "$OURS/M1" "${X86[@]}" -f full/large.M1 -o full/large.hex2)
d=$(cpu /usr/bin/M1 "${X86[@]}" -f full/large.M1 -o full/debian.hex2)
step "M1 (21 runs' volume)" "$o" "$d"; add "$o"
o=$(cpu "$OURS/blood-elf" --little-endian -f full/large.M1 -o full/footer.M1)
d=$(cpu /usr/bin/blood-elf --little-endian -f full/large.M1 -o full/debian-footer.M1)
step "blood-elf (22 runs' volume)" "$o" "$d"; add "$o"
grep -o '&0x[0-9a-fA-F]*' full/debian.hex2 | sort -u | sed 's/^&/:/' >full/numbers.hex2 || true
o=$(cpu "$OURS/hex2" "${X86[@]}" --base-address 0x8048000 -f full/elf.hex2 -f full/large.hex2 -o full/large.bin)
d=$(cpu /usr/bin/hex2 "${X86[@]}" --base-address 0x8048000 -f full/elf.hex2 -f full/debian.hex2 -f full/numbers.hex2 -o full/debian.bin)
step "hex2 (20 runs' volume)" "$o" "$d"; add "$o"
"$OURS/M1" "${X86[@]}" -f seed/large.M1 -o seed/large.hex2
cat seed/elf.hex2 seed/large.hex2 >seed/in.hex2
o=$(cpu "$OURS/hex2" --seed-hex2-0 --architecture x86 seed/in.hex2 seed/out.bin)
step "hex2-0 (7 runs' volume)" "$o"; add "$o"
o=$(cpu "$OURS/M0" --architecture x86 seed/large.M1 seed/m0.hex2)
step "M0 (4 runs' volume)" "$o"; add "$o"
o=$(cpu "$OURS/catm" seed/cat.out seed/large.M1 full/footer.M1)
step "catm (10 runs' volume)" "$o"; add "$o"
"$ROOT/target/release/hex0" "$ROOT/seeds/x86/hex0.hex0" seed/hex0.bin
o=$(cpu "$OURS/hex0" "$ROOT/seeds/x86/hex0.hex0" seed/hex0.bin)
step "hex0 (per run, 3 runs)" "$o"; add "$o"; add "$o"; add "$o"
echo "  total, our tools: $total s (target: under 1 s for the chain's 88 steps)"
