#!/usr/bin/env bash
# section: serve-broker
# about: serve's Mandelbrot tiles on its own threads vs on distributed scalekit workers through Redis (serve --broker); wrk, 1 and 8 connections
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

# One serve (2 workers, no cache: every tile is computed) with a broker, and one scalekit worker
# (2 processes) on a private Redis; the same tile asked with &executor=threads (the serve
# worker's own 2 threads), serial, and distributed. All on the same machine: what the queue
# costs a tile, not what more machines would gain.
seconds=$(bench_pick 5 1) rounds=$(bench_pick 3 1)
# A light tile (the right half of the set at zoom 1: the cardioid's shortcut spares most pixels)
# and a heavy one (the seahorse valley at zoom 6, n = 5000: every pixel iterates long).
declare -A tile=([light]="/mandelbrot.png?z=1&x=1&y=0&n=$(bench_pick 1000 200)"
  [heavy]="/mandelbrot.png?z=6&x=32&y=33&n=$(bench_pick 5000 500)")
echo "## serve --broker: tiles of 256 x 256 (light: ${tile[light]}, heavy: ${tile[heavy]}),"
echo "## wrk -t 1, $seconds s per run, $rounds interleaved rounds;"
echo "## serve -w 2 --threads 4 -j 2 --cache-mb 0; one scalekit worker -c 2 --pool processes"
redis_port=$(bench_free_port)
bench_start redis redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no
bench_wait_redis redis "$redis_port"
broker="redis://127.0.0.1:$redis_port/0"
bench_start worker "$sk" worker --broker "$broker" -c 2 --pool processes
bench_wait_log worker "consuming"
bench_start sk "$sk" -q serve --listen 127.0.0.1:0 -w 2 --threads 4 -j 2 --cache-mb 0 --broker "$broker"
port=$(bench_listening_port sk)
bench_wait_tcp sk "$port"
bench_wait_log sk "2 workers ready"

results="$out/results"
: > "$results"
for ((round = 1; round <= rounds; round++)); do
  for t in light heavy; do
    for ex in threads serial distributed; do
      for conns in 1 8; do
        report=$(wrk -t 1 -c "$conns" -d "${seconds}s" --latency "http://127.0.0.1:${port}${tile[$t]}&executor=$ex" 2>&1)
        awk -v key="$t/$ex/$conns" "$bench_wrk_ms"'
          /Requests\/sec:/ { rps = $2 }
          /^ +50%/ { p50 = ms($2) }
          /^ +99%/ { p99 = ms($2) }
          /Non-2xx|Socket errors/ { errs = errs " " $0 }
          END { printf "%s %s %s %s %s\n", key, rps, p50, p99, (errs ? "errors:" errs : "") }
        ' <<< "$report" >> "$results"
      done
    done
  done
done
printf '| tile | executor | connections | tiles/s (range over rounds) | p50 ms (median) | p99 ms (median) |\n'
printf '|---|---|---|---|---|---|\n'
for t in light heavy; do
  for ex in threads serial distributed; do
    for conns in 1 8; do
      key="$t/$ex/$conns"
      rps=$(awk -v k="$key" '$1 == k {print $2}' "$results" | sort -g | sed -n '1p;$p' | paste -sd- -)
      p50=$(awk -v k="$key" '$1 == k {print $3}' "$results" | bench_median)
      p99=$(awk -v k="$key" '$1 == k {print $4}' "$results" | bench_median)
      printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "$ex" "$conns" "$rps" "$p50" "$p99"
    done
  done
done
if grep -q errors: "$results"; then echo "errors:"; grep errors: "$results"; fi
