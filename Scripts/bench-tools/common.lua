-- Shared by the POST scenarios of Scripts/bench: thread ids, non-2xx counting, a summary line.
-- Each wrk thread has its own Lua state; setup() runs in the main state and tags threads.
local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

counter = 0
errors = 0
samples = ""

token = os.getenv("BENCH_TOKEN") or ""
headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }

agents = {}
for id in string.gmatch(os.getenv("BENCH_AGENT_IDS") or "", "%S+") do table.insert(agents, id) end

function response(status, headers, body)
  if status < 200 or status > 299 then
    errors = errors + 1
    if errors <= 3 then samples = samples .. string.format("  HTTP %d %s\n", status, string.sub(body or "", 1, 160)) end
  end
end

function done(summary, latency, requests)
  local total, shown = 0, ""
  for _, thread in ipairs(threads) do
    total = total + (thread:get("errors") or 0)
    shown = shown .. (thread:get("samples") or "")
  end
  io.write(string.format("lua_non2xx=%d lua_requests=%d\n", total, summary.requests))
  if shown ~= "" then io.write("non-2xx samples:\n" .. shown) end
end
