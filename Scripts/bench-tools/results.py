#!/usr/bin/env python3
"""Seed data for `Scripts/bench data` (Python 3 stdlib only).

  results.py files DIR N [START]         write N metrics.json files under DIR (for `kitt import DIR`),
                                         documents START..START+N-1 (default 0)
  results.py post URL TOKEN AGENT_ID N [START]
                                         POST N results (documents START.., default 0) to
                                         URL/api/v1/agents/AGENT_ID/results (16 workers)
  results.py register URL TOKEN NAME     register an agent, print its id

Documents are KITT metrics.json files: 10 models x 3 engines x 2 suites, deterministic
(seeded) metrics, each one distinct (timestamp and run ids differ).
"""
import http.client
import json
import os
import random
import ssl
import sys
import threading
import urllib.parse

MODELS = [
    "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen2.5-32B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3", "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "google/gemma-2-9b-it", "microsoft/Phi-3.5-mini-instruct", "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B",
    "ibm-granite/granite-3.1-8b-instruct",
]
ENGINES = ["vllm", "llama_cpp", "ollama"]
SUITES = ["quick", "standard"]
TESTS = ["throughput", "latency", "long_context"]
GPUS = [("NVIDIA H100 80GB HBM3", 80, 8), ("NVIDIA RTX 4090", 24, 2), ("NVIDIA L40S", 48, 4)]


def document(i: int) -> dict:
    rng = random.Random(i)
    model = MODELS[i % len(MODELS)]
    engine = ENGINES[(i // len(MODELS)) % len(ENGINES)]
    suite = SUITES[(i // (len(MODELS) * len(ENGINES))) % len(SUITES)]
    gpu = GPUS[i % len(GPUS)]
    results = []
    for run, test in enumerate(TESTS[: 1 + i % 3]):
        passed = rng.random() > 0.1
        results.append({
            "test_name": test, "test_version": "1.0.0", "run_number": run + 1, "passed": passed,
            "metrics": {
                "avg_tps": round(rng.uniform(20, 4000), 2), "p50_latency_ms": round(rng.uniform(5, 200), 2),
                "p99_latency_ms": round(rng.uniform(200, 2000), 2), "ttft_ms": round(rng.uniform(10, 900), 2),
            },
            "errors": [] if passed else ["timeout after 600 s"],
        })
    passed_count = sum(r["passed"] for r in results)
    day, sec = divmod(i, 86400)
    return {
        "model": model, "engine": engine, "suite_name": suite,
        "timestamp": "2026-%02d-%02dT%02d:%02d:%02dZ" % (1 + day // 28 % 12, 1 + day % 28, sec // 3600, sec // 60 % 60, sec % 60),
        "passed": passed_count == len(results), "total_benchmarks": len(results), "passed_count": passed_count,
        "failed_count": len(results) - passed_count, "total_time_seconds": round(rng.uniform(30, 3600), 1),
        "kitt_version": "1.2.0", "results": results,
        "system_info": {
            "gpu": {"model": gpu[0], "vram_gb": gpu[1], "count": gpu[2]},
            "cpu": {"model": "AMD EPYC 9454 48-Core Processor", "cores": 48}, "ram_gb": 512,
            "environment_type": "bare_metal", "fingerprint": "fp-%08x" % rng.getrandbits(32),
        },
    }


def write_files(directory: str, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        doc = document(i)
        d = os.path.join(directory, doc["model"].replace("/", "_"), doc["engine"], doc["suite_name"], "run-%05d" % i)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "metrics.json"), "w") as f:
            json.dump(doc, f)
    print("wrote %d metrics.json files under %s" % (n, directory))


def connection(url: str):
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def call(conn, method, path, token, body):
    data = json.dumps(body).encode()
    conn.request(method, path, body=data, headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


def register(url: str, token: str, name: str) -> None:
    status, body = call(connection(url), "POST", "/api/v1/agents/register", token, {"name": name, "hostname": name + ".bench"})
    if status not in (200, 201):
        sys.exit("register: HTTP %d %s" % (status, body[:200].decode(errors="replace")))
    print(json.loads(body)["agent_id"])


def post(url: str, token: str, agent: str, n: int, start: int = 0, workers: int = 16) -> None:
    lock = threading.Lock()
    counter = iter(range(start, start + n))
    errors = []

    def work():
        conn = connection(url)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            body = {"command_id": "seed-%d" % i, "status": "completed", "result_data": document(i)}
            try:
                status, text = call(conn, "POST", "/api/v1/agents/%s/results" % agent, token, body)
            except (OSError, http.client.HTTPException) as e:
                status, text = -1, str(e).encode()
                conn = connection(url)
            if not 200 <= status < 300:
                with lock:
                    errors.append((status, text[:200]))

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("posted %d results, %d errors%s" % (n, len(errors), (" first: %r" % (errors[0],)) if errors else ""))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[:1] == ["files"] and len(a) in (3, 4):
        write_files(a[1], int(a[2]), int(a[3]) if len(a) == 4 else 0)
    elif a[:1] == ["post"] and len(a) in (5, 6):
        post(a[1], a[2], a[3], int(a[4]), int(a[5]) if len(a) == 6 else 0)
    elif a[:1] == ["register"] and len(a) == 4:
        register(a[1], a[2], a[3])
    else:
        sys.exit(__doc__)
