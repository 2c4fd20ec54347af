#!/usr/bin/env bash
# rss-floods.sh [KITT] — does kitt's memory level off under sustained durable result POSTs?
#
# Starts KITT (default .build/release/kitt) on a fresh store of RESULTS results (default
# 20,000, written with results.py and `kitt import`), then runs ROUNDS (default 20) floods of
# SECONDS (default 4) of durable result POSTs on 64 connections (scalebench flood-now) and
# prints kitt's anonymous and file-backed RSS after each. A healthy build levels off after a
# few rounds (the SQLite page caches filling); a line that keeps climbing round after round is
# a leak (a pipelined-commit experiment grew ~45 bytes per write this way, see README "Results
# at scale"). Needs gcc and python3; everything on loopback, in a temp dir removed at exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kitt=${1:-$here/../../.build/release/kitt}
rounds=${ROUNDS:-20} seconds=${SECONDS_PER_ROUND:-4} results=${RESULTS:-20000}
work=$(mktemp -d)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

gcc -O2 -Wall -pthread -o "$work/scalebench" "$here/scalebench.c"
python3 "$here/results.py" files "$work/seed" "$results" >/dev/null
"$kitt" import --data-dir "$work/data" "$work/seed" >/dev/null 2>&1
token=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$kitt" web --host 127.0.0.1 --port "$port" --data-dir "$work/data" --auth-token "$token" --quiet --insecure \
    --max-connections-per-ip 1000000 --max-sse-per-ip 1000000 >"$work/kitt.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/health" && break; sleep 0.1; done
agent=$(curl -s -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data '{"name":"rss-agent","hostname":"rss.local","gpu_count":8}' "http://127.0.0.1:$port/api/v1/agents/register" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["agent_id"])')
field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
echo "round  posts/s  RssAnon_kB  RssFile_kB  threads"
for round in $(seq "$rounds"); do
    rate=$("$work/scalebench" flood-now 127.0.0.1 "$port" "$token" "$agent" "$seconds" 64 | sed -n 's/.*rate=\([0-9.]*\).*/\1/p')
    printf '%5d  %7s  %10s  %10s  %7s\n' "$round" "$rate" "$(field RssAnon)" "$(field RssFile)" "$(field Threads)"
done
