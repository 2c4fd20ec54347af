#!/usr/bin/env bash
# callgrind-results.sh BIN [BIN...] — instructions per stored result, independent of the load.
#
# For each kitt binary, on a store that already holds HISTORY results (imported by that
# binary, so each gets its own schema):
# - `kitt import`: callgrind counts importing 500 and then 2,500 new files into copies of the
#   store; (large − small) / 2,000 = instructions per imported file (every thread: walk,
#   parse and the writer).
# - durable result POSTs: callgrind counts a server (`kitt web --insecure`, 1 event loop)
#   answering 200 and then 1,200 `POST /api/v1/agents/ID/results` from 16 connections
#   (`results.py post`); (large − small) / 1,000 = instructions per POST (HTTP, auth, parse,
#   insert, summaries, group commit). Twice: results timestamped inside the history ("older":
#   they land in older list chunks) and newer than all of it ("newest", as agents reporting
#   a finished run). Group commits batch differently from run to run: ±3%.
# Needs valgrind, python3 and curl; ~5 min a binary. Env: HISTORY (20000).
set -euo pipefail
(($#)) || { echo "usage: $0 BIN [BIN...]" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
HISTORY=${HISTORY:-20000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kitt-callgrind-results.XXXXXX")
PID=
trap '[[ -n $PID ]] && kill -TERM $PID 2>/dev/null; rm -rf "$WORK"' EXIT

python3 "$HERE/results.py" files "$WORK/history" "$HISTORY" >/dev/null
python3 "$HERE/results.py" files "$WORK/new-500" 500 1000000 >/dev/null
python3 "$HERE/results.py" files "$WORK/new-2500" 2500 1000000 >/dev/null

# import_count BIN BASE FILES -> total instructions of one `kitt import`
import_count() {
    local bin=$1 base=$2 files=$3 dir
    dir=$(mktemp -d "$WORK/import.XXXXXX")
    cp "$base/kitt.db" "$dir/kitt.db"
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin" import --data-dir "$dir" "$files" \
        >"$dir/out.log" 2>&1
    awk '/^summary:/ { print $2 }' "$dir/cg.out"
}

# post_count BIN BASE N START -> total instructions of a server answering N durable result
# POSTs of documents START..
post_count() {
    local bin=$1 base=$2 n=$3 start=$4 dir port token agent
    dir=$(mktemp -d "$WORK/post.XXXXXX")
    cp "$base/kitt.db" "$dir/kitt.db"
    port=$((20000 + RANDOM % 20000))
    token="callgrind-$RANDOM$RANDOM$RANDOM"
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin" web --host 127.0.0.1 --port "$port" \
        --data-dir "$dir" --auth-token "$token" --quiet --event-loops 1 --insecure >"$dir/out.log" 2>&1 &
    PID=$!
    for _ in $(seq 900); do curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/health" && break; sleep 0.2; done
    agent=$(python3 "$HERE/results.py" register "http://127.0.0.1:$port" "$token" "cg-agent")
    python3 "$HERE/results.py" post "http://127.0.0.1:$port" "$token" "$agent" "$n" "$start" >/dev/null
    kill -TERM $PID && wait $PID || true
    PID=
    awk '/^summary:/ { print $2 }' "$dir/cg.out"
}

for bin in "$@"; do
    base=$(mktemp -d "$WORK/base.XXXXXX")
    "$bin" import --data-dir "$base" "$WORK/history" >/dev/null 2>&1
    small=$(import_count "$bin" "$base" "$WORK/new-500") large=$(import_count "$bin" "$base" "$WORK/new-2500")
    echo "$bin: kitt import into $HISTORY results: $(((large - small) / 2000)) instructions per file"
    small=$(post_count "$bin" "$base" 200 0) large=$(post_count "$bin" "$base" 1200 0)
    echo "$bin: durable result POST (16 connections, older) on $HISTORY results: $(((large - small) / 1000)) instructions per POST"
    small=$(post_count "$bin" "$base" 200 2000000) large=$(post_count "$bin" "$base" 1200 2000000)
    echo "$bin: durable result POST (16 connections, newest) on $HISTORY results: $(((large - small) / 1000)) instructions per POST"
done
