-- POST /api/v1/agents/<id>/results with a distinct metrics.json document each time.
dofile(os.getenv("BENCH_TOOLS") .. "/common.lua")

local models = { "meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3",
                 "google/gemma-2-9b-it", "microsoft/Phi-3.5-mini-instruct", "meta-llama/Llama-3.1-70B-Instruct",
                 "Qwen/Qwen2.5-32B-Instruct", "mistralai/Mixtral-8x7B-Instruct-v0.1",
                 "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "ibm-granite/granite-3.1-8b-instruct" }
local engines = { "vllm", "llama_cpp", "ollama" }
local suites = { "quick", "standard" }

function request()
  counter = counter + 1
  local n = tid * 10000000 + counter
  local agent = agents[(counter + tid) % #agents + 1]
  local tps = 20 + (n * 7919) % 4000
  local doc = string.format(
    '{"model":"%s","engine":"%s","suite_name":"%s","timestamp":"2026-11-%02dT%02d:%02d:%02dZ","passed":true,' ..
    '"total_benchmarks":1,"passed_count":1,"failed_count":0,"total_time_seconds":%d.5,"kitt_version":"1.2.0",' ..
    '"results":[{"test_name":"throughput","test_version":"1.0.0","run_number":1,"passed":true,' ..
    '"metrics":{"avg_tps":%d.25,"p50_latency_ms":%d.5,"p99_latency_ms":%d.5,"ttft_ms":%d.75},"errors":[]}],' ..
    '"system_info":{"gpu":{"model":"NVIDIA H100 80GB HBM3","vram_gb":80,"count":8},' ..
    '"cpu":{"model":"AMD EPYC 9454","cores":48},"ram_gb":512,"environment_type":"bare_metal","fingerprint":"fp-%d"}}',
    models[n % #models + 1], engines[n % #engines + 1], suites[n % #suites + 1],
    1 + n % 28, n % 24, n % 60, (n * 13) % 60, 30 + n % 3000, tps, 5 + n % 200, 200 + n % 1800, 10 + n % 900, n)
  local body = string.format('{"command_id":"bench-%d-%d","status":"completed","result_data":%s}', tid, counter, doc)
  return wrk.format("POST", "/api/v1/agents/" .. agent .. "/results", headers, body)
end
