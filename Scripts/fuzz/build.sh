#!/usr/bin/env bash
# Builds the libFuzzer harness for HTTPRequestParser: .build/fuzz/fuzz-parser
# KittHTTP imports KittJSON, so KittJSON is compiled first as its own module; the KittHTTP
# sources and the harness then form one module, which lets the harness see internal state.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build/fuzz
mkdir -p "$out"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g)

swiftc "${flags[@]}" -wmo -module-name KittJSON -emit-module -emit-module-path "$out/KittJSON.swiftmodule" \
    -emit-object -o "$out/KittJSON.o" Sources/KittJSON/*.swift

# ld.gold warns "Cannot export local symbol '__asan_check_...'" for every ASan thunk: harmless noise.
swiftc "${flags[@]}" -module-name KittHTTPFuzz -I "$out" \
    $(find Sources/KittHTTP -name '*.swift' | sort) Scripts/fuzz/FuzzParser.swift "$out/KittJSON.o" \
    -o "$out/fuzz-parser" 2> >(grep -v 'Cannot export local symbol' >&2)

echo "built $out/fuzz-parser"
