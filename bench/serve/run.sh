#!/usr/bin/env bash
# section: serve
# about: serve's native endpoints beside nginx (a static file); serve --wsgi beside uWSGI, gunicorn and waitress (a WSGI hello); wrk, 64 connections
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

seconds=$(bench_pick 5 1) rounds=$(bench_pick 3 1) conns=64
echo "## serve: wrk -t 2 -c $conns, $seconds s per run, $rounds interleaved rounds; 2 server processes each;"
echo "## server CPU per request from /proc (clients on the same 2 cores)"
mkdir -p "$out/www"
chmod o+rx "$out" "$out/www"  # nginx's workers run as another user
printf 'ok\n' > "$out/www/healthz"
declare -A port=([nginx]=$(bench_free_port) [gsync]=$(bench_free_port) [gthread]=$(bench_free_port)
  [uwsgi]=$(bench_free_port) [waitress]=$(bench_free_port))
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
bench_start sk "$sk" -q serve --listen 127.0.0.1:0 -w 2 --threads 4
bench_start skwsgi "$sk" -q serve --listen 127.0.0.1:0 -w 2 --threads 4 --chdir "$root/bench/serve" --wsgi hello:app
bench_start nginx nginx -c "$out/nginx.conf" -g 'daemon off;'
bench_start gsync gunicorn --chdir "$root/bench/serve" -w 2 -b "127.0.0.1:${port[gsync]}" --log-level warning hello:app
bench_start gthread gunicorn --chdir "$root/bench/serve" -w 2 --threads 4 -k gthread \
  -b "127.0.0.1:${port[gthread]}" --log-level warning hello:app
# uWSGI as its users run it for speed: its own HTTP parser on the socket (--http11-socket: with
# keep-alive), 2
# processes with 4 threads; waitress: one process, 8 threads (it has no workers of its own).
bench_start uwsgi uwsgi_python3 --http11-socket "127.0.0.1:${port[uwsgi]}" --processes 2 --threads 4 \
  --chdir "$root/bench/serve" --wsgi-file hello.py --callable app --disable-logging --master
bench_start waitress env PYTHONPATH="$root/bench/serve" /usr/bin/python3 -m waitress --listen="127.0.0.1:${port[waitress]}" --threads 8 \
  hello:app
port[sk]=$(bench_listening_port sk)
port[skwsgi]=$(bench_listening_port skwsgi)
for s in sk skwsgi nginx gsync gthread uwsgi waitress; do bench_wait_tcp "$s" "${port[$s]}"; done
bench_wait_log sk "2 workers ready"
bench_wait_log skwsgi "2 workers ready"

declare -A path=([sk]=/healthz [skwsgi]=/ [nginx]=/healthz [gsync]=/ [gthread]=/ [uwsgi]=/ [waitress]=/)
declare -A label=([sk]="scalekit serve, native /healthz" [nginx]="nginx, a static 3-byte file"
  [skwsgi]="scalekit serve --wsgi (2 x 4), WSGI hello" [uwsgi]="uWSGI --http11-socket (2 x 4), WSGI hello"
  [waitress]="waitress (1 x 8), WSGI hello"
  [gsync]="gunicorn sync, WSGI hello" [gthread]="gunicorn gthread (2 x 4), WSGI hello")
order=(sk nginx skwsgi uwsgi gsync gthread waitress)
results="$out/results"
: > "$results"
for ((round = 1; round <= rounds; round++)); do
  for s in "${order[@]}"; do
    c0=$(bench_cpu_ticks "$(bench_pid "$s")")
    report=$(wrk -t 2 -c "$conns" -d "${seconds}s" --latency "http://127.0.0.1:${port[$s]}${path[$s]}" 2>&1)
    c1=$(bench_cpu_ticks "$(bench_pid "$s")")
    awk -v s="$s" -v ticks=$((c1 - c0)) -v us="$bench_tick_us" '
      function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
      /Requests\/sec:/ { rps = $2 }
      /^ +99%/ { p99 = ms($2) }
      /requests in/ { n = $1 }
      /Non-2xx|Socket errors/ { errs = errs " " $0 }
      END { printf "%s %s %s %.1f %s\n", s, rps, p99, (n ? ticks * us / n : 0), (errs ? "errors:" errs : "") }
    ' <<< "$report" >> "$results"
  done
done
printf '| server | requests/s (range over rounds) | p99 ms | server CPU µs/request (median) |\n|---|---|---|---|\n'
for s in "${order[@]}"; do
  rps=$(awk -v s="$s" '$1 == s {print $2}' "$results" | sort -g | sed -n '1p;$p' | paste -sd- -)
  p99=$(awk -v s="$s" '$1 == s {print $3}' "$results" | sort -g | sed -n '1p;$p' | paste -sd- -)
  cpu=$(awk -v s="$s" '$1 == s {print $4}' "$results" | bench_median)
  printf '| %s | %s | %s | %s |\n' "${label[$s]}" "$rps" "$p99" "$cpu"
done
if grep -q errors: "$results"; then echo "errors:"; grep errors: "$results"; fi
