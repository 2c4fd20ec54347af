#!/usr/bin/env bash
# Builds the libFuzzer harness for the whole API: .build/fuzz/fuzz-api
# Every module the router needs is compiled as its own module with the fuzzer's coverage
# instrumentation and ASan, in dependency order (as Package.swift declares them), then the
# harness is linked against their objects and the system's OpenSSL, SQLite and zlib.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build/fuzz/api
mkdir -p "$out"
flags=(-sanitize=fuzzer,address -parse-as-library -swift-version 6 -O -g -I "$out"
    -I Sources/COpenSSL -I Sources/CSQLite -I Sources/CZlib -I Sources/CKittSystem)

module() {  # module NAME: compiles Sources/NAME into $out/NAME.o and NAME.swiftmodule
    swiftc "${flags[@]}" -wmo -module-name "$1" -emit-module -emit-module-path "$out/$1.swiftmodule" \
        -emit-object -o "$out/$1.o" $(find "Sources/$1" -name '*.swift' | sort) \
        2> >(grep -v 'Cannot export local symbol' >&2)
}
# HARNESS_ONLY=1 relinks the harness against the modules already built (after editing it only).
if [[ "${HARNESS_ONLY:-0}" != 1 ]]; then
    for name in KittBase KittJSON KittThreads KittHTTP KittNet KittSQLite KittStore KittAPI; do
        module "$name"
    done
fi

# ld.gold warns "Cannot export local symbol '__asan_check_...'" for every ASan thunk: harmless noise.
swiftc "${flags[@]}" -module-name FuzzAPI Scripts/fuzz/FuzzAPI.swift "$out"/Kitt*.o \
    -lssl -lcrypto -lsqlite3 -lz -o .build/fuzz/fuzz-api 2> >(grep -v 'Cannot export local symbol' >&2)

echo "built .build/fuzz/fuzz-api"
