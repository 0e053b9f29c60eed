#!/usr/bin/env bash
# section: serve-loop-share
# about: serve --wsgi beside uWSGI with every server on CPU 0 and wrk on CPU 1: requests/s, p99, server CPU and context switches a request, and the share of WSGI calls run on the worker's loop (a Flask hello and a WSGI hello, 8 connections)
#
# SCALEKIT_BENCH_BASE=/path/to/scalekit adds another build's serve beside this one. Two workers
# share one core here, so the core's scheduler preempts calls at each switch: this is where a
# worker's rule for which calls run on its loop (src/serve/worker.cc, quick_score) shows.
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

seconds=$(bench_pick 5 1) rounds=$(bench_pick 3 1) conns=8
base=${SCALEKIT_BENCH_BASE:-}
apps=(flask_hello hello)
echo "## serve_loop_share: servers on CPU 0, wrk -t 2 -c $conns on CPU 1, $seconds s per run, $rounds interleaved rounds"
declare -A port=() label=()
for app in "${apps[@]}"; do
  bench_start "sk-$app" taskset -c 0 "$sk" -q serve --listen 127.0.0.1:0 -w 2 --threads 4 --chdir "$root/bench/serve" --wsgi "$app:app"
  label[sk-$app]="serve --wsgi (2 x 4)"
  if [[ -n $base ]]; then
    bench_start "base-$app" taskset -c 0 "$base" -q serve --listen 127.0.0.1:0 -w 2 --threads 4 --chdir "$root/bench/serve" --wsgi "$app:app"
    label[base-$app]="serve --wsgi (2 x 4), the base build"
  fi
  port[uw-$app]=$(bench_free_port)
  bench_start "uw-$app" taskset -c 0 uwsgi_python3 --http11-socket "127.0.0.1:${port[uw-$app]}" --processes 2 --threads 4 \
    --chdir "$root/bench/serve" --wsgi-file "$app.py" --callable app --disable-logging --master --die-on-term
  label[uw-$app]="uWSGI --http11-socket (2 x 4)"
done
for app in "${apps[@]}"; do
  for s in "sk-$app" ${base:+"base-$app"}; do port[$s]=$(bench_listening_port "$s"); bench_wait_log "$s" "2 workers ready"; done
  bench_wait_tcp "uw-$app" "${port[uw-$app]}"
done
switches() {  # context switches (voluntary and not) of every thread of a server's processes
  local p total=0
  for p in $(pgrep -g "$(bench_pid "$1")"); do
    total=$((total + $(cat /proc/"$p"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}')))
  done
  echo "$total"
}
counter() {  # the sum over workers of serve's counter $2 on /metrics
  curl -s "127.0.0.1:${port[$1]}/metrics" | awk -v k="$2" 'index($0, k "{") == 1 {s += $NF} END {print s + 0}'
}
results="$out/results"
: > "$results"
measure() {  # NAME: "NAME rps p99-ms cpu-us/request switches/request on-loop-share"
  local s=$1 c0 c1 w0 w1 l0=0 l1=0
  c0=$(bench_cpu_ticks "$(bench_pid "$s")") w0=$(switches "$s")
  [[ $s != uw-* ]] && l0=$(counter "$s" scalekit_serve_wsgi_run_on_loop_total)
  taskset -c 1 wrk -t 2 -c "$conns" -d "${seconds}s" --latency "http://127.0.0.1:${port[$s]}/" > "$out/wrk.out" 2>&1
  c1=$(bench_cpu_ticks "$(bench_pid "$s")") w1=$(switches "$s")
  [[ $s != uw-* ]] && l1=$(counter "$s" scalekit_serve_wsgi_run_on_loop_total)
  awk -v s="$s" -v t=$((c1 - c0)) -v us="$bench_tick_us" -v w=$((w1 - w0)) -v l=$((l1 - l0)) "$bench_wrk_ms"'
    /Requests\/sec:/ { rps = $2 } /^ +99%/ { p99 = ms($2) } /requests in/ { n = $1 }
    END { printf "%s %d %s %.1f %.2f %s\n", s, rps, p99, n ? t * us / n : 0, n ? w / n : 0,
                 s ~ /^uw-/ ? "-" : sprintf("%.2f", n ? l / n : 0) }' "$out/wrk.out" >> "$results"
}
for ((round = 1; round <= rounds; round++)); do
  for app in "${apps[@]}"; do for s in "sk-$app" ${base:+"base-$app"} "uw-$app"; do measure "$s"; done; done
done
printf '| server | app | requests/s | p99 ms | server CPU µs/request | context switches/request | calls on the loop |\n'
printf '|---|---|---|---|---|---|---|\n'
for app in "${apps[@]}"; do
  for s in "sk-$app" ${base:+"base-$app"} "uw-$app"; do
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${label[$s]}" "$app" "$(bench_range "$results" "$s" 2)" \
      "$(bench_range "$results" "$s" 3)" "$(bench_range "$results" "$s" 4)" "$(bench_range "$results" "$s" 5)" \
      "$(if [[ $s == uw-* ]]; then echo "n/a"; else bench_range "$results" "$s" 6; fi)"
  done
done
echo
echo "round by round (server rps p99 cpu switches on-loop):"
cat "$results"
