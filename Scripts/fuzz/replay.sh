#!/usr/bin/env bash
# Builds the three libFuzzer harnesses and runs each once over its committed corpus, without
# mutating anything: every seed, and every input a past fuzzing run kept, must still pass the
# harness's checks (no trap or memory error under ASan; for the API: no 500, JSON errors, valid
# HTTP). Scripts/test runs it after the Swift tests, so the harnesses keep compiling as the code
# changes (fuzz-api had stopped compiling when the service layer changed Routes.makeRouter).
set -euo pipefail
cd "$(dirname "$0")/../.."

Scripts/fuzz/build.sh
Scripts/fuzz/build-api.sh

export SWIFT_BACKTRACE=enable=no
# The API reference's statics look leaked to LSan; see Scripts/fuzz/README.md.
export LSAN_OPTIONS=suppressions=Scripts/fuzz/lsan-api.supp

# replay HARNESS CORPUS [FLAGS...]: -runs=0 runs the corpus and stops before any mutation.
replay() {
    local harness=$1 corpus=$2
    shift 2
    local log=.build/fuzz/replay-$harness.log
    if ! ".build/fuzz/$harness" -runs=0 -artifact_prefix=".build/fuzz/replay-$harness-" "$@" "$corpus" >"$log" 2>&1; then
        tail -60 "$log"
        echo "fuzz replay: $harness failed on $corpus (log: $log; a failing input is saved as .build/fuzz/replay-$harness-*)" >&2
        return 1
    fi
    local runs
    runs=$(grep -oE '^Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || true)
    local files
    files=$(find "$corpus" -type f | wc -l)
    # libFuzzer says "Done N runs" with N >= the files it read: fewer means it skipped some.
    if [ "$files" -eq 0 ] || [ -z "$runs" ] || [ "$runs" -lt "$files" ]; then
        tail -20 "$log"
        echo "fuzz replay: $harness ran ${runs:-no} inputs of the $files in $corpus (log: $log)" >&2
        return 1
    fi
    echo "fuzz replay: $harness passed all $files inputs of $corpus"
}

replay fuzz-parser Scripts/fuzz/corpus -dict=Scripts/fuzz/http.dict
replay fuzz-response-parser Scripts/fuzz/response-corpus
replay fuzz-api Scripts/fuzz/corpus-api -max_len=4096
