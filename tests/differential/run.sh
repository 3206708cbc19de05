#!/usr/bin/env bash
# Differential run of hexroot against the reference tools (not part of CI: it needs them).
#
#   bash tests/differential/run.sh REFS [COUNT] [TOOL...]
#
# REFS: a folder with mescc-tools/{hex2,M1,blood-elf,catm}, seed/x86/{hex0,hex1,hex2-0,M0,catm}
# and stage0/vm (how to build them: tests/differential/README.md). COUNT programs per tool
# (default 10000); TOOL names limit the run (hex2 M1 blood-elf catm hex0 hex1 hex2-0 M0
# seed-catm vm). SEED (environment, default 1) picks the programs. Unexplained cases are
# kept in KEEP (environment, default ./differential-cases). Exit 0: no unexplained difference.
set -euo pipefail
refs=$(cd "${1:?usage: run.sh REFS [COUNT] [TOOL...]}" && pwd)
count=${2:-10000}
shift $(( $# >= 2 ? 2 : 1 ))
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cargo build --release --quiet --workspace --bins --example differential
bin=${CARGO_TARGET_DIR:-$root/target}/release
umask 022
exec "$bin/examples/differential" "$refs" "$bin" "$count" "${SEED:-1}" "${KEEP:-$PWD/differential-cases}" "$@"
