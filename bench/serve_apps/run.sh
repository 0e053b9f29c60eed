#!/usr/bin/env bash
# section: serve-apps
# about: serve beside gunicorn on two apps: the Mandelbrot row endpoint vs the same row in pure Python (sync), and a WSGI app that sleeps 10 ms at 512 connections (gthread)
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

seconds=$(bench_pick 5 1) rounds=$(bench_pick 3 1)
apps="$root/bench/serve_apps"
# Row 240 of the seed's 640 x 480 image at n = 1000 (the real axis: the most iterations), as a
# 640 x 1 tile: c = x0 + x (x1 - x0) / 640 + y0 i, so y0 = 240 * 2 / 480 - 1 = 0.
row_sk="/mandelbrot.png?w=640&h=1&n=1000&x0=-2.5&x1=1&y0=0&y1=0.004166666666666667"
row_py="/?y=240&w=640&h=480&n=1000"
declare -A port=([rowpy]=$(bench_free_port) [gt4]=$(bench_free_port) [gt64]=$(bench_free_port))

# The row: every server has two processes; the cache is off, so each request computes its row.
bench_start rowsk "$sk" -q serve --listen 127.0.0.1:0 -w 2 --cache-mb 0
bench_start rowpy gunicorn --chdir "$apps" -w 2 -b "127.0.0.1:${port[rowpy]}" --log-level warning mandelbrot_row:app
# The sleeper: 2 workers of 4 threads each way; serve also with a queue as deep as the
# connections and no time bound on it (no 503), and both with 64 threads a worker.
for s in sl4 sl4q sl64; do
  case $s in
    sl4) extra=(--threads 4) ;;
    sl4q) extra=(--threads 4 --queue 1024 --queue-wait 0) ;;
    sl64) extra=(--threads 64 --queue 1024 --queue-wait 0) ;;
  esac
  bench_start "$s" "$sk" -q serve --listen 127.0.0.1:0 -w 2 "${extra[@]}" --chdir "$apps" --wsgi sleepy:app
done
bench_start gt4 gunicorn --chdir "$apps" -w 2 --threads 4 -k gthread -b "127.0.0.1:${port[gt4]}" \
  --log-level warning sleepy:app
bench_start gt64 gunicorn --chdir "$apps" -w 2 --threads 64 -k gthread -b "127.0.0.1:${port[gt64]}" \
  --log-level warning sleepy:app
for s in rowsk sl4 sl4q sl64; do port[$s]=$(bench_listening_port "$s"); done
for s in rowsk rowpy sl4 sl4q sl64 gt4 gt64; do bench_wait_tcp "$s" "${port[$s]}"; done
for s in rowsk sl4 sl4q sl64; do bench_wait_log "$s" "2 workers ready"; done

# The same pixels: both rows decompressed (each PNG is one IDAT, filter 0) compare equal.
curl -sf "http://127.0.0.1:${port[rowsk]}$row_sk" -o "$out/sk.png"
curl -sf "http://127.0.0.1:${port[rowpy]}$row_py" -o "$out/py.png"
/usr/bin/python3 - "$out/sk.png" "$out/py.png" <<'PY' || bench_fail "the two rows differ"
import struct, sys, zlib
def idat(path):
    d, at, data = open(path, "rb").read(), 8, b""
    while at < len(d):
        n, kind = struct.unpack(">I", d[at:at + 4])[0], d[at + 4:at + 8]
        data += d[at + 8:at + 8 + n] if kind == b"IDAT" else b""
        at += 12 + n
    return zlib.decompress(data)
sys.exit(idat(sys.argv[1]) != idat(sys.argv[2]))
PY

declare -A path=([rowsk]=$row_sk [rowpy]=$row_py [sl4]=/ [sl4q]=/ [sl64]=/ [gt4]=/ [gt64]=/)
declare -A conns=([rowsk]=4 [rowpy]=4 [sl4]=512 [sl4q]=512 [sl64]=512 [gt4]=512 [gt64]=512)
declare -A label=([rowsk]="scalekit serve -w 2, GET /mandelbrot.png (a 640 x 1 tile)"
  [rowpy]="gunicorn sync -w 2, the row in pure Python"
  [sl4]="scalekit serve --wsgi -w 2 --threads 4 (--queue 64, the default)"
  [sl4q]="scalekit serve --wsgi -w 2 --threads 4 --queue 1024 --queue-wait 0"
  [sl64]="scalekit serve --wsgi -w 2 --threads 64 --queue 1024 --queue-wait 0"
  [gt4]="gunicorn gthread -w 2 --threads 4" [gt64]="gunicorn gthread -w 2 --threads 64")
order=(rowsk rowpy sl4 sl4q sl64 gt4 gt64)
results="$out/results"
: > "$results"
for ((round = 1; round <= rounds; round++)); do
  for s in "${order[@]}"; do
    c0=$(bench_cpu_ticks "$(bench_pid "$s")")
    report=$(wrk -t 2 -c "${conns[$s]}" -d "${seconds}s" --timeout 10s --latency \
      "http://127.0.0.1:${port[$s]}${path[$s]}" 2>&1)
    c1=$(bench_cpu_ticks "$(bench_pid "$s")")
    awk -v s="$s" -v ticks=$((c1 - c0)) -v us="$bench_tick_us" "$bench_wrk_ms"'
      /Requests\/sec:/ { rps = $2 }
      /^ +50%/ { p50 = ms($2) }
      /^ +99%/ { p99 = ms($2) }
      /requests in/ { n = $1 }
      /Non-2xx/ { bad = $NF }
      /Socket errors/ { errs = $0 }
      END {
        printf "%s %.0f %.2f %.1f %.1f %.0f %.1f %s\n", s, rps, p50, p99, (n ? 100 * bad / n : 0),
          (n ? rps * (n - bad) / n : 0), (n ? ticks * us / n : 0), (errs ? "errors:" errs : "")
      }
    ' <<< "$report" >> "$results"
  done
done
range() { bench_range "$results" "$1" "$2"; }
echo "## serve-apps: wrk -t 2, $seconds s per run, $rounds interleaved rounds; clients on the same 2 cores"
echo "### the Mandelbrot row (640 px, n = 1000, row 240 of 480: the same pixels), 4 connections"
printf '| server | requests/s | p50 ms | p99 ms | server CPU ms/request (median) |\n|---|---|---|---|---|\n'
for s in rowsk rowpy; do
  printf '| %s | %s | %s | %s | %s |\n' "${label[$s]}" "$(range "$s" 2)" "$(range "$s" 3)" "$(range "$s" 4)" \
    "$(awk -v s="$s" '$1 == s {print $7 / 1000}' "$results" | bench_median)"
done
ratios=$(paste <(awk '$1 == "rowsk" {print $2}' "$results") <(awk '$1 == "rowpy" {print $2}' "$results") |
  awk '{printf "%.0f\n", $1 / $2}' | sort -g | sed -n '1p;$p' | paste -sd- -)
echo "ratio per round (serve / gunicorn): ${ratios}x"
echo "### a WSGI app that sleeps 10 ms, 512 connections"
printf '| server | answers/s | 200s/s | p50 ms | p99 ms | 503 (shed) %% | server CPU µs/answer (median) |\n'
printf '|---|---|---|---|---|---|---|\n'
for s in sl4 sl4q sl64 gt4 gt64; do
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${label[$s]}" "$(range "$s" 2)" "$(range "$s" 6)" "$(range "$s" 3)" \
    "$(range "$s" 4)" "$(range "$s" 5)" "$(awk -v s="$s" '$1 == s {print $7}' "$results" | bench_median)"
done
if grep -q errors: "$results"; then echo "socket errors:"; grep errors: "$results"; fi
