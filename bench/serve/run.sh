#!/usr/bin/env bash
# section: serve
# about: serve's native endpoints beside nginx (a static file); serve --wsgi beside uWSGI, gunicorn and waitress (a WSGI hello, a 10 KiB GET, a 10 KiB echo POST), and beside uWSGI with a Flask hello; wrk, 64 connections, then 8
#
# SCALEKIT_BENCH_BASE=/path/to/scalekit adds another build's serve (main's, say) beside this one: its native
# /healthz and its --wsgi apps.
# Each row also says how many of wrk's connections the server served (the others waited in the
# accept queue all along: wrk times only the answered ones) and wrk's own CPU per request.
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

seconds=$(bench_pick 5 1) rounds=$(bench_pick 3 1) conns=64 few=8
base=${SCALEKIT_BENCH_BASE:-}
# SCALEKIT_BENCH_PIN=1: every server on CPU 0, wrk on CPU 1 (taskset). On 2 shared cores a
# server's tail is mostly its loop waiting behind wrk's threads in a run queue; pinned, a
# server's processes wait only for each other, so the p99s compare the servers.
srv=() cli=()
if [[ -n ${SCALEKIT_BENCH_PIN:-} ]]; then srv=(taskset -c 0) cli=(taskset -c 1); fi
echo "## serve: wrk -t 2 -c $conns (then -c $few for the WSGI hosts' hello), $seconds s per run, $rounds interleaved rounds;"
if [[ -n ${SCALEKIT_BENCH_PIN:-} ]]; then where="servers pinned to CPU 0, wrk to CPU 1"; else where="clients on the same 2 cores"; fi
echo "## 2 server processes each; server and wrk CPU per request from /proc ($where)"
mkdir -p "$out/www"
chmod o+rx "$out" "$out/www"  # nginx's workers run as another user
printf 'ok\n' > "$out/www/healthz"
declare -A port=([nginx]=$(bench_free_port) [gsync]=$(bench_free_port) [gthread]=$(bench_free_port)
  [uwsgi]=$(bench_free_port) [uwsgiflask]=$(bench_free_port) [waitress]=$(bench_free_port))
cat > "$out/nginx.conf" <<CONF
worker_processes 2;
pid $out/nginx.pid;
error_log $out/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:${port[nginx]}; root $out/www; default_type text/plain; }
}
CONF
bench_start sk "${srv[@]}" "$sk" -q serve --listen 127.0.0.1:0 -w 2 --threads 4
bench_start skwsgi "${srv[@]}" "$sk" -q serve --listen 127.0.0.1:0 -w 2 --threads 4 --chdir "$root/bench/serve" --wsgi hello:app
bench_start skflask "${srv[@]}" "$sk" -q serve --listen 127.0.0.1:0 -w 2 --threads 4 --chdir "$root/bench/serve" --wsgi flask_hello:app
if [[ -n $base ]]; then
  bench_start skbasenative "${srv[@]}" "$base" -q serve --listen 127.0.0.1:0 -w 2 --threads 4
  bench_start skbase "${srv[@]}" "$base" -q serve --listen 127.0.0.1:0 -w 2 --threads 4 --chdir "$root/bench/serve" --wsgi hello:app
  bench_start skbaseflask "${srv[@]}" "$base" -q serve --listen 127.0.0.1:0 -w 2 --threads 4 --chdir "$root/bench/serve" \
    --wsgi flask_hello:app
fi
bench_start nginx "${srv[@]}" nginx -c "$out/nginx.conf" -g 'daemon off;'
bench_start gsync "${srv[@]}" gunicorn --chdir "$root/bench/serve" -w 2 -b "127.0.0.1:${port[gsync]}" --log-level warning hello:app
bench_start gthread "${srv[@]}" gunicorn --chdir "$root/bench/serve" -w 2 --threads 4 -k gthread \
  -b "127.0.0.1:${port[gthread]}" --log-level warning hello:app
# uWSGI as its users run it for speed: its own HTTP parser on the socket (--http11-socket: with
# keep-alive), 2
# processes with 4 threads; waitress: one process, 8 threads (it has no workers of its own).
bench_start uwsgi "${srv[@]}" uwsgi_python3 --http11-socket "127.0.0.1:${port[uwsgi]}" --processes 2 --threads 4 \
  --chdir "$root/bench/serve" --wsgi-file hello.py --callable app --disable-logging --master
bench_start uwsgiflask "${srv[@]}" uwsgi_python3 --http11-socket "127.0.0.1:${port[uwsgiflask]}" --processes 2 --threads 4 \
  --chdir "$root/bench/serve" --wsgi-file flask_hello.py --callable app --disable-logging --master
bench_start waitress "${srv[@]}" env PYTHONPATH="$root/bench/serve" /usr/bin/python3 -m waitress --listen="127.0.0.1:${port[waitress]}" --threads 8 \
  hello:app
port[sk]=$(bench_listening_port sk)
port[skwsgi]=$(bench_listening_port skwsgi)
port[skflask]=$(bench_listening_port skflask)
servers=(sk skwsgi skflask nginx gsync gthread uwsgi uwsgiflask waitress)
if [[ -n $base ]]; then
  port[skbasenative]=$(bench_listening_port skbasenative)
  port[skbase]=$(bench_listening_port skbase)
  port[skbaseflask]=$(bench_listening_port skbaseflask)
  servers+=(skbasenative skbase skbaseflask)
fi
for s in "${servers[@]}"; do bench_wait_tcp "$s" "${port[$s]}"; done
for s in sk skwsgi skflask ${base:+skbasenative skbase skbaseflask}; do bench_wait_log "$s" "2 workers ready"; done

declare -A path=([sk]=/healthz [skbasenative]=/healthz [skwsgi]=/ [skbase]=/ [skflask]=/ [skbaseflask]=/ [nginx]=/healthz [gsync]=/ [gthread]=/
  [uwsgi]=/ [uwsgiflask]=/ [waitress]=/)
declare -A label=([sk]="scalekit serve, native /healthz" [nginx]="nginx, a static 3-byte file"
  [skwsgi]="scalekit serve --wsgi (2 x 4), WSGI hello" [uwsgi]="uWSGI --http11-socket (2 x 4), WSGI hello"
  [skbase]="scalekit serve --wsgi (2 x 4), WSGI hello, the base build"
  [skbasenative]="scalekit serve, native /healthz, the base build"
  [skflask]="scalekit serve --wsgi (2 x 4), Flask hello" [skbaseflask]="scalekit serve --wsgi (2 x 4), Flask hello, the base build"
  [uwsgiflask]="uWSGI --http11-socket (2 x 4), Flask hello"
  [waitress]="waitress (1 x 8), WSGI hello"
  [gsync]="gunicorn sync, WSGI hello" [gthread]="gunicorn gthread (2 x 4), WSGI hello")
order=(sk ${base:+skbasenative} nginx skwsgi ${base:+skbase} uwsgi skflask ${base:+skbaseflask} uwsgiflask gsync gthread waitress)
few_order=(skwsgi ${base:+skbase} uwsgi skflask ${base:+skbaseflask} uwsgiflask)
# The WSGI hosts again on bigger bodies (bench/serve/hello.py): a 10 KiB GET, a 10 KiB echo POST.
wsgi_order=(skwsgi ${base:+skbase} uwsgi gsync gthread waitress)
declare -A work_path=([get10k]=/10k [post10k]=/echo)
declare -A work_label=([hello]="" [get10k]=", 10 KiB GET" [post10k]=", 10 KiB echo POST")
results="$out/results"
: > "$results"
# One wrk run: "NAME:WORK CONNS requests/s p99-ms server-µs/request wrk-µs/request served-connections [errors]".
# Served: wrk's connections less those still waiting in the listening socket's accept queue
# (its Recv-Q, read half-way through the run).
measure() {  # NAME CONNECTIONS [WORK: hello (the default), get10k, post10k]
  local s=$1 c=$2 work=${3:-hello} c0 c1 queued
  local url="http://127.0.0.1:${port[$s]}${work_path[$work]:-${path[$s]}}" script=()
  [[ $work == post10k ]] && script=(-s "$root/bench/serve/post10k.lua")
  c0=$(bench_cpu_ticks "$(bench_pid "$s")")
  /usr/bin/time -f '%U %S' -o "$out/wrk.time" \
    "${cli[@]}" wrk -t 2 -c "$c" -d "${seconds}s" --latency "${script[@]}" "$url" > "$out/wrk.out" 2>&1 &
  local w=$!
  sleep "$(awk -v s="$seconds" 'BEGIN {print s / 2}')"
  queued=$(ss -Hltn "sport = :${port[$s]}" | awk '{q += $2} END {print q + 0}')
  wait "$w"
  c1=$(bench_cpu_ticks "$(bench_pid "$s")")
  awk -v s="$s:$work" -v c="$c" -v ticks=$((c1 - c0)) -v us="$bench_tick_us" -v served=$((c - queued)) \
    -v wrk_s="$(awk '{print $1 + $2}' "$out/wrk.time")" "$bench_wrk_ms"'
    /Requests\/sec:/ { rps = $2 }
    /^ +99%/ { p99 = ms($2) }
    /requests in/ { n = $1 }
    /Non-2xx|Socket errors/ { errs = errs " " $0 }
    END { printf "%s %s %s %s %.1f %.1f %s %s\n", s, c, rps, p99, (n ? ticks * us / n : 0), (n ? wrk_s * 1e6 / n : 0),
                 served, (errs ? "errors:" errs : "") }
  ' "$out/wrk.out" >> "$results"
}
for ((round = 1; round <= rounds; round++)); do
  for s in "${order[@]}"; do measure "$s" "$conns"; done
  for s in "${few_order[@]}"; do measure "$s" "$few"; done
  for work in get10k post10k; do
    for s in "${wsgi_order[@]}"; do measure "$s" "$conns" "$work"; done
  done
done
range() { sort -g | sed -n '1p;$p' | paste -sd- -; }
printf '| server | connections (served) | requests/s (range over rounds) | p99 ms | server CPU µs/request (median) | wrk CPU µs/request (median) |\n'
printf '|---|---|---|---|---|---|\n'
for row in "${order[@]/%/:hello:$conns}" "${few_order[@]/%/:hello:$few}" \
  "${wsgi_order[@]/%/:get10k:$conns}" "${wsgi_order[@]/%/:post10k:$conns}"; do
  s=${row%%:*} c=${row##*:} work=${row#*:}; work=${work%:*}
  pick() { awk -v s="$s:$work" -v c="$c" -v f="$1" '$1 == s && $2 == c {print $f}' "$results"; }
  printf '| %s | %s (%s) | %s | %s | %s | %s |\n' "${label[$s]/, WSGI hello/${work_label[$work]:-, WSGI hello}}" "$c" "$(pick 7 | range)" "$(pick 3 | range)" \
    "$(pick 4 | range)" "$(pick 5 | bench_median)" "$(pick 6 | bench_median)"
done
if grep -q errors: "$results"; then echo "errors:"; grep errors: "$results"; fi
# Server CPU per request over uWSGI's, round by round (the rounds interleave: each pair shares its moment's load).
echo
echo "server CPU per request over uWSGI's with the same app, round by round:"
for pair in skwsgi:uwsgi ${base:+skbase:uwsgi} skflask:uwsgiflask ${base:+skbaseflask:uwsgiflask}; do
  runs="hello:$conns hello:$few"
  [[ $pair == *flask* ]] || runs+=" get10k:$conns post10k:$conns"
  for run in $runs; do
    w=${run%:*} c=${run#*:} a=${pair%:*}
    awk -v a="$a:$w" -v b="${pair#*:}:$w" -v c="$c" -v label="${label[$a]/, WSGI hello/${work_label[$w]:-, WSGI hello}}" '
      $2 == c && $1 == a { x[++na] = $5 }
      $2 == c && $1 == b { y[++nb] = $5 }
      END { line = ""; for (i = 1; i <= na && i <= nb; i++) line = line sprintf("%s%.2f", (i > 1 ? ", " : ""), (y[i] ? x[i] / y[i] : 0))
            printf "- %s, %s connections: %s\n", label, c, line }' "$results"
  done
done
