#!/usr/bin/env bash
# section: sort
# about: sort-service under 16 clients (bench/sort_service/load.cc): scalekit, the seed-style Python server, a null server
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

seconds=$(bench_pick 5 1) rounds=$(bench_pick 2 1)
echo "## sort-service: 1000-integer requests, 16 concurrent clients, $seconds s each; server CPU from /proc (whole process tree)"
cc -O2 -o "$out/null_server" "$root/bench/sort_service/null_server.c"
bench_start sk "$sk" sort-service serve --listen 127.0.0.1:0
bench_start sk1 "$sk" sort-service serve --listen 127.0.0.1:0 -j 1
bench_start skp "$sk" sort-service serve --listen 127.0.0.1:0 --executor processes
py_port=$(bench_free_port)
bench_start py /usr/bin/python3 "$root/bench/sort_service/python_server.py" "$py_port"
null_port=$(bench_free_port)
bench_start null "$out/null_server" "$null_port"
declare -A port=()
for s in sk sk1 skp; do port[$s]=$(bench_listening_port "$s"); done
bench_wait_log py "Sort Service running"  # printed once its pool's workers have started
port[py]=$py_port
bench_wait_tcp null "$null_port"
port[null]=$null_port

sort_run() {  # label server
  local c0 c1 line
  c0=$(bench_cpu_ticks "$(bench_pid "$2")")
  line=$(timeout $((seconds + 25)) "$bench_bin/sort_load" "${port[$2]}" --clients 16 --numbers 1000 --seconds "$seconds" || true)
  c1=$(bench_cpu_ticks "$(bench_pid "$2")")
  echo "| $1 | $line | $(awk -v t=$((c1 - c0)) -v us="$bench_tick_us" -v l="$line" 'BEGIN {split(l, a, " "); printf "%.0f µs", a[1] ? t * us / a[1] : 0}') |"
}
echo "| server | load generator's report | server CPU per request |"
echo "|---|---|---:|"
for ((round = 0; round < rounds; round++)); do
  sort_run "scalekit (threads -j 2)" sk
  sort_run "scalekit (threads -j 1)" sk1
  sort_run "scalekit (processes -j 2)" skp
  sort_run "python asyncio + ProcessPoolExecutor" py
  sort_run "null server (I/O only, bench/sort_service/null_server.c)" null
done
echo
