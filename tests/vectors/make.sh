#!/usr/bin/env bash
# Makes one golden vector by running a reference tool (not part of CI: it needs the tool).
#
#   bash tests/vectors/make.sh REFERENCE DESCRIPTION CASE
#
# REFERENCE: the reference binary (mescc-tools 1.7.0 hex2, M1, blood-elf or catm; a seed
# tool; stage0's vm). DESCRIPTION: one line saying which reference it is and how it was
# built, recorded in `made`. CASE: a new case folder under tests/vectors/ holding `cmd`
# and the input files it names, nothing else. The reference runs in a scratch copy of CASE
# under umask 022, with an empty environment and stdin from `stdin` (or /dev/null); the
# script writes `exit`, `stderr`, `stdout`, the output (`expected`, with `mode` for hex2,
# catm and the seeds; for a knight/ case `tape_02.expected` and `signal`) and `made`: who
# made the case, when, and the exact command. It refuses a folder that already has an `exit`: existing vectors are
# never remade or edited.
set -euo pipefail
ref=$(realpath "${1:?usage: make.sh REFERENCE DESCRIPTION CASE}")
what=${2:?usage: make.sh REFERENCE DESCRIPTION CASE}
case_dir=$(realpath "${3:?usage: make.sh REFERENCE DESCRIPTION CASE}")
[ -f "$case_dir/cmd" ] || { echo "make.sh: $case_dir has no cmd" >&2; exit 2; }
[ ! -e "$case_dir/exit" ] || { echo "make.sh: $case_dir is already made" >&2; exit 2; }
knight=false
case $case_dir in */vectors/knight/*) knight=true ;; esac

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -a "$case_dir" "$scratch/case"
stdin=/dev/null
[ -f "$case_dir/stdin" ] && stdin=$case_dir/stdin
if $knight; then
    read -r -a args < "$case_dir/cmd"
else
    mapfile -t args < "$case_dir/cmd"
fi
status=0
(cd "$scratch/case" && env -i /bin/sh -c 'umask 022; exec "$0" "$@"' "$ref" "${args[@]}" \
    < "$stdin" > "$scratch/stdout" 2> "$scratch/stderr") || status=$?

echo "$status" > "$case_dir/exit"
cp "$scratch/stderr" "$case_dir/stderr"
if $knight; then
    cp "$scratch/stdout" "$case_dir/stdout"
    [ "$status" -gt 128 ] && echo $((status - 128)) > "$case_dir/signal"
    [ -f "$scratch/case/tape_02" ] && cp "$scratch/case/tape_02" "$case_dir/tape_02.expected"
else
    [ -s "$scratch/stdout" ] && cp "$scratch/stdout" "$case_dir/stdout"
    if [ "$status" -eq 0 ] && [ -f "$scratch/case/out" ]; then
        cp "$scratch/case/out" "$case_dir/expected"
        case $case_dir in
            */vectors/hex2/* | */vectors/catm/* | */vectors/seed/*)
                stat -c %a "$scratch/case/out" > "$case_dir/mode" ;;
        esac
    fi
fi
{
    echo "made by: hexroot's compatibility work (issue 15), $(date -u +%Y-%m-%d), with tests/vectors/make.sh"
    echo "reference: $what"
    printf 'command: cd CASE && env -i /bin/sh -c '\''umask 022; exec "$0" "$@"'\'' %q' "$ref"
    printf ' %q' "${args[@]}"
    printf ' < %s\n' "$( [ "$stdin" = /dev/null ] && echo /dev/null || echo stdin)"
    echo "result: exit $status"
} > "$case_dir/made"
echo "$case_dir: exit $status"
