#!/usr/bin/env bash
# Export qcode's code matrices and frequencies into a dated folder, using only the CLI.
#
#   examples/batch_export.sh [-p PROJECT] [-o DIR] [-c CODER]... [--all-coders]
#                            [--strict] [--force] [--dry-run] [ATTR ...]
#
# For every attribute ATTR (default: school informant_group) it writes into DIR
# (default: PROJECT/exports/YYYY-MM-DD, today's date):
#
#   codes-by-ATTR-segments.csv  .xlsx   coded segments per code and value
#   codes-by-ATTR-documents.csv .xlsx   transcripts with the code, per code and value
#   frequencies-by-ATTR.json            segments, documents, coders and words per code and value
#
# and frequencies.json for the whole project. Parents count their children's segments
# (--rollup). The counts are the primary coder's (qcode.yaml: primary_coder) unless
# -c CODER (repeatable) or --all-coders says otherwise.
#
# It runs `qcode check` first and stops with check's exit code (1) when the project has
# errors (with --strict: warnings too), before writing anything. It never replaces an
# existing file unless --force. --dry-run prints the commands instead of running them.
# PROJECT defaults to $QCODE_PROJECT, else the current folder. Set QCODE=/path/to/qcode to
# run another qcode than the one on PATH.
#
# Exit codes: 0 done; 1 check found problems, or a file exists; 2 usage error or no
# project; otherwise the exit code of the qcode command that failed (see `qcode --help`).

# No `set -u`: the bash 3.2 of macOS treats an empty array "${a[@]}" as unset.
set -eo pipefail

qcode=${QCODE:-qcode}
project=${QCODE_PROJECT:-.}
out=""
strict=()
force=()
scope=()
dry_run=false
attributes=()

usage() {
    echo "usage: batch_export.sh [-p PROJECT] [-o DIR] [-c CODER]... [--all-coders]" \
         "[--strict] [--force] [--dry-run] [ATTR ...]"
}

die() {
    echo "batch_export: $1" >&2
    exit "${2:-2}"
}

while (($#)); do
    case $1 in
        -p | --project | -o | --out | -c | --coder)
            (($# > 1)) || die "$1 needs a value (see --help)"
            case $1 in
                -p | --project) project=$2 ;;
                -o | --out) out=$2 ;;
                *) scope+=(--coder "$2") ;;
            esac
            shift 2 ;;
        --all-coders) scope+=(--all-coders); shift ;;
        --strict) strict=(--strict); shift ;;
        --force) force=(--force); shift ;;
        --dry-run) dry_run=true; shift ;;
        -h | --help) usage; exit 0 ;;
        --) shift; attributes+=("$@"); break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) attributes+=("$1"); shift ;;
    esac
done
((${#attributes[@]})) || attributes=(school informant_group)
out=${out:-$project/exports/$(date +%F)}

# Every file this run writes, so that an earlier export is refused before any work.
targets=("$out/frequencies.json")
for attr in "${attributes[@]}"; do
    # The name becomes part of file names.
    [[ -n $attr && $attr != */* && $attr != -* ]] || die "'$attr' cannot be an attribute name"
    for measure in segments documents; do
        targets+=("$out/codes-by-$attr-$measure.csv" "$out/codes-by-$attr-$measure.xlsx")
    done
    targets+=("$out/frequencies-by-$attr.json")
done
if ! $dry_run && ((${#force[@]} == 0)); then
    for target in "${targets[@]}"; do
        if [[ -e $target ]]; then
            die "$target already exists; add --force to replace it, or -o another folder" 1
        fi
    done
fi

if ! $dry_run && ! command -v "$qcode" >/dev/null; then
    die "cannot run '$qcode': install qcode, activate its environment, or set QCODE" 127
fi

run() {
    if $dry_run; then
        printf '%q' "$1"
        printf ' %q' "${@:2}"
        printf '\n'
    else
        "$@"
    fi
}

q() { run "$qcode" --project "$project" "$@"; }

# A project with errors would give wrong numbers: stop before writing anything.
q check "${strict[@]}" || {
    status=$?
    echo "batch_export: qcode check failed; nothing exported" >&2
    exit "$status"
}

for attr in "${attributes[@]}"; do
    for measure in segments documents; do
        for suffix in csv xlsx; do
            q matrix --by "$attr" --measure "$measure" --rollup "${scope[@]}" \
                -o "$out/codes-by-$attr-$measure.$suffix" "${force[@]}"
        done
    done
    q freq --by "$attr" --rollup "${scope[@]}" --format json \
        -o "$out/frequencies-by-$attr.json" "${force[@]}"
done
q freq --rollup "${scope[@]}" --format json -o "$out/frequencies.json" "${force[@]}"

$dry_run || echo "batch_export: wrote ${#targets[@]} files to $out" >&2
