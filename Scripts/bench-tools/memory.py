#!/usr/bin/env python3
"""Scripts/bench memory: what hostile agent traffic does to kitt's resident memory (issue 9 item 3).

    memory.py --port P --token T --pid PID [--ca CA.pem] [--oversize N] [--heartbeats N] [--lines N]

Over one keep-alive TLS connection (plain HTTP without --ca): registers an agent, creates a
quick test, then sends N over-limit heartbeats (4 MiB `status`/`current_task`, expected 400),
N at-limit heartbeats (32-char status changing each time so each is published, 4 KiB
current_task, 8 engines with 4 KiB strings) and N log lines of 16 KiB (each stored and
published), then reads the log back. Prints key=value lines: kitt's VmRSS (kB) after each phase and the status counts.
"""
import argparse
import http.client
import json
import ssl
import time


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--ca")
    p.add_argument("--oversize", type=int, default=40)
    p.add_argument("--heartbeats", type=int, default=100)
    p.add_argument("--lines", type=int, default=1000)
    a = p.parse_args()
    if a.ca:
        ctx = ssl.create_default_context(cafile=a.ca)
        conn = http.client.HTTPSConnection("localhost", a.port, context=ctx, timeout=60)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=60)
    headers = {"Authorization": f"Bearer {a.token}", "Content-Type": "application/json"}

    def post(path, body):
        conn.request("POST", path, body=json.dumps(body).encode(), headers=headers)
        r = conn.getresponse()
        data = r.read()
        return r.status, data

    status, data = post("/api/v1/agents/register", {"name": "bench-memory", "hostname": "bench"})
    agent = json.loads(data)["agent_id"]
    status, data = post("/api/v1/quicktest/", {"agent_id": agent, "model_path": "/m.gguf", "engine_name": "llama_cpp"})
    test = json.loads(data)["id"]
    time.sleep(0.5)
    print(f"rss_start_kb={rss_kb(a.pid)}")

    huge = "x" * (4 << 20)
    codes = {}
    for i in range(a.oversize):
        field = "status" if i % 2 == 0 else "current_task"
        s, _ = post(f"/api/v1/agents/{agent}/heartbeat", {field: huge})
        codes[s] = codes.get(s, 0) + 1
    print(f"oversize_heartbeats={a.oversize} statuses={codes}")
    print(f"rss_after_oversize_kb={rss_kb(a.pid)}")

    text4k = "t" * 4096
    engines = [{"engine": f"engine-{i}", "installed": True, "version": text4k, "binary_path": text4k} for i in range(8)]
    codes = {}
    for i in range(a.heartbeats):
        body = {"status": ("a" if i % 2 == 0 else "b") * 32, "current_task": text4k, "engines": engines}
        s, _ = post(f"/api/v1/agents/{agent}/heartbeat", body)
        codes[s] = codes.get(s, 0) + 1
    print(f"heartbeats={a.heartbeats} statuses={codes}")
    print(f"rss_after_heartbeats_kb={rss_kb(a.pid)}")

    line = "L" * 16384
    codes = {}
    start = time.monotonic()
    for _ in range(a.lines):
        s, _ = post(f"/api/v1/quicktest/{test}/logs", {"line": line})
        codes[s] = codes.get(s, 0) + 1
    elapsed = time.monotonic() - start
    print(f"log_lines={a.lines} statuses={codes} seconds={elapsed:.1f}")
    print(f"rss_after_logs_kb={rss_kb(a.pid)}")

    conn.request("GET", f"/api/v1/quicktest/{test}/logs", headers=headers)
    r = conn.getresponse()
    body = r.read()
    kept = len(json.loads(body)["lines"]) if r.status == 200 else -1
    print(f"logs_get_status={r.status}")
    print(f"lines_kept={kept}")
    print(f"bytes={len(body)}")
    print(f"rss_after_logs_get_kb={rss_kb(a.pid)}")


if __name__ == "__main__":
    main()
