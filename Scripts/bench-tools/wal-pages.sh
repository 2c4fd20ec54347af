#!/usr/bin/env bash
# wal-pages.sh BIN STORE_DIR [MODE] [CONNS] [SECONDS] — which tables a durable POST flood
# writes, page by page: what a group commit costs the disk.
#
# Copies STORE_DIR (a data dir holding kitt.db, e.g. one `kitt import` filled; no server may
# have it open), runs
# `BIN web` on the copy, floods it with `scalebench MODE` (flood: timestamps amid the last
# month of the history; flood-now: newer than all of it) from CONNS connections (16), stops the
# server with SIGKILL after SECONDS (3.3; it must die before its WAL starts over, so the
# capture holds a few hundred commits), then reads the WAL frame by frame: frames per commit,
# and per commit the pages of each table and index (`dbstat` maps page numbers to names).
# Needs gcc, python3 (its sqlite3 module with dbstat) and curl. Writes only under a temp dir.
set -euo pipefail
(($# >= 2)) || { echo "usage: $0 BIN STORE_DIR [flood|flood-now] [CONNS] [SECONDS]" >&2; exit 2; }
BIN=$1 STORE=$2 MODE=${3:-flood} CONNS=${4:-16} SECONDS_BEFORE_KILL=${5:-3.3}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kitt-wal-pages.XXXXXX")
PID=
trap '[[ -n $PID ]] && kill -KILL $PID 2>/dev/null; rm -rf "$WORK"' EXIT

gcc -O2 -Wall -pthread -o "$WORK/scalebench" "$HERE/scalebench.c"
mkdir "$WORK/data"
# The WAL too, when the store's last writer left one: without it the copy would lack commits.
for file in kitt.db kitt.db-wal; do
    [[ -f $STORE/$file ]] && cp "$STORE/$file" "$WORK/data/$file"
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token="wal-pages-$RANDOM$RANDOM$RANDOM"
"$BIN" web --host 127.0.0.1 --port "$port" --data-dir "$WORK/data" --auth-token "$token" --quiet --insecure \
    --max-connections-per-ip 1000000 >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/health" && break; sleep 0.1; done
agent=$(python3 "$HERE/results.py" register "http://127.0.0.1:$port" "$token" "wal-pages-agent")
"$WORK/scalebench" "$MODE" 127.0.0.1 "$port" "$token" "$agent" 10 "$CONNS" >"$WORK/flood.txt" 2>&1 &
flood=$!
sleep "$SECONDS_BEFORE_KILL"
kill -KILL $PID
PID=
wait $flood 2>/dev/null || true
# The WAL as SIGKILL left it: the current generation's frames (their salts match the
# header's) from the start of the file; what follows is an older generation.
python3 - "$WORK/data/kitt.db" "$WORK/data/kitt.db-wal" <<'EOF'
import collections, shutil, sqlite3, struct, sys
db, wal = sys.argv[1], sys.argv[2]
data = open(wal, "rb").read()
_, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">8I", data[:32])
commits, current, offset = [], [], 32
while offset + 24 + page_size <= len(data):
    page, commit_size, s1, s2 = struct.unpack(">4I", data[offset:offset + 16])
    if (s1, s2) != (salt1, salt2):
        break
    current.append(page)
    if commit_size:
        commits.append(current)
        current = []
    offset += 24 + page_size
if not commits:
    sys.exit("no whole commit in the WAL: raise SECONDS or lower it below the WAL's restart")
copy = db + ".mapped"
shutil.copy(db, copy)
shutil.copy(wal, copy + "-wal")
with sqlite3.connect(copy) as con:
    names = dict((page, name) for name, page in con.execute("SELECT name, pageno FROM dbstat"))
pages = collections.Counter()
for commit in commits:
    for page in set(commit):
        pages[names.get(page, "?")] += 1
n = len(commits)
print(f"{n} commits, {sum(map(len, commits)) / n:.1f} frames of {page_size} bytes per commit")
for name, count in pages.most_common(20):
    print(f"  {count / n:6.2f}  {name}")
EOF
sed 's/^/flood (cut short by the kill): /' "$WORK/flood.txt" | head -1
