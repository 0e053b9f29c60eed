#!/usr/bin/env bash
# section: serve-cache
# about: one Mandelbrot tile from serve three ways: computed each time, a hit in Redis (--cache), a hit in the worker's LRU
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

seconds=$(bench_pick 5 1) rounds=$(bench_pick 3 1)
tile="/mandelbrot.png?w=256&h=256&n=1000"  # the whole set: about 11 ms of compute on 2 cores
redis_port=$(bench_free_port)
bench_start redis redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no
bench_wait_redis redis "$redis_port"
# One worker each, so that every request meets the same cache: computed (no cache at all),
# from Redis (no LRU: each request reads Redis), from the LRU.
bench_start compute "$sk" -q serve --listen 127.0.0.1:0 -w 1 --cache-mb 0
bench_start redis_hit "$sk" -q serve --listen 127.0.0.1:0 -w 1 --cache-mb 0 --cache "redis://127.0.0.1:$redis_port/0"
bench_start lru_hit "$sk" -q serve --listen 127.0.0.1:0 -w 1
declare -A port=()
for s in compute redis_hit lru_hit; do
  port[$s]=$(bench_listening_port "$s")
  bench_wait_log "$s" "1 worker ready"
done
# Warm the caches and check that each answers as it should (X-Cache: miss, redis, hit).
for s in compute redis_hit lru_hit; do curl -sf -o /dev/null "http://127.0.0.1:${port[$s]}$tile"; done
# The store into Redis is in the background: until the tile is there.
_tile_in_redis() { [[ $(redis-cli -p "$redis_port" EXISTS "scalekit:serve:cache:v1:$tile") == 1 ]]; }
bench_wait redis_hit "the tile in Redis" 10 _tile_in_redis
declare -A want=([compute]="" [redis_hit]="X-Cache: redis" [lru_hit]="X-Cache: hit")
for s in redis_hit lru_hit; do
  curl -sfD - -o /dev/null "http://127.0.0.1:${port[$s]}$tile" | grep -q "${want[$s]}" ||
    bench_fail "$s does not answer with ${want[$s]}"
done

declare -A label=([compute]="computed (--cache-mb 0)" [redis_hit]="from Redis (--cache-mb 0 --cache redis://...)"
  [lru_hit]="from the worker's LRU")
results="$out/results"
: > "$results"
for ((round = 1; round <= rounds; round++)); do
  for c in 1 16; do
    for s in compute redis_hit lru_hit; do
      report=$(wrk -t 1 -c "$c" -d "${seconds}s" --latency "http://127.0.0.1:${port[$s]}$tile" 2>&1)
      awk -v s="$s" -v c="$c" "$bench_wrk_ms"'
        /Requests\/sec:/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /Non-2xx/ { bad = $NF }
        END { printf "%s %s %.0f %.3f %.3f %d\n", s, c, rps, p50, p99, bad }
      ' <<< "$report" >> "$results"
    done
  done
done
range() { awk -v s="$1" -v c="$2" -v f="$3" '$1 == s && $2 == c {print $f}' "$results" | sort -g | sed -n '1p;$p' | paste -sd- -; }
echo "## serve-cache: GET $tile, serve -w 1, wrk -t 1, $seconds s per run, $rounds interleaved rounds"
printf '| answered | 1 connection: p50 ms | p99 ms | requests/s | 16 connections: requests/s | p99 ms |\n'
printf '|---|---|---|---|---|---|\n'
for s in compute redis_hit lru_hit; do
  printf '| %s | %s | %s | %s | %s | %s |\n' "${label[$s]}" "$(range "$s" 1 4)" "$(range "$s" 1 5)" "$(range "$s" 1 3)" \
    "$(range "$s" 16 3)" "$(range "$s" 16 5)"
done
if awk '$6 > 0' "$results" | grep -q .; then echo "non-2xx answers:"; awk '$6 > 0' "$results"; fi
