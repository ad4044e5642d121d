#!/usr/bin/env bash
# Load benchmark, all in one run on this machine, pinned: wrk on CPU 0; the fake vendor, the proxy under test (and
# redis-server) on CPU 1. Each scenario warms up until two rounds agree within 5 %, then MEASURED rounds (3) report the
# median throughput, latency and the proxy's CPU time per request, read from /proc (utime + stime of the proxy process,
# plus redis-server's in the Redis scenario) — steady even on a noisy machine, unlike throughput on 2 shared cores —
# then the latency of one connection alone; streamed calls' time to first byte; each proxy's peak memory.
#   DURATION=5 CONNECTIONS=64 bash bench/run.sh   (DURATION in seconds per round; ONLY=Redis runs just the
#   matching scenarios; PAIRS=1 adds the paired studies of the resilience pipeline, of the access log and of each
#   limiter; FIXED=1 the passthrough scenarios again at RATE requests/s (h2load); SOAK=1 the 1000 slow streams and the
#   noisy neighbour studies)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-64}
MEASURED=${MEASURED:-3} WARMUP=3 SINGLE=5 STREAMS=${STREAMS:-200}
# SMOKE=1: one short round of everything, to show the script still works (the test suite runs it); no figure means much.
# REPORT: where the report goes (bench/results/latest.md).
if [ -n "${SMOKE:-}" ]; then DURATION=1 MEASURED=1 WARMUP=1 SINGLE=1 STREAMS=5; fi
for tool in wrk redis-server dotnet taskset curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required (apt-get install wrk redis-server)" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench: needs 2 CPUs (wrk on one, the proxy on the other)" >&2; exit 1; }

export DOTNET_TC_CallCountingDelayMs=0 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
LOAD_CPU=0
SERVER_CPU=1
tick=$(getconf CLK_TCK)
# The GC settings the chart starts the gateway with (startup.gc in charts/ai-gateway/values.yaml, as the runtime reads
# them: hexadecimal), given to bare YARP as well, so the ratios compare the proxies' code rather than their GC settings.
gc_setting() { awk -v name="$1" '/^  gc:/ { inside = 1; next } inside && $1 == name ":" { print $2; exit }' charts/ai-gateway/values.yaml; }
gc_env=()
[ "$(gc_setting heaps)" != 0 ] && gc_env+=("DOTNET_GCHeapCount=$(printf %x "$(gc_setting heaps)")")
[ "$(gc_setting gen0SizeMiB)" != 0 ] && gc_env+=("DOTNET_GCgen0size=$(printf %x $(($(gc_setting gen0SizeMiB) * 1048576)))")
# The gateway ships with idle thread-pool workers that block without spinning first (gateway/Gateway.csproj,
# UnfairSemaphoreSpinLimit 0, in its runtimeconfig.json): bare YARP gets the same, for the same reason as the GC settings.
bare_env=("${gc_env[@]}" DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0)
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "bench: building (Release)"
for project in gateway/Gateway.csproj bench/FakeVendor/FakeVendor.csproj bench/BareProxy/BareProxy.csproj bench/LimiterReplay/LimiterReplay.csproj; do
  dotnet build -c Release -v q --nologo "$project" >/dev/null
done

vendor=5301; bare=5302; gw_redis=5303; gw_local=5304; gw_plain=5305; redis=6399
taskset -c $SERVER_CPU redis-server --port $redis --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
redis_pid=$!; pids+=($redis_pid)
ASPNETCORE_URLS=http://127.0.0.1:$vendor Logging__LogLevel__Default=Warning \
  taskset -c $SERVER_CPU dotnet bench/FakeVendor/bin/Release/net10.0/FakeVendor.dll >/dev/null &
pids+=($!)
env "${bare_env[@]}" ASPNETCORE_URLS=http://127.0.0.1:$bare Logging__LogLevel__Default=Warning Vendor=http://127.0.0.1:$vendor/ \
  taskset -c $SERVER_CPU dotnet bench/BareProxy/bin/Release/net10.0/BareProxy.dll >/dev/null &
bare_pid=$!; pids+=($bare_pid)

open_key="gwk_bench_open_$(date +%s%N)"
limited_key="gwk_bench_limited_$(date +%s%N)"
hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
start_gateway() { # port, redis connection string or empty, more settings (NAME=value); prints the pid
  env "${gc_env[@]}" ASPNETCORE_URLS=http://127.0.0.1:$1 Gateway__ConfigDirectory="$root/config" \
    ConnectionStrings__Redis="$2" OPENAI_API_KEY=sk-bench-not-a-real-key \
    ReverseProxy__Clusters__openai__Destinations__primary__Address=http://127.0.0.1:$vendor/ \
    Logging__LogLevel__Default=Warning Logging__LogLevel__Microsoft.AspNetCore=Warning \
    Gateway__Clients__bench-open__KeySha256="$(hash "$open_key")" \
    Gateway__Clients__bench-limited__KeySha256="$(hash "$limited_key")" \
    Gateway__Clients__bench-limited__RateLimitPolicy=bench \
    Gateway__RateLimiting__Policies__bench__Requests=1000000000 \
    Gateway__RateLimiting__Policies__bench__Tokens=1000000000000 \
    Gateway__RateLimiting__Policies__bench__Window=00:01:00 "${@:3}" \
    taskset -c $SERVER_CPU dotnet gateway/bin/Release/net10.0/Gateway.dll >"$work/gateway-$1.log" 2>&1 &
  echo $!
}
# The Redis gateway also knows a client whose policy allows HAMMER_LIMIT requests a second (the noisy neighbour study).
hammer_key="gwk_bench_hammer_$(date +%s%N)"
gw_redis_pid=$(start_gateway $gw_redis "127.0.0.1:$redis" Gateway__Clients__bench-hammer__KeySha256="$(hash "$hammer_key")" \
  Gateway__Clients__bench-hammer__RateLimitPolicy=hammer Gateway__RateLimiting__Policies__hammer__Requests="${HAMMER_LIMIT:-100}" \
  Gateway__RateLimiting__Policies__hammer__Window=00:00:01); pids+=($gw_redis_pid)
gw_local_pid=$(start_gateway $gw_local ""); pids+=($gw_local_pid)
# A gateway whose resilience pipeline (retries, breaker, fallback, first-byte deadline) is switched on and off in its own
# copy of config/ — reloaded, no restart — so what the pipeline costs is measured in one process, warmed up once.
mkdir -p "$work/config" && cp "$root"/config/*.json "$work/config/"
pipeline_switch() { # true|false; waits until the reload has surely happened (the gateway settles a file for 100 ms)
  printf '{"Gateway": {"Resilience": {"Enabled": %s}}}\n' "$1" >"$work/config/zz-bench-resilience.json"
  sleep 2
}
pipeline_switch false
gw_plain_pid=$(start_gateway $gw_plain "" Gateway__ConfigDirectory="$work/config"); pids+=($gw_plain_pid)

for port in $vendor $bare $gw_redis $gw_local $gw_plain; do
  for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

chat='{"model":"gpt-6-luna","messages":[{"role":"user","content":"Summarize the following email."}]}'
task='{"prompt":"Summarize the following email.","context":"Please review the attached invoice and confirm delivery times for Q3.","model":"openai/gpt-6-luna"}'
chat_stream='{"model":"gpt-6-luna","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Summarize the following email."}]}'
task_stream='{"prompt":"Summarize the following email.","context":"Please review the attached invoice and confirm delivery times for Q3.","model":"openai/gpt-6-luna","stream":true}'
compat='{"model":"openai/gpt-6-luna","messages":[{"role":"user","content":"Summarize the following email."}]}'
cpu_ticks() { local total=0; for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo $total; }
wrk_round() { # seconds url key body [--latency]
  KEY="$3" BODY="$4" taskset -c $LOAD_CPU wrk -t1 -c"$CONNECTIONS" -d"$1"s ${5:-} -s bench/post.lua "$2"
}
rps_of() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }

results="$work/results.tsv"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
to_ms() { awk '{ v = $1; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v); printf "%.3f\n", u == "us" ? v / 1000 : u == "s" ? v * 1000 : v }'; }
run() { # name url key body pids...
  local name=$1 url=$2 key=$3 body=$4; shift 4
  # ONLY (a regular expression) picks scenarios; the baseline and "no limits" always run, for the ratios and deltas.
  if [ -n "${ONLY:-}" ] && ! grep -Eq "bare|no limits|$ONLY" <<<"$name"; then return; fi
  local previous=0 current rounds=0
  wrk_round "$WARMUP" "$url" "$key" "$body" >/dev/null
  while [ "$MEASURED" -gt 1 ]; do
    current=$(rps_of "$(wrk_round 3 "$url" "$key" "$body")")
    rounds=$((rounds + 1))
    if awk -v a="$previous" -v b="$current" 'BEGIN { exit !(a > 0 && (a - b) / a < 0.05 && (b - a) / a < 0.05) }' || [ $rounds -ge 8 ]; then break; fi
    previous=$current
  done
  # MEASURED rounds (3): the median of each figure. CPU: the proxy's utime + stime over the round ÷ its requests. Each
  # gateway round is paired with a bare YARP round right before or after it (the order flipping every round), so the
  # ratios to bare YARP compare rounds a minute apart at most, not scenarios minutes apart (this VM has slow spells).
  local round out rows="$work/rounds.tsv" bare_rows="$work/bare-rounds.tsv" side
  : >"$rows"
  : >"$bare_rows"
  for round in $(seq 1 "$MEASURED"); do
    for side in $( [ -n "$BASE_URL" ] && [ $((round % 2)) -eq 0 ] && echo "scenario bare" || echo "bare scenario"); do
      if [ "$side" = bare ]; then
        [ -n "$BASE_URL" ] && measure_round "$BASE_URL" "" "${BASE_BODY:-$chat}" "$bare_rows" "$bare_pid"
      else
        measure_round "$url" "$key" "$body" "$rows" "$@"
      fi
    done
  done
  local rps cpu p50 p99 non2xx extra single ratios
  rps=$(cut -f1 "$rows" | median) cpu=$(cut -f2 "$rows" | median) p50=$(cut -f3 "$rows" | median)
  p99=$(cut -f4 "$rows" | median) non2xx=$(cut -f5 "$rows" | awk '{ s += $1 } END { print s + 0 }') extra=$(cut -f6 "$rows" | median)
  # Against bare YARP: the median of the rounds' ratios to their paired bare round (1 for the baseline itself).
  ratios="1	1	1"
  if [ -n "$BASE_URL" ]; then
    ratios=$(paste "$rows" "$bare_rows" | awk -F'\t' '{ print $1 / $7 "\t" $2 / $8 "\t" $4 / $10 }' >"$work/ratios.tsv"
      printf '%s\t%s\t%s' "$(cut -f1 "$work/ratios.tsv" | median)" "$(cut -f2 "$work/ratios.tsv" | median)" "$(cut -f3 "$work/ratios.tsv" | median)")
  fi
  # One connection, one request at a time: the latency a lone caller sees (bare YARP's measured just before, alongside).
  local bare_single=""
  [ -n "$BASE_URL" ] && bare_single=$(KEY="" BODY="${BASE_BODY:-$chat}" taskset -c $LOAD_CPU wrk -t1 -c1 -d"$SINGLE"s --latency -s bench/post.lua "$BASE_URL" | awk '$1=="50%" {print $2}' | to_ms)
  single=$(KEY="$key" BODY="$body" taskset -c $LOAD_CPU wrk -t1 -c1 -d"$SINGLE"s --latency -s bench/post.lua "$url" | awk '$1=="50%" {print $2}' | to_ms)
  if [ $# -gt 1 ]; then
    echo "bench: $name — of which the other processes (redis-server): $extra µs/request" >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$cpu" "$p50" "$p99" "$non2xx" "$rounds" "$single" "$ratios" "${bare_single:-$single}" "$extra" | tee -a "$results"
}
# One measured round: wrk for DURATION seconds, the CPU of the given processes read around it; appends
# req/s, CPU µs/request, p50, p99, non-2xx, CPU µs/request of the processes after the first.
measure_round() { # url key body rows-file pids...
  local url=$1 key=$2 body=$3 file=$4; shift 4
  local before after extra_before extra_after out requests
  before=$(cpu_ticks "$@") extra_before=$(cpu_ticks "${@:2}")
  out=$(wrk_round "$DURATION" "$url" "$key" "$body" --latency)
  after=$(cpu_ticks "$@") extra_after=$(cpu_ticks "${@:2}")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(rps_of "$out")" \
    "$(awk -v t=$((after - before)) -v hz="$tick" -v n="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')" \
    "$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)" "$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)" \
    "$(awk '/Non-2xx/ {print $5}' <<<"$out" | awk '{ s += $1 } END { print s + 0 }')" \
    "$(awk -v t=$((extra_after - extra_before)) -v hz="$tick" -v n="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')" >>"$file"
}

# Time to first byte of streamed calls, one after another on fresh connections (curl's time_starttransfer): the
# median over STREAMS calls, after 20 unmeasured.
ttfb="$work/ttfb.tsv"
ttfb_run() { # name url key body   (after the baseline, each call alternates with a bare YARP streamed call)
  local name=$1 url=$2 key=$3 body=$4 auth=()
  if [ -n "${ONLY:-}" ] && ! grep -Eq "bare|$ONLY" <<<"$name"; then return; fi
  [ -n "$key" ] && auth=(-H "Authorization: Bearer $key")
  local call=(taskset -c $LOAD_CPU curl -s -o /dev/null -w '%{http_code} %{time_starttransfer}\n' -H "Content-Type: application/json" "${auth[@]}" -d "$body" "$url")
  local base=(taskset -c $LOAD_CPU curl -s -o /dev/null -w '%{http_code} %{time_starttransfer}\n' -H "Content-Type: application/json" -d "$chat_stream" "${BASE_TTFB_URL:-}")
  for _ in $(seq 1 20); do "${call[@]}" >/dev/null; done
  local out paired=""
  : >"$work/ttfb-base.txt"
  out=$(for _ in $(seq 1 "$STREAMS"); do [ -n "${BASE_TTFB_URL:-}" ] && "${base[@]}" >>"$work/ttfb-base.txt"; "${call[@]}"; done)
  [ -s "$work/ttfb-base.txt" ] && paired=$(awk '{ printf "%.3f\n", $2 * 1000 }' "$work/ttfb-base.txt" | median | awk '{ printf "%.3f", $1 }')
  printf '%s\t%s\t%s\t%s\n' "$name" "$(awk '{ printf "%.3f\n", $2 * 1000 }' <<<"$out" | median | awk '{ printf "%.3f", $1 }')" "$(awk '$1 != 200' <<<"$out" | wc -l)" "$paired" | tee -a "$ttfb"
}

passthrough=/api/ai/openai/v1/chat/completions
echo "bench: wrk -t1 -c$CONNECTIONS on CPU $LOAD_CPU; vendor, proxies and redis-server on CPU $SERVER_CPU; ${DURATION} s measured per scenario"
BASE_URL=""
run "bare YARP (baseline)" "http://127.0.0.1:$bare$passthrough" "" "$chat" $bare_pid
# From here every gateway round is paired with a bare YARP round (same body: the passthrough chat call).
BASE_URL="http://127.0.0.1:$bare$passthrough"
run "gateway passthrough, client key, no limits" "http://127.0.0.1:$gw_local$passthrough" "$open_key" "$chat" $gw_local_pid
run "gateway passthrough, in-process limiter" "http://127.0.0.1:$gw_local$passthrough" "$limited_key" "$chat" $gw_local_pid
run "gateway passthrough, client key, resilience pipeline off" "http://127.0.0.1:$gw_plain$passthrough" "$open_key" "$chat" $gw_plain_pid

# Paired measurement: one gateway process, two sides (A, B) measured in back-to-back rounds, ROUNDS pairs (5 by default),
# the order flipping every pair, so a slow spell of this shared machine hits both sides of a pair; the median of the
# pairs is the result. Each side warms up before it is measured: after a switch the first seconds run slower (the order
# effect seen with a single short warm-up), so until two 3 s rounds agree within 5 % (at most 5).
pairs() { # file url switch-command key-A key-B pids...   (switch-command is called with A or B before each side)
  local file=$1 url=$2 switch=$3 key_a=$4 key_b=$5; shift 5
  local round order side key previous current before after out extra_before extra_after requests
  for round in $(seq 1 "${ROUNDS:-5}"); do
    order="A B"; [ $((round % 2)) -eq 0 ] && order="B A"
    declare -A pair_rps=() pair_cpu=() pair_extra=()
    for side in $order; do
      $switch $side
      key=$key_a; [ $side = B ] && key=$key_b
      previous=0
      for _ in 1 2 3 4 5; do
        current=$(rps_of "$(wrk_round 3 "$url" "$key" "$chat")")
        awk -v a="$previous" -v b="$current" 'BEGIN { exit !(a > 0 && (a - b) / a < 0.05 && (b - a) / a < 0.05) }' && break
        previous=$current
      done
      before=$(cpu_ticks "$@") extra_before=$(cpu_ticks "${@:2}")
      out=$(wrk_round "$DURATION" "$url" "$key" "$chat")
      after=$(cpu_ticks "$@") extra_after=$(cpu_ticks "${@:2}")
      requests=$(awk '/requests in/ {print $1}' <<<"$out")
      pair_rps[$side]=$(rps_of "$out")
      pair_cpu[$side]=$(awk -v t=$((after - before)) -v hz="$tick" -v n="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
      pair_extra[$side]=$(awk -v t=$((extra_after - extra_before)) -v hz="$tick" -v n="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
    done
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "${pair_rps[A]}" "${pair_rps[B]}" "${pair_cpu[A]}" "${pair_cpu[B]}" "${pair_extra[A]}" "${pair_extra[B]}" >>"$file"
    echo "bench: $(basename "$file" .tsv), pair $round ($order): A ${pair_rps[A]} req/s ${pair_cpu[A]} µs, B ${pair_rps[B]} req/s ${pair_cpu[B]} µs (of which other processes: ${pair_extra[A]}, ${pair_extra[B]})" >&2
  done
}
no_switch() { :; }
pipeline_side() { if [ "$1" = B ]; then pipeline_switch true; else pipeline_switch false; fi; }

# What the resilience pipeline costs a call that needs none of it: A off, B on, in the gateway that reloads the setting.
pipeline="$work/pipeline.tsv"
if [ -n "${PAIRS:-}" ] || { [ -n "${ONLY:-}" ] && grep -Eq "$ONLY" <<<"resilience pipeline"; }; then
  pairs "$pipeline" "http://127.0.0.1:$gw_plain$passthrough" pipeline_side "$open_key" "$open_key" $gw_plain_pid
  pipeline_switch false
fi

# What the access log costs (its default output: JSON lines to standard output, here the gateway's log file): A silenced
# (Logging:LogLevel:Gateway.AccessLog None), B on, switched by a reload in the gateway that reloads its own config copy.
accesslog_switch() { # on|off
  if [ "$1" = off ]; then echo '{"Logging": {"LogLevel": {"Gateway.AccessLog": "None"}}}'; else echo '{}'; fi >"$work/config/zz-bench-accesslog.json"
  sleep 2
}
accesslog_side() { if [ "$1" = B ]; then accesslog_switch on; else accesslog_switch off; fi; }
accesslog="$work/accesslog.tsv"
if [ -n "${PAIRS:-}" ] || { [ -n "${ONLY:-}" ] && grep -Eq "$ONLY" <<<"access log pairs"; }; then
  pipeline_switch true
  pairs "$accesslog" "http://127.0.0.1:$gw_plain$passthrough" accesslog_side "$limited_key" "$limited_key" $gw_plain_pid
  accesslog_switch on
  pipeline_switch false
fi

# What each limiter costs a request: in one gateway process, A the client with no policy, B the client with one (redis-
# server's CPU counted on both sides for the Redis store: it serves only the limiter).
limiter_local="$work/limiter-local.tsv" limiter_redis="$work/limiter-redis.tsv"
if [ -n "${PAIRS:-}" ] || { [ -n "${ONLY:-}" ] && grep -Eq "$ONLY" <<<"in-process limiter pairs"; }; then
  pairs "$limiter_local" "http://127.0.0.1:$gw_local$passthrough" no_switch "$open_key" "$limited_key" $gw_local_pid
fi
if [ -n "${PAIRS:-}" ] || { [ -n "${ONLY:-}" ] && grep -Eq "$ONLY" <<<"Redis limiter pairs"; }; then
  pairs "$limiter_redis" "http://127.0.0.1:$gw_redis$passthrough" no_switch "$open_key" "$limited_key" $gw_redis_pid $redis_pid
fi
run "gateway passthrough, Redis limiter (+ redis-server CPU)" "http://127.0.0.1:$gw_redis$passthrough" "$limited_key" "$chat" $gw_redis_pid $redis_pid
if [ -z "${ONLY:-}" ] || grep -Eq "$ONLY" <<<"Redis limiter"; then
  # How many operations one Redis script call carried, over the whole run (warm-up included).
  curl -s "http://127.0.0.1:$gw_redis/metrics" | awk '/^gateway_limiter_redis_batch_size_sum/ { s += $2 } /^gateway_limiter_redis_batch_size_count/ { c += $2 }
    END { if (c > 0) printf "%d script calls carried %.2f operations each (the whole run, warm-up included)", c, s / c }' >"$work/batches.txt"
  [ -s "$work/batches.txt" ] && echo "bench: Redis limiter — $(cat "$work/batches.txt")" >&2
  # What the limiter's script costs redis-server by how many calls a client has in flight (the script call is shared by
  # the operations that wait meanwhile): the gateway's own Redis store driven directly, no HTTP, the driver on CPU 0.
  echo "bench: Redis limiter script cost by callers in flight" >&2
  taskset -c $LOAD_CPU dotnet bench/LimiterReplay/bin/Release/net10.0/LimiterReplay.dll "127.0.0.1:$redis" "$redis_pid" \
    "$([ -n "${SMOKE:-}" ] && echo 0.3 || echo 2)" "$([ -n "${SMOKE:-}" ] && echo 1,8 || echo 1,8,64)" >"$work/replay.md"
fi
run "gateway normalized /v1/ai/generate, in-process limiter" "http://127.0.0.1:$gw_local/v1/ai/generate" "$limited_key" "$task" $gw_local_pid
run "gateway OpenAI-compatible /v1/chat/completions, in-process limiter" "http://127.0.0.1:$gw_local/v1/chat/completions" "$limited_key" "$compat" $gw_local_pid
# Paired with bare YARP proxying the streamed chat call.
BASE_BODY=$chat_stream run "gateway normalized /v1/ai/generate streamed, in-process limiter" "http://127.0.0.1:$gw_local/v1/ai/generate" "$limited_key" "$task_stream" $gw_local_pid

echo "bench: streamed calls' time to first byte, $STREAMS one after another"
ttfb_run "bare YARP, streamed (baseline)" "http://127.0.0.1:$bare$passthrough" "" "$chat_stream"
BASE_TTFB_URL="http://127.0.0.1:$bare$passthrough"
ttfb_run "gateway passthrough streamed, in-process limiter" "http://127.0.0.1:$gw_local$passthrough" "$limited_key" "$chat_stream"
ttfb_run "gateway normalized streamed, in-process limiter" "http://127.0.0.1:$gw_local/v1/ai/generate" "$limited_key" "$task_stream"

# SOAK=1: many slow streams open at once (target: the gateway's resident memory under 300 MB and flat over 2 minutes), and
# a noisy neighbour on the Redis limiter (target: another client's p99 up by at most 10 %). h2load drives both.
soak="$work/soak.tsv" neighbour="$work/neighbour.tsv"
default_seconds=$SECONDS
if [ -n "${SOAK:-}" ]; then
  command -v h2load >/dev/null || { echo "bench: SOAK=1 needs h2load (apt-get install nghttp2-client)" >&2; exit 1; }
  STREAMS_OPEN=${STREAMS_OPEN:-1000} SOAK_SECONDS=${SOAK_SECONDS:-120}
  [ -n "${SMOKE:-}" ] && STREAMS_OPEN=20 SOAK_SECONDS=2
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  slow_body='{"model":"gpt-6-luna","stream":true,"stream_options":{"include_usage":true},"bench_slow":true,"messages":[{"role":"user","content":"Summarize the following email."}]}'
  printf '%s' "$slow_body" >"$work/slow.json"
  echo "bench: $STREAMS_OPEN slow streams through the gateway (in-process limiter), resident memory every 10 s for $SOAK_SECONDS s"
  taskset -c $LOAD_CPU h2load --h1 -c "$STREAMS_OPEN" -n "$STREAMS_OPEN" -d "$work/slow.json" -H "Content-Type: application/json" \
    -H "Authorization: Bearer $limited_key" "http://127.0.0.1:$gw_local$passthrough" >/dev/null 2>&1 &
  soak_pid=$!; pids+=($soak_pid)
  open=0
  for _ in $(seq 1 120); do
    open=$(ss -Htn state established "( sport = :$gw_local )" | wc -l)
    [ "$open" -ge "$STREAMS_OPEN" ] && break
    sleep 0.5
  done
  rss() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
  # Garbage collections and MB allocated so far (the gateway's /metrics): resident memory grows with what is allocated
  # until a collection runs (the chart's gen0 budget is 32 MiB a heap), which a leak does not undo.
  # The third figure: the managed heap the last collection left (MB), what a leak grows however the collections fall.
  gc_state() { curl -s "http://127.0.0.1:$gw_local/metrics" | awk '/^dotnet_gc_collections_total/ { c += $NF } /^dotnet_gc_heap_total_allocated_bytes_total/ { a = $NF }
    /^dotnet_gc_last_collection_heap_size_bytes/ { h += $NF } END { printf "%d %.0f %.0f\n", c, a / 1048576, h / 1048576 }'; }
  read -r gcs_before allocated_before _ < <(gc_state)
  samples=$(rss $gw_local_pid) heap_ref=""
  # Read 30 s in (the resident memory's reference for "flat", below) and at the end: a scrape allocates too.
  for i in $(seq 1 $((SOAK_SECONDS / 10))); do
    sleep 10; samples="$samples $(rss $gw_local_pid)"
    if [ "$i" -eq 3 ]; then heap_ref=$(gc_state | cut -d' ' -f3); fi
  done
  [ -n "${SMOKE:-}" ] && { sleep "$SOAK_SECONDS"; samples="$samples $(rss $gw_local_pid)"; }
  read -r gcs_after allocated_after heap_end < <(gc_state)
  still=$(ss -Htn state established "( sport = :$gw_local )" | wc -l)
  kill $soak_pid 2>/dev/null || true
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$open" "$still" "$samples" "$((gcs_after - gcs_before))" "$((allocated_after - allocated_before))" "${heap_ref:-$heap_end} $heap_end" | tee "$soak"
  # Wait for the streams to be gone before the next study.
  for _ in $(seq 1 60); do [ "$(ss -Htn state established "( sport = :$gw_local )" | wc -l)" -le 1 ] && break; sleep 0.5; done

  # The neighbour: a client with a generous policy at a fixed rate, alone and then with a second client sending 10× what
  # its own policy allows (most of its calls refused 429 by the Redis limiter), in pairs, the order flipping; the
  # neighbour's p99 from h2load's per-request log.
  NEIGHBOUR_RATE=${NEIGHBOUR_RATE:-1000} HAMMER_LIMIT=${HAMMER_LIMIT:-100} NEIGHBOUR_SECONDS=$DURATION
  [ -n "${SMOKE:-}" ] && NEIGHBOUR_SECONDS=1
  printf '%s' "$chat" >"$work/body.json"
  neighbour_round() { # alone|hammered -> p99 in ms, then the hammer's 429 share
    local log="$work/neighbour.log" hammer_out="$work/hammer.out"
    : >"$hammer_out"
    if [ "$1" = hammered ]; then
      taskset -c $LOAD_CPU h2load --h1 -c 10 --rps "$HAMMER_LIMIT" -D $((NEIGHBOUR_SECONDS + 2)) -d "$work/body.json" \
        -H "Content-Type: application/json" -H "Authorization: Bearer $hammer_key" "http://127.0.0.1:$gw_redis$passthrough" >"$hammer_out" 2>&1 &
      local hp=$!
      sleep 1
    fi
    taskset -c $LOAD_CPU h2load --h1 -c 10 --rps $((NEIGHBOUR_RATE / 10)) -D "$NEIGHBOUR_SECONDS" -d "$work/body.json" --log-file="$log" \
      -H "Content-Type: application/json" -H "Authorization: Bearer $limited_key" "http://127.0.0.1:$gw_redis$passthrough" >/dev/null 2>&1
    [ "$1" = hammered ] && wait $hp
    printf '%s\t%s\t%s\t%s\n' "$1" "$(awk '{ print $3 / 1000 }' "$log" | sort -g | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f", v[i] }')" \
      "$(awk '$2 != 200' "$log" | wc -l)" "$(awk '/^status codes:/ { print $7 " of " $3 + $7 }' "$hammer_out")"
  }
  echo "bench: neighbour at $NEIGHBOUR_RATE req/s on the Redis limiter, alone and beside a client sending $((HAMMER_LIMIT * 10)) req/s against a $HAMMER_LIMIT req/s policy"
  taskset -c $LOAD_CPU h2load --h1 -c 10 --rps $((NEIGHBOUR_RATE / 10)) -D 3 -d "$work/body.json" -H "Content-Type: application/json" \
    -H "Authorization: Bearer $limited_key" "http://127.0.0.1:$gw_redis$passthrough" >/dev/null 2>&1
  for round in $(seq 1 "$MEASURED"); do
    for side in $([ $((round % 2)) -eq 0 ] && echo "hammered alone" || echo "alone hammered"); do
      neighbour_round $side | tee -a "$neighbour"
    done
  done
fi

# The same scenarios at one fixed request rate (h2load --rps: an open loop), so CPU per request is compared at equal load:
# a closed loop (wrk) runs a slower scenario at a lower rate, with fewer events per wake-up, which inflates its CPU per
# request whatever the scenario itself costs.
fixed="$work/fixed.tsv"
if [ -n "${FIXED:-}" ] && command -v h2load >/dev/null && [ -z "${SMOKE:-}" ]; then
  RATE=${RATE:-3000}
  fixed_round() { # name url key body pids...
    local name=$1 url=$2 key=$3 body=$4; shift 4
    if [ -n "${ONLY:-}" ] && ! grep -Eq "bare|no limits|$ONLY" <<<"$name"; then return; fi
    printf '%s' "$body" >"$work/body.json"
    local auth=() out before after done ok
    [ -n "$key" ] && auth=(-H "Authorization: Bearer $key")
    local load=(taskset -c $LOAD_CPU h2load --h1 -c 30 --rps $((RATE / 30)) -d "$work/body.json" -H "Content-Type: application/json" "${auth[@]}")
    "${load[@]}" -D 5 "$url" >/dev/null
    local extra_before=0 extra_after=0
    before=$(cpu_ticks "$@")
    [ $# -gt 1 ] && extra_before=$(cpu_ticks "${@:2}")
    out=$("${load[@]}" -D "$DURATION" "$url")
    after=$(cpu_ticks "$@")
    [ $# -gt 1 ] && extra_after=$(cpu_ticks "${@:2}")
    done=$(awk '/^requests:/ {print $8}' <<<"$out")
    ok=$(awk '/^status codes:/ {print $3}' <<<"$out")
    if [ $# -gt 1 ]; then
      echo "bench: $name at $RATE req/s — of which the other processes (redis-server): $(awk -v t=$((extra_after - extra_before)) -v hz="$tick" -v n="$done" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }') µs/request" >&2
    fi
    printf '%s\t%s\t%s\t%s\n' "$name" "$(awk -v n="$done" -v d="$DURATION" 'BEGIN { printf "%.0f", n / d }')" \
      "$(awk -v t=$((after - before)) -v hz="$tick" -v n="$done" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')" "$((done - ok))" | tee -a "$fixed"
  }
  echo "bench: the same at a fixed rate of $RATE requests/s (h2load --rps, on CPU $LOAD_CPU)"
  fixed_round "bare YARP (baseline)" "http://127.0.0.1:$bare$passthrough" "" "$chat" $bare_pid
  fixed_round "gateway passthrough, client key, no limits" "http://127.0.0.1:$gw_local$passthrough" "$open_key" "$chat" $gw_local_pid
  fixed_round "gateway passthrough, in-process limiter" "http://127.0.0.1:$gw_local$passthrough" "$limited_key" "$chat" $gw_local_pid
  fixed_round "gateway passthrough, client key, resilience pipeline off" "http://127.0.0.1:$gw_plain$passthrough" "$open_key" "$chat" $gw_plain_pid
  fixed_round "gateway passthrough, Redis limiter (+ redis-server CPU)" "http://127.0.0.1:$gw_redis$passthrough" "$limited_key" "$chat" $gw_redis_pid $redis_pid
fi

# The issue's targets, judged on this run's figures (ratios to bare YARP from the paired rounds).
targets() {
  row_of() { awk -F'\t' -v n="$1" '$1 == n' "$results"; }
  echo
  echo "Targets (against bare YARP in this run):"
  echo
  local lim redis norm compat_row bare_single
  lim=$(row_of "gateway passthrough, in-process limiter") redis=$(row_of "gateway passthrough, Redis limiter (+ redis-server CPU)")
  compat_row=$(row_of "gateway OpenAI-compatible /v1/chat/completions, in-process limiter")
  norm=$(row_of "gateway normalized /v1/ai/generate, in-process limiter") bare_single=$(row_of "bare YARP (baseline)" | cut -f8)
  verdict() { awk -v ok="$1" 'BEGIN { print (ok ? "met" : "**NOT met**") }'; }
  if [ -n "$lim" ]; then
    IFS=$'\t' read -r _ _ _ _ _ _ _ single rps_r cpu_r p99_r bare_single _ <<<"$lim"
    rps_r=$(printf '%.2f' "$rps_r") cpu_r=$(printf '%.2f' "$cpu_r") p99_r=$(printf '%.2f' "$p99_r")
    echo "1. Passthrough, in-process limiter: $rps_r× req/s (≥ 0.85: $(verdict "$(awk -v v="$rps_r" 'BEGIN { print (v >= 0.85) }')")), CPU $cpu_r× (≤ 1.2: $(verdict "$(awk -v v="$cpu_r" 'BEGIN { print (v <= 1.2) }')")), p99 $p99_r× (≤ 1.2: $(verdict "$(awk -v v="$p99_r" 'BEGIN { print (v <= 1.2) }')")), 1-connection p50 $single ms against $bare_single (≤ +0.05 ms: $(verdict "$(awk -v a="$single" -v b="$bare_single" 'BEGIN { print (a <= b + 0.05) }')"))."
  fi
  if [ -n "$redis" ]; then
    IFS=$'\t' read -r _ _ _ _ _ _ _ _ rps_r _ _ _ <<<"$redis"
    rps_r=$(printf '%.2f' "$rps_r")
    echo "2. Passthrough, Redis limiter: $rps_r× req/s (≥ 0.70: $(verdict "$(awk -v v="$rps_r" 'BEGIN { print (v >= 0.70) }')"))."
  fi
  local bare_ttfb pass_ttfb norm_ttfb
  local pass_base norm_base
  bare_ttfb=$(awk -F'\t' 'NR == 1 { print $2 }' "$ttfb" 2>/dev/null) pass_ttfb=$(awk -F'\t' '$1 ~ /passthrough streamed/ { print $2 }' "$ttfb" 2>/dev/null)
  norm_ttfb=$(awk -F'\t' '$1 ~ /normalized streamed/ { print $2 }' "$ttfb" 2>/dev/null)
  pass_base=$(awk -F'\t' '$1 ~ /passthrough streamed/ { print $4 }' "$ttfb" 2>/dev/null) norm_base=$(awk -F'\t' '$1 ~ /normalized streamed/ { print $4 }' "$ttfb" 2>/dev/null)
  if [ -n "$norm" ] && [ -n "$norm_ttfb" ]; then
    IFS=$'\t' read -r _ _ _ _ _ _ _ _ rps_r _ _ _ <<<"$norm"
    rps_r=$(printf '%.2f' "$rps_r")
    echo "3. Normalized: $rps_r× req/s (≥ 0.60: $(verdict "$(awk -v v="$rps_r" 'BEGIN { print (v >= 0.60) }')")); streamed TTFB $(awk -v a="$norm_ttfb" -v b="${norm_base:-$bare_ttfb}" 'BEGIN { printf "%+.3f", a - b }') ms (≤ +0.5: $(verdict "$(awk -v a="$norm_ttfb" -v b="${norm_base:-$bare_ttfb}" 'BEGIN { print (a - b <= 0.5) }')"))."
  fi
  if [ -n "$pass_ttfb" ]; then
    echo "4. Passthrough streamed TTFB $(awk -v a="$pass_ttfb" -v b="${pass_base:-$bare_ttfb}" 'BEGIN { printf "%+.3f", a - b }') ms (≤ +0.3: $(verdict "$(awk -v a="$pass_ttfb" -v b="${pass_base:-$bare_ttfb}" 'BEGIN { print (a - b <= 0.3) }')"))."
  fi
  if [ -n "$compat_row" ]; then
    IFS=$'\t' read -r _ _ _ _ _ _ _ _ rps_r _ _ _ <<<"$compat_row"
    rps_r=$(printf '%.2f' "$rps_r")
    echo "7. OpenAI-compatible /v1/chat/completions: $rps_r× req/s (≥ 0.60: $(verdict "$(awk -v v="$rps_r" 'BEGIN { print (v >= 0.60) }')"))."
  fi
  if [ -s "$soak" ]; then
    IFS=$'\t' read -r open still samples gcs allocated heaps <"$soak"
    # Flat: the last sample within 10 % of the one 30 s in (the first ones still grow while the streams open). Without a
    # garbage collection in the window, growth is garbage not yet collected as much as anything kept: said beside it.
    awk -v s="$samples" -v o="$open" -v n="$STREAMS_OPEN" -v st="$still" -v g="$gcs" -v m="$allocated" 'BEGIN { k = split(s, v, " "); max = 0; for (i = 1; i <= k; i++) if (v[i] > max) max = v[i]
      ref = v[(k >= 4) ? 4 : 1]; flat = v[k] <= ref * 1.1
      printf "5. %d of %d streams open (%d still open at the end): peak %d MB (< 300: %s), %d MB 30 s in → %d MB at the end (flat within 10 %%: %s)%s.\n",
        o, n, st, max, (max < 300 && o >= n ? "met" : "**NOT met**"), ref, v[k], (flat ? "met" : "**NOT met**"),
        (g == 0 && !flat ? sprintf(" — no garbage collection ran in the window, in which the gateway allocated %d MB", m) : "") }'
  fi
  if [ -s "$neighbour" ]; then
    local alone hammered
    alone=$(awk -F'\t' '$1 == "alone" { print $2 }' "$neighbour" | median) hammered=$(awk -F'\t' '$1 == "hammered" { print $2 }' "$neighbour" | median)
    awk -v a="$alone" -v h="$hammered" 'BEGIN { printf "6. Neighbour p99 %.3f ms alone, %.3f ms beside the hammering client: %+.1f %% (≤ +10 %%: %s).\n", a, h, (h / a - 1) * 100, (h <= a * 1.1 ? "met" : "**NOT met**") }'
  fi
}

report=${REPORT:-bench/results/latest.md}
mkdir -p "$(dirname "$report")"
{
  echo "# Gateway benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "wrk -t1 -c$CONNECTIONS pinned to CPU $LOAD_CPU; fake vendor, proxy and redis-server pinned to CPU $SERVER_CPU; $(nproc) CPUs."
  echo "Each scenario warms up until two 3 s rounds agree within 5 %, then $MEASURED rounds of ${DURATION} s: the median of each figure."
  echo "Each gateway round is paired with a bare YARP round just before or after it (the order flipping every round); the"
  echo "columns against bare YARP are the medians of the rounds' ratios to their paired bare round."
  echo "CPU µs/request: the proxy process's utime + stime over a round ÷ its requests (redis-server's added in the Redis"
  echo "scenario). 1-conn p50: one connection, one request at a time (wrk -c1, ${SINGLE} s). Latencies in ms."
  echo "Both proxies run with the chart's GC settings (startup.gc): ${gc_env[*]:-none, the runtime defaults}; idle thread-pool"
  echo "workers block without spinning in both (the gateway's runtimeconfig, DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 for bare YARP)."
  echo
  echo "| scenario | req/s | vs bare YARP | CPU µs/req | CPU vs bare | Δ CPU vs no limits (× bare's) | p50 | p99 | p99 vs bare | 1-conn p50 | bare YARP 1-conn p50 alongside | non-2xx |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  # Δ CPU: the difference of the two scenarios' paired ratios to bare YARP (rounds minutes apart differ by slow spells;
  # each ratio compares rounds a minute apart at most).
  awk -F'\t' '$1 ~ /no limits/ { open_ratio = $10 }
    { rows[NR] = $0 } END {
      for (i = 1; i <= NR; i++) {
        split(rows[i], f, "\t")
        delta = (f[1] ~ /passthrough, .*(limiter|pipeline off)/ && open_ratio > 0) ? sprintf("%+.2f×", f[10] - open_ratio) : ""
        printf "| %s | %s | %.2f× | %s | %.2f× | %s | %s | %s | %.2f× | %s | %s | %s |\n", f[1], f[2], f[9], f[3], f[10], delta, f[4], f[5], f[11], f[8], f[12], f[6]
      }
    }' "$results"
  awk -F'\t' '$1 ~ /Redis/ && $13 > 0 { printf "\nOf the Redis scenario'"'"'s CPU per request, redis-server'"'"'s: %s µs (median of its rounds).", $13 }' "$results"
  [ -s "$work/batches.txt" ] && echo " The Redis limiter's $(cat "$work/batches.txt")."
  echo
  if [ -s "$work/replay.md" ]; then
    echo
    echo "The Redis limiter's script alone (bench/LimiterReplay: the gateway's Redis store driven by callers of one client"
    echo "that each ask for a decision and settle as the gateway does, 2 s each): redis-server's CPU per request"
    echo "by how many calls the client has in flight."
    echo
    cat "$work/replay.md"
  fi
  if [ -s "$ttfb" ]; then
    echo
    echo "Streamed calls, time to first byte (ms): median of $STREAMS calls one after another, each on a new connection (curl);"
    echo "each gateway call alternates with a bare YARP streamed call, whose median is the scenario's baseline:"
    echo
    echo "| scenario | TTFB p50 | bare YARP alongside | vs bare YARP | not 200 |"
    echo "|---|---|---|---|---|"
    awk -F'\t' '{ base = ($4 != "") ? $4 : $2; printf "| %s | %s | %s | %+.3f ms | %s |\n", $1, $2, base, $2 - base, $3 }' "$ttfb"
  fi
  echo
  echo "Peak resident memory (VmHWM) at the end of the run: $(for p in "bare YARP:$bare_pid" "gateway, in-process:$gw_local_pid" "gateway, Redis:$gw_redis_pid"; do
    printf '%s %s MB; ' "${p%%:*}" "$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/${p##*:}/status")"; done)"
  if [ -s "$soak" ]; then
    echo
    IFS=$'\t' read -r open still samples gcs allocated heaps <"$soak"
    echo "$STREAMS_OPEN slow streams at once through the gateway (in-process limiter; the vendor sends a chunk a second):"
    echo "$open connections open, $still still open after ${SOAK_SECONDS} s; gateway resident memory (MB) every 10 s: $samples;"
    read -r heap_ref heap_end <<<"$heaps"
    echo "over those ${SOAK_SECONDS} s the gateway allocated $allocated MB and ran $gcs garbage collections; the managed heap the last"
    echo "collection had left was $heap_ref MB 30 s in and $heap_end MB at the end (what a leak grows, however the collections fall)."
  fi
  if [ -s "$neighbour" ]; then
    echo
    echo "Noisy neighbour on the Redis limiter: a client at $NEIGHBOUR_RATE req/s (h2load, 10 connections, ${NEIGHBOUR_SECONDS} s) alone, and"
    echo "beside a client sending $((HAMMER_LIMIT * 10)) req/s against its $HAMMER_LIMIT req/s policy; in pairs, the order flipping:"
    echo
    echo "| round | neighbour | p99 ms | neighbour not 200 | hammer refused |"
    echo "|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %d | %s | %s | %s | %s |\n", int((NR + 1) / 2), $1, $2, $3, $4 }' "$neighbour"
  fi
  targets
  pair_table() { # file label-A label-B [label of the other processes, when they were measured]
    if [ -n "${4:-}" ]; then
      echo "| pair | $2 req/s | $3 req/s | $3 ÷ $2 | $2 CPU µs/req | $3 CPU µs/req | Δ CPU | of which $4 ($2 → $3) |"
      echo "|---|---|---|---|---|---|---|---|"
      awk -F'\t' '{ printf "| %s | %s | %s | %.3f× | %s | %s | %+.1f | %s → %s |\n", $1, $2, $3, $3 / $2, $4, $5, $5 - $4, $6, $7 }' "$1"
    else
      echo "| pair | $2 req/s | $3 req/s | $3 ÷ $2 | $2 CPU µs/req | $3 CPU µs/req | Δ CPU |"
      echo "|---|---|---|---|---|---|---|"
      awk -F'\t' '{ printf "| %s | %s | %s | %.3f× | %s | %s | %+.1f |\n", $1, $2, $3, $3 / $2, $4, $5, $5 - $4 }' "$1"
    fi
    echo
  }
  on_off_study() { # file, then the lines that say what was switched
    local file=$1 ratio delta; shift
    [ -s "$file" ] || return 0
    echo
    printf '%s\n' "$@"
    echo
    pair_table "$file" off on
    ratio=$(awk -F'\t' '{ print $3 / $2 }' "$file" | median)
    delta=$(awk -F'\t' '{ print $5 - $4 }' "$file" | median)
    awk -v r="$ratio" -v d="$delta" 'BEGIN { printf "Median of the pairs: on ÷ off = %.3f× the throughput (target ≥ 0.95×: %s), %+.1f CPU µs/request.\n", r, (r >= 0.95 ? "met" : "NOT met"), d }'
  }
  on_off_study "$pipeline" \
    "Resilience pipeline on (shipped defaults) against off (\`Gateway:Resilience:Enabled=false\`) in one gateway process (the" \
    "setting reloaded between rounds), passthrough, client key, no faults — back-to-back ${DURATION} s rounds in pairs, the" \
    "order flipping every pair:"
  on_off_study "$accesslog" \
    "Access log on (shipped default: JSON lines to standard output) against silenced (\`Logging:LogLevel:Gateway.AccessLog=None\`)" \
    "in one gateway process (reloaded between rounds), passthrough, in-process limiter — back-to-back ${DURATION} s rounds in" \
    "pairs, the order flipping every pair:"
  for store in local redis; do
    file=$limiter_local label="in-process limiter" target=10 extra=""
    [ $store = redis ] && file=$limiter_redis label="Redis limiter" target=40 extra=" (redis-server's CPU included on both sides)"
    [ -s "$file" ] || continue
    echo
    echo "$label: the client with no policy against the client with one, in one gateway process$extra, passthrough —"
    echo "back-to-back ${DURATION} s rounds in pairs, the order flipping every pair:"
    echo
    pair_table "$file" "no policy" "policy" "$([ $store = redis ] && echo redis-server)"
    delta=$(awk -F'\t' '{ print $5 - $4 }' "$file" | median)
    awk -v d="$delta" -v t="$target" -v l="$label" 'BEGIN { printf "Median of the pairs: the %s adds %+.1f CPU µs/request (target ≤ %d: %s).\n", l, d, t, (d <= t ? "met" : "NOT met") }'
  done
  if [ -s "$fixed" ]; then
    echo
    echo "At a fixed rate of $RATE requests/s (h2load --h1 -c 30 --rps $((RATE / 30)), ${DURATION} s after 5 s at the same rate):"
    echo
    echo "| scenario | req/s done | CPU µs/req | Δ CPU vs no limits | failed or non-2xx |"
    echo "|---|---|---|---|---|"
    awk -F'\t' '$1 ~ /no limits/ { open_cpu = $3 } { rows[NR] = $0 } END {
        for (i = 1; i <= NR; i++) {
          split(rows[i], f, "\t")
          delta = (f[1] ~ /limiter|pipeline off/ && open_cpu > 0) ? sprintf("%+.1f", f[3] - open_cpu) : ""
          printf "| %s | %s | %s | %s | %s |\n", f[1], f[2], f[3], delta, f[4]
        }
      }' "$fixed"
  fi
  echo
  echo "Run time: $((default_seconds / 60)) min $((default_seconds % 60)) s to the end of the streamed calls (build included)$([ -n "${SOAK:-}" ] && echo ", $(((SECONDS - default_seconds) / 60)) min $(((SECONDS - default_seconds) % 60)) s more for SOAK")."
} >"$report"
cat "$report"
