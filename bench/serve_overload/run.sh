#!/usr/bin/env bash
# section: serve-overload
# about: serve --degrade overloaded with slow tiles: the queue bounded by count alone (--queue-wait 0) beside the time bound (--queue-wait, CoDel-style); p99, answers/s, full tiles/s
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

seconds=$(bench_pick 10 1) rounds=$(bench_pick 3 1) conns=256
# A slow tile (the seahorse valley: every pixel iterates long), never cached (--cache-mb 0), so
# every request computes it or, overloaded, gets --degrade's coarse tile or a 503.
tile="/mandelbrot.png?z=6&x=32&y=33&n=5000"
declare -A flags=([count]="--queue-wait 0" [timed]="--queue-wait 1")
declare -A label=([count]="--queue 64 alone (--queue-wait 0)" [timed]="--queue 64 and --queue-wait 1")
servers=(count timed)
declare -A port=()
for s in "${servers[@]}"; do
  # shellcheck disable=SC2086  # the flags are words
  bench_start "$s" "$sk" -q serve --listen 127.0.0.1:0 -w 2 --threads 4 --degrade --cache-mb 0 ${flags[$s]}
done
for s in "${servers[@]}"; do
  port[$s]=$(bench_listening_port "$s")
  bench_wait_log "$s" "2 workers ready"
done
# The sums over the workers of the counters that tell the answers apart.
counters() {  # NAME
  curl -sf "http://127.0.0.1:${port[$1]}/metrics" | awk '
    /^scalekit_serve_requests_total\{.*code="2xx"/ { ok += $2 }
    /^scalekit_serve_degraded_total\{/ { degraded += $2 }
    /^scalekit_serve_shed_total\{/ { shed += $2 }
    /^scalekit_serve_shed_waited_total\{/ { waited += $2 }
    END { printf "%d %d %d %d\n", ok, degraded, shed, waited }'
}
results="$out/results"
: > "$results"
for ((round = 1; round <= rounds; round++)); do
  for s in "${servers[@]}"; do
    read -r ok0 deg0 shed0 wait0 < <(counters "$s")
    report=$(wrk -t 2 -c "$conns" -d "${seconds}s" --timeout 10s --latency "http://127.0.0.1:${port[$s]}$tile" 2>&1)
    read -r ok1 deg1 shed1 wait1 < <(counters "$s")
    # /metrics' own requests are 2xx too: a handful against thousands.
    awk -v s="$s" -v secs="$seconds" -v full=$((ok1 - ok0 - (deg1 - deg0))) -v deg=$((deg1 - deg0)) \
      -v shed=$((shed1 - shed0)) -v waited=$((wait1 - wait0)) "$bench_wrk_ms"'
      /Requests\/sec:/ { rps = $2 }
      /^ +50%/ { p50 = ms($2) }
      /^ +99%/ { p99 = ms($2) }
      /Socket errors/ { errs = $0 }
      END { printf "%s %.0f %.1f %.0f %.1f %.1f %.1f %d %s\n", s, rps, p50, p99, full / secs, deg / secs, shed / secs,
                   waited, (errs ? "errors:" errs : "") }
    ' <<< "$report" >> "$results"
  done
done
range() { bench_range "$results" "$1" "$2"; }
echo "## serve-overload: serve -w 2 --threads 4 --degrade --cache-mb 0, GET $tile"
echo "## wrk -t 2 -c $conns, $seconds s per run, $rounds interleaved rounds; clients on the same 2 cores"
printf '| queue bound | answers/s | p50 ms | p99 ms | full tiles/s | coarse tiles/s | 503/s | shed by time (per run) |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for s in "${servers[@]}"; do
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "${label[$s]}" "$(range "$s" 2)" "$(range "$s" 3)" \
    "$(range "$s" 4)" "$(range "$s" 5)" "$(range "$s" 6)" "$(range "$s" 7)" "$(range "$s" 8)"
done
echo "p99 per round (count alone / timed): $(paste <(awk '$1 == "count" {print $4}' "$results") \
  <(awk '$1 == "timed" {print $4}' "$results") | awk '{printf "%s%s/%s", (NR > 1 ? ", " : ""), $1, $2}')"
if grep -q errors: "$results"; then echo "socket errors:"; grep errors: "$results"; fi
