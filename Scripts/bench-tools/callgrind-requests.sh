#!/usr/bin/env bash
# callgrind-requests.sh BIN [BIN...] — instructions per request, independent of the machine's load.
#
# For each kitt binary: callgrind counts a server (one event loop) answering keep-alive
# `GET /api/v1/health` on one plain connection, 500 and then 5,500 times, and new TLS
# connections with one request each, 20 and then 120 times; the differences divided by 5,000
# and 100 leave out startup and shutdown. Needs valgrind, python3 and curl; takes ~2 min a binary.
set -euo pipefail
(($#)) || { echo "usage: $0 BIN [BIN...]" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kitt-callgrind.XXXXXX")
PID=
trap '[[ -n $PID ]] && kill -TERM $PID 2>/dev/null; rm -rf "$WORK"' EXIT

cat >"$WORK/client.py" <<'PY'
import socket, ssl, sys
mode, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
request = b"GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n"
def read_response(s, buffer):
    while b"\r\n\r\n" not in buffer:
        chunk = s.recv(65536)
        if not chunk: raise SystemExit("closed early")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
    while len(rest) < length: rest += s.recv(65536)
    return rest[length:]
if mode == "keepalive":
    s, buffer = socket.create_connection(("127.0.0.1", port)), b""
    for _ in range(n):
        s.sendall(request + b"\r\n")
        buffer = read_response(s, buffer)
else:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    for _ in range(n):
        with context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost") as s:
            s.sendall(request + b"Connection: close\r\n\r\n")
            read_response(s, b"")
PY

# count BIN MODE N -> total instructions of one server run
count() {
    local bin=$1 mode=$2 n=$3 dir port flags=() scheme=https
    dir=$(mktemp -d "$WORK/run.XXXXXX")
    port=$((20000 + RANDOM % 20000))
    [[ $mode == keepalive ]] && flags=(--insecure) && scheme=http
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin" web --host 127.0.0.1 --port "$port" \
        --data-dir "$dir/data" --auth-token "callgrind-$RANDOM$RANDOM" --quiet --event-loops 1 "${flags[@]}" \
        >"$dir/out.log" 2>&1 &
    PID=$!
    for _ in $(seq 900); do curl -ks -o /dev/null "$scheme://127.0.0.1:$port/api/v1/health" && break; sleep 0.2; done
    python3 "$WORK/client.py" "$mode" "$port" "$n"
    kill -TERM $PID && wait $PID || true
    PID=
    awk '/^summary:/ { print $2 }' "$dir/cg.out"
}

for bin in "$@"; do
    small=$(count "$bin" keepalive 500) large=$(count "$bin" keepalive 5500)
    echo "$bin: keep-alive health request: $(((large - small) / 5000)) instructions"
    small=$(count "$bin" tls 20) large=$(count "$bin" tls 120)
    echo "$bin: new TLS connection + one request: $(((large - small) / 100)) instructions"
done
