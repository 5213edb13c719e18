#!/usr/bin/env bash
# Runs every fuzz target in turn for SECONDS each (CI: `Fuzz/run-all.sh 30`); the first build compiles PulpKit for
# all of them.
# Keeps going after a failure so one run reports every failing target; exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ] || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: Fuzz/run-all.sh SECONDS" >&2
    exit 2
fi

failed=()
for target in iso8601 criteria evr manifest api; do
    Fuzz/run.sh "$target" "$1" || failed+=("$target")
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzzing failed: ${failed[*]} (inputs in Fuzz/crashes/)" >&2
    exit 1
fi
