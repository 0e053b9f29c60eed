#!/usr/bin/env bash
# section: dns
# about: dns serve beside dnsmasq and the seed's Python server (dnsperf): rate, loss, CPU per query
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

seconds=$(bench_pick 10 1) rounds=$(bench_pick 2 1)
echo "## dns: dnsperf, 4 clients x 200 queries in flight, $seconds s per run; server CPU from /proc/PID/stat"
printf 'facebook.com A\nyougov.com A\nwipo.int A\nexample.org A\nwww.example.com A\n' > "$out/queries"
bench_start sk1 "$sk" dns serve --listen 127.0.0.1:0 -j 1
bench_start sk2 "$sk" dns serve --listen 127.0.0.1:0 -j 2
declare -A port=([dnsmasq]=$(bench_free_port))
bench_start dnsmasq dnsmasq --no-daemon --conf-file=/dev/null --port="${port[dnsmasq]}" --listen-address=127.0.0.1 \
  --bind-interfaces --no-resolv --no-hosts --address=/facebook.com/173.252.120.6 --address=/yougov.com/213.52.133.246 \
  --address=/wipo.int/193.5.93.80 --address=/#/127.0.0.1 --log-facility="$out/dnsmasq-queries.log"
port[seed]=$(bench_free_port)
# The seed prints two lines per query: to /dev/null, as it would cost the server its time.
bench_start --no-stdout seed /usr/bin/python3 "$seed/dns_server.py" "${port[seed]}"
port[sk1]=$(bench_listening_port sk1)
port[sk2]=$(bench_listening_port sk2)
for s in dnsmasq seed; do bench_wait_dns "$s" "${port[$s]}"; done

# dnsperf against a server; the server's CPU time per answered query, from its ticks.
dns_run() {  # label server [dnsperf flags]
  local label=$1 server=$2; shift 2
  local c0 c1 report
  c0=$(bench_cpu_ticks "$(bench_pid "$server")")
  report=$(dnsperf -s 127.0.0.1 -p "${port[$server]}" -d "$out/queries" -l "$seconds" -c 4 -q 200 "$@" 2>&1)
  c1=$(bench_cpu_ticks "$(bench_pid "$server")")
  awk -v label="$label" -v ticks=$((c1 - c0)) -v us="$bench_tick_us" '
    /Queries completed/ {done = $3} /Queries lost/ {lost = $3} /Queries per second/ {qps = $4}
    END {printf "| %s | %.0f | %d | %.2f µs |\n", label, qps, lost, done ? ticks * us / done : 0}' <<<"$report"
}
echo "| server | queries/s | lost | server CPU per query |"
echo "|---|---:|---:|---:|"
for ((round = 1; round <= rounds; round++)); do
  dns_run "scalekit dns serve -j 1" sk1
  dns_run "scalekit dns serve -j 2" sk2
  dns_run "dnsmasq $(dnsmasq --version | head -1 | awk '{print $3}')" dnsmasq
  if ((round == 1)); then dns_run "seed dns_server.py" seed; fi
  dns_run "scalekit -j 1, EDNS queries" sk1 -e
  dns_run "dnsmasq, EDNS queries" dnsmasq -e
done
echo
