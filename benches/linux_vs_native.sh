#!/bin/sh
# Times a stage0-posix chain run natively and in hexroot's Linux user-mode machine,
# side by side, and prints both wall times and their ratio.
#
#   benches/linux_vs_native.sh STAGE0_POSIX_DIR [x86|amd64]
#
# STAGE0_POSIX_DIR is a stage0-posix checkout with its submodules; it is never written:
# each run gets its own copy (in a temporary directory), since the chain writes its
# artifacts into the checkout. The chain ends by checking ARCH.answers itself; both runs
# must succeed. Needs a release build of stage0-vm (cargo build --release -p stage0-vm)
# and, for the native run, a kernel that runs the architecture's binaries.
set -eu
src=${1:?usage: benches/linux_vs_native.sh STAGE0_POSIX_DIR [x86|amd64]}
arch=${2:-x86}
case $arch in
    x86) seed_dir=x86 ;;
    amd64) seed_dir=AMD64 ;;
    *) echo "unknown architecture '$arch': expected x86 or amd64" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")/.." && pwd)
vm=${STAGE0_VM:-${CARGO_TARGET_DIR:-$here/target}/release/stage0-vm}
[ -x "$vm" ] || { echo "no $vm: run cargo build --release -p stage0-vm first" >&2; exit 1; }
[ -d "$src/bootstrap-seeds/POSIX/$seed_dir" ] || { echo "$src is not a stage0-posix checkout with submodules" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a "$src" "$tmp/native"
cp -a "$src" "$tmp/emulated"
seconds() { date +%s.%N; }
run() {
    dir=$1; shift
    start=$(seconds)
    (cd "$dir" && "$@" "./bootstrap-seeds/POSIX/$seed_dir/kaem-optional-seed" "kaem.$arch" \
        > "$dir.out" 2> "$dir.err") || { echo "the run in $dir failed:" >&2; tail -20 "$dir.err" >&2; exit 1; }
    end=$(seconds)
    awk "BEGIN { print $end - $start }"
}
native=$(run "$tmp/native")
emulated=$(run "$tmp/emulated" "$vm" run --quiet)
printf 'chain kaem.%s: native %.1f s, emulated %.1f s, emulated/native %.2f\n' \
    "$arch" "$native" "$emulated" "$(awk "BEGIN { print $emulated / $native }")"
for f in "$tmp"/native/"$seed_dir"/bin/*; do
    cmp -s "$f" "$tmp/emulated/$seed_dir/bin/$(basename "$f")" \
        || { echo "differs: $seed_dir/bin/$(basename "$f")" >&2; exit 1; }
done
echo "every $seed_dir/bin/ tool is identical in both runs"
