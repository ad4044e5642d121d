#!/usr/bin/env bash
# Load benchmark, all in one run on this machine: a bare YARP proxy (baseline) and the gateway — without limits,
# with the Redis limiter, with the in-process limiter, and on the normalized endpoint — in front of the same fake
# vendor, each driven by wrk with the same connections and duration. Prints a table and writes bench/results/latest.md.
#   DURATION=10s CONNECTIONS=32 bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
for tool in wrk redis-server dotnet; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required (apt-get install wrk redis-server)" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "bench: building (Release)"
dotnet build -c Release -v q --nologo gateway/Gateway.csproj >/dev/null
dotnet build -c Release -v q --nologo bench/FakeVendor/FakeVendor.csproj >/dev/null
dotnet build -c Release -v q --nologo bench/BareProxy/BareProxy.csproj >/dev/null

vendor=5301; bare=5302; gw_redis=5303; gw_local=5304; redis=6399
redis-server --port $redis --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
pids+=($!)
ASPNETCORE_URLS=http://127.0.0.1:$vendor Logging__LogLevel__Default=Warning dotnet bench/FakeVendor/bin/Release/net10.0/FakeVendor.dll >/dev/null &
pids+=($!)
ASPNETCORE_URLS=http://127.0.0.1:$bare Logging__LogLevel__Default=Warning Vendor=http://127.0.0.1:$vendor/ \
  dotnet bench/BareProxy/bin/Release/net10.0/BareProxy.dll >/dev/null &
pids+=($!)

open_key="gwk_bench_open_$(date +%s%N)"
limited_key="gwk_bench_limited_$(date +%s%N)"
hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
start_gateway() { # port, redis connection string or empty
  env ASPNETCORE_URLS=http://127.0.0.1:$1 Gateway__ConfigDirectory="$root/config" \
    ConnectionStrings__Redis="$2" OPENAI_API_KEY=sk-bench-not-a-real-key \
    ReverseProxy__Clusters__openai__Destinations__primary__Address=http://127.0.0.1:$vendor/ \
    Logging__LogLevel__Default=Warning Logging__LogLevel__Microsoft.AspNetCore=Warning \
    Gateway__Clients__bench-open__KeySha256="$(hash "$open_key")" \
    Gateway__Clients__bench-limited__KeySha256="$(hash "$limited_key")" \
    Gateway__Clients__bench-limited__RateLimitPolicy=bench \
    Gateway__RateLimiting__Policies__bench__Requests=1000000000 \
    Gateway__RateLimiting__Policies__bench__Tokens=1000000000000 \
    Gateway__RateLimiting__Policies__bench__Window=00:01:00 \
    dotnet gateway/bin/Release/net10.0/Gateway.dll >"$work/gateway-$1.log" 2>&1 &
  pids+=($!)
}
start_gateway $gw_redis "127.0.0.1:$redis"
start_gateway $gw_local ""

for port in $vendor $bare $gw_redis $gw_local; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

chat='{"model":"gpt-6-luna","messages":[{"role":"user","content":"Summarize the following email."}]}'
task='{"prompt":"Summarize the following email.","context":"Please review the attached invoice and confirm delivery times for Q3.","model":"openai/gpt-6-luna"}'
results="$work/results.md"
printf '| scenario | requests/s | p50 | p99 | non-2xx |\n|---|---|---|---|---|\n' >"$results"

run() { # name, url, key, body
  local out
  KEY="$3" BODY="$4" wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s bench/post.lua "$2" >/dev/null 2>&1 || true  # warm-up
  out=$(KEY="$3" BODY="$4" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/post.lua "$2")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out"); non2xx=${non2xx:-0}
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99" "$non2xx" | tee -a "$results"
}

passthrough=/api/ai/openai/v1/chat/completions
echo "bench: $CONNECTIONS connections, $THREADS threads, $DURATION per scenario, $(nproc) cores"
run "bare YARP (baseline)" "http://127.0.0.1:$bare$passthrough" "" "$chat"
run "gateway passthrough, no limits" "http://127.0.0.1:$gw_redis$passthrough" "$open_key" "$chat"
run "gateway passthrough, Redis limiter" "http://127.0.0.1:$gw_redis$passthrough" "$limited_key" "$chat"
run "gateway passthrough, in-process limiter" "http://127.0.0.1:$gw_local$passthrough" "$limited_key" "$chat"
run "gateway normalized /v1/ai/summarize, no limits" "http://127.0.0.1:$gw_redis/v1/ai/summarize" "$open_key" "$task"
run "gateway normalized /v1/ai/summarize, Redis limiter" "http://127.0.0.1:$gw_redis/v1/ai/summarize" "$limited_key" "$task"

mkdir -p bench/results
{
  echo "# Gateway benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "$(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, fake vendor answering at once on loopback."
  echo
  cat "$results"
} >bench/results/latest.md
echo "bench: written to bench/results/latest.md"
