#!/usr/bin/env bash
# Builds one libFuzzer target and runs it for SECONDS, starting from its seed corpus Fuzz/corpus/TARGET/:
#
#     Fuzz/run.sh TARGET SECONDS        # TARGET: iso8601, criteria, evr, manifest or api
#
# Prints `fuzz.TARGET.executions N`, `.cov N`, `.ft N` and `.corpus N` (libFuzzer's final figures). A crash, a
# failed check, a timeout or running out of memory exits non-zero and leaves the input in Fuzz/crashes/TARGET/.
# Inputs found along the way grow .build-fuzz/corpus/TARGET/, not the committed seeds; the whole libFuzzer log
# is .build-fuzz/logs/TARGET.log. FUZZ_CONFIGURATION=debug builds without optimisation (slower, better traces).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(iso8601 criteria evr manifest api)
usage() {
    echo "usage: Fuzz/run.sh TARGET SECONDS   (TARGET: ${targets[*]})" >&2
    exit 2
}
[ $# -eq 2 ] || usage
target=$1
seconds=$2
[[ " ${targets[*]} " == *" $target "* ]] || usage
[[ $seconds =~ ^[1-9][0-9]*$ ]] || usage

scratch=.build-fuzz
configuration=${FUZZ_CONFIGURATION:-release}
# -sanitize=fuzzer,address instruments every module for coverage and AddressSanitizer and links libFuzzer's main,
# which calls the target's @_cdecl("LLVMFuzzerTestOneInput"). It must be one flag: swiftc keeps only the last
# -sanitize=, and `--sanitize=fuzzer --sanitize=address` passes two in no fixed order, so a build silently lacks
# one or the other. `--sanitize=fuzzer` is still given so that SwiftPM leaves the entry point to libFuzzer.
# -parse-as-library because each target is one file without top-level code; lld links ASan without gold's warnings.
swift build --package-path Fuzz --scratch-path "$scratch" -c "$configuration" --sanitize=fuzzer \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld --product "fuzz-$target"

binary=$scratch/$configuration/fuzz-$target
work=$scratch/corpus/$target
crashes=Fuzz/crashes/$target
log=$scratch/logs/$target.log
mkdir -p "$work" "$crashes" "$(dirname "$log")"

options=(
    -max_total_time="$seconds"
    -timeout=20
    -print_final_stats=1
    -artifact_prefix="$crashes/"
    -dict="Fuzz/dict/$target.dict"
)
# Each API request runs as a Swift task, whose allocations outlive the input, so libFuzzer would stop for a full
# leak scan after every run (ten times slower); the parser targets keep leak detection.
# ASan's own leak check at exit is off for it too: a `Pulp`'s services and its dispatcher hold each other through
# registered task handlers, so every fuzzed instance stays allocated (a known issue: handlers should hold their
# services weakly).
if [ "$target" = api ]; then
    options+=(-detect_leaks=0)
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi

# libFuzzer reports crashes itself; Swift's own backtracer would race it (and trips over ASan's shadow memory).
export SWIFT_BACKTRACE=enable=no
echo "fuzzing $target for $seconds s: $binary ${options[*]} $work Fuzz/corpus/$target"
status=0
"$binary" "${options[@]}" "$work" "Fuzz/corpus/$target" 2>"$log" || status=$?

figure() { grep -o "$1 [0-9]*" "$log" | tail -n 1 | grep -o '[0-9]*$' || echo 0; }
executions=$(grep -o 'number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || true)
[ -n "$executions" ] || executions=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#' || echo 0)
echo "fuzz.$target.executions $executions"
echo "fuzz.$target.cov $(figure 'cov:')"
echo "fuzz.$target.ft $(figure 'ft:')"
echo "fuzz.$target.corpus $(figure 'corp:')"

if [ "$status" -eq 0 ] && ! grep -q 'INITED cov: [1-9]' "$log"; then
    echo "fuzz-$target reached no coverage: is $binary built with --sanitize=fuzzer? Delete $scratch and retry." >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "fuzz-$target failed (exit $status); from $log:" >&2
    grep -m 3 -E 'fuzz check failed|Fatal error|ERROR:' "$log" >&2 || true
    tail -n 12 "$log" >&2
    input=$(grep -o 'Test unit written to .*' "$log" | tail -n 1 | sed 's/Test unit written to //' || true)
    if [ -n "$input" ]; then
        echo "the input is $input; replay it with: $binary $input" >&2
    fi
    exit "$status"
fi
