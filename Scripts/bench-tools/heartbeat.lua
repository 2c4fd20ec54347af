-- POST /api/v1/agents/<id>/heartbeat, each body distinct; agents from BENCH_AGENT_IDS.
dofile(os.getenv("BENCH_TOOLS") .. "/common.lua")

function request()
  counter = counter + 1
  local agent = agents[(counter + tid) % #agents + 1]
  local body = string.format(
    '{"status":"idle","current_task":null,"gpu_utilization_pct":%d,"gpu_memory_used_gb":%.2f,' ..
    '"storage_gb_free":%d,"uptime_s":%d,"engines":[{"engine":"vllm","installed":true,"running":false,' ..
    '"version":"0.6.%d","binary_path":"/usr/bin/vllm"}]}',
    counter % 101, (counter % 800) / 10, 500 + tid, tid * 1000000 + counter, counter % 10)
  return wrk.format("POST", "/api/v1/agents/" .. agent .. "/heartbeat", headers, body)
end
