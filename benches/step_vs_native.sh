#!/bin/sh
# Runs one program of a stage0-posix chain natively and in hexroot's Linux user-mode
# machine, side by side, and prints: both wall and CPU times, their ratio, the guest
# instructions it executed and guest instructions per second; with HOST_INSNS=N (and
# valgrind installed) also the host instructions per guest instruction over the first N
# guest instructions (valgrind --tool=callgrind).
#
#   benches/step_vs_native.sh DIR PROGRAM [ARGS...]
#
# DIR is the working directory of the step in a *copy* of a stage0-posix checkout where a
# native replay already produced the chain's artifacts (the program writes its outputs
# there: name them in /tmp or in the copy). Both runs must succeed with the same status
# and the same standard output. To compare two builds (before/after), run the script with
# STAGE0_VM=/path/to/each/stage0-vm. Example (the heaviest x86 step, M2 building M2-Planet,
# in x86/ of the copy; give the step's full -f list from the replay report):
#
#   benches/step_vs_native.sh /tmp/s0p/x86 ./artifact/M2 --architecture x86 \
#       -f ../M2libc/sys/types.h ... -f ../M2-Planet/cc.c --debug -o /tmp/M2-1.M1
set -eu
dir=${1:?usage: benches/step_vs_native.sh DIR PROGRAM [ARGS...]}
shift
[ $# -ge 1 ] || { echo "usage: benches/step_vs_native.sh DIR PROGRAM [ARGS...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
vm=${STAGE0_VM:-${CARGO_TARGET_DIR:-$here/target}/release/stage0-vm}
[ -x "$vm" ] || { echo "no $vm: run cargo build --release -p stage0-vm first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# times FILE: "wall user sys" as measured by the shell's `times`-free way: GNU time if
# present, else wall only.
measure() {
    out=$1; shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%e %U %S' -o "$out.time" "$@" > "$out.stdout" 2> "$out.stderr" || echo $? > "$out.status"
    else
        start=$(date +%s.%N)
        "$@" > "$out.stdout" 2> "$out.stderr" || echo $? > "$out.status"
        end=$(date +%s.%N)
        awk "BEGIN { print $end - $start, 0, 0 }" > "$out.time"
    fi
    [ -f "$out.status" ] || echo 0 > "$out.status"
}
cd "$dir"
measure "$tmp/native" "$@"
measure "$tmp/emulated" "$vm" run "$@"
ns=$(cat "$tmp/native.status"); es=$(cat "$tmp/emulated.status")
[ "$ns" = "$es" ] || { echo "exit status differs: native $ns, emulated $es" >&2; exit 1; }
cmp -s "$tmp/native.stdout" "$tmp/emulated.stdout" || { echo "standard output differs" >&2; exit 1; }
insns=$(sed -n 's/.* \([0-9][0-9]*\) instructions in .*/\1/p' "$tmp/emulated.stderr" | tail -1)
read -r nw nu nsy < "$tmp/native.time"
read -r ew eu esy < "$tmp/emulated.time"
awk -v nw="$nw" -v nu="$nu" -v ns="$nsy" -v ew="$ew" -v eu="$eu" -v es="$esy" -v n="${insns:-0}" 'BEGIN {
    printf "native:   wall %.2f s, cpu %.2f s (user %.2f, sys %.2f)\n", nw, nu + ns, nu, ns
    printf "emulated: wall %.2f s, cpu %.2f s (user %.2f, sys %.2f), %.0f guest instructions\n", ew, eu + es, eu, es, n
    printf "emulated/native: wall %.2f, cpu %.2f\n", ew / nw, (eu + es) / (nu + ns)
    if (eu + es > 0) printf "guest instructions per second (cpu): %.0f M\n", n / (eu + es) / 1e6
}'
if [ -n "${HOST_INSNS:-}" ] && command -v valgrind > /dev/null; then
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$vm" run --max-steps "$HOST_INSNS" "$@" \
        > /dev/null 2> "$tmp/cg.err" || true
    host=$(sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' "$tmp/cg.err" | tr -d ,)
    awk -v h="$host" -v n="$HOST_INSNS" 'BEGIN { printf "host instructions per guest instruction (first %d): %.1f\n", n, h / n }'
fi
