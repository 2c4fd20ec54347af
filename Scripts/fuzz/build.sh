#!/usr/bin/env bash
# Builds the libFuzzer harnesses: .build/fuzz/fuzz-parser (HTTPRequestParser) and
# .build/fuzz/fuzz-response-parser (HTTPResponseParser).
# KittHTTP imports KittBase and KittJSON, so those are compiled first as their own modules; the
# KittHTTP sources and one harness then form one module, which lets the harness see internal state.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build/fuzz
mkdir -p "$out"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g)

for module in KittBase KittJSON; do
    swiftc "${flags[@]}" -wmo -module-name "$module" -emit-module -emit-module-path "$out/$module.swiftmodule" \
        -emit-object -o "$out/$module.o" Sources/$module/*.swift
done

# ld.gold warns "Cannot export local symbol '__asan_check_...'" for every ASan thunk: harmless noise.
build() {
    swiftc "${flags[@]}" -module-name KittHTTPFuzz -I "$out" \
        $(find Sources/KittHTTP -name '*.swift' | sort) "$1" Scripts/fuzz/FuzzSplits.swift \
        "$out/KittBase.o" "$out/KittJSON.o" \
        -o "$out/$2" 2> >(grep -v 'Cannot export local symbol' >&2)
    echo "built $out/$2"
}
build Scripts/fuzz/FuzzParser.swift fuzz-parser
build Scripts/fuzz/FuzzResponseParser.swift fuzz-response-parser
