#!/usr/bin/env bash
# section: builds
# about: this build beside another (SCALEKIT_BASELINE=/path/to/old/scalekit): mandelbrot, primes, numbers, thumbnail, dns, worker tasks/s and a chain; interleaved rounds, the range of new/old
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

# "No speed lost" is a claim about two builds measured on the same machine at the same time:
# each round runs the old and the new build back to back (the order alternating between
# rounds), so drift in the machine's speed hits both; the table gives each build's median and
# the range of the per-round ratio new/old (below 1: the new build is faster).
old="${SCALEKIT_BASELINE:-}"
[[ -x "$old" ]] || bench_fail "builds: set SCALEKIT_BASELINE to another build's scalekit (with its scalekit-heavy beside it)"
rounds=$(bench_pick 3 1) runs=$(bench_pick 5 1)

# SCALEKIT_BUILDS_ONLY=worker: the worker's rows alone (the broker's wake-up and take paths).
if [[ ${SCALEKIT_BUILDS_ONLY:-} != worker ]]; then
# Inputs, made once with the new build (the old one reads the same files).
numbers="$bench_dir/numbers-10k"
if [[ ! -f "$numbers/numbers_9999.txt" ]]; then "$sk" -q numbers gen --dir "$numbers" --files 10000 --seed 1; fi
count=$(bench_pick 300 10)
corpus=$(bench_pick "$bench_dir/thumbs_corpus" "$out/thumbs_corpus")
if ! compgen -G "$corpus/img$(printf %04d $((count - 1))).*" > /dev/null; then
  /usr/bin/python3 "$root/bench/thumbnail/make_corpus.py" "$corpus" "$count"
fi
"$sk" -q primes factor --random 200000 --min 2 --max 18446744073709551615 --seed 1 |
  sed 's/The factors of \([0-9]*\) are.*/\1/' > "$out/numbers64"
mkdir -p "$out/th"
# gen writes to memory when it can: on this disk the writeback of thousands of small files
# swings a run between 0.3 s and a minute, which would measure the disk, not the build.
gen="$out/gen"
if [[ -d /dev/shm && -w /dev/shm ]]; then gen=$(mktemp -d -p /dev/shm scalekit-gen-XXXXXX); fi
trap 'rm -rf "$gen"; _bench_cleanup' EXIT  # and what bench/lib.sh cleans

# The workloads: a label, and the arguments after the binary ({} stands for a scratch file).
labels=() args=() prepares=()
add() { labels+=("$1"); args+=("$2"); prepares+=("${3:-true}"); }
add "mandelbrot 640x480, threads -j 2" "-q mandelbrot -o $out/m.png"
add "mandelbrot 640x480, processes -j 2" "-q mandelbrot -o $out/m.png --executor processes"
add "mandelbrot 1920x1440 n=5000 --no-shortcut, threads" "-q mandelbrot -W 1920 -H 1440 -n 5000 --no-shortcut -o $out/m.png"
add "primes factor, 200000 64-bit numbers" "-q primes factor --file $out/numbers64"
add "primes check --seed-list --algorithm trial" "-q primes check --seed-list --algorithm trial"
add "numbers sort 10000 files, counter" "-q numbers sort --dir $numbers --files 10000 -o $out/s.txt"
add "numbers sort 10000 files, memory" "-q numbers sort --dir $numbers --files 10000 -o $out/s.txt --method memory"
add "numbers gen 20000 files (tmpfs)" "-q numbers gen --dir $gen/n --files 20000 --seed 1" "rm -rf $gen/n"
add "thumbnail $count photos, processes" "-q thumbnail $corpus -o $out/th -j 2" "rm -rf $out/th"
add "thumbnail $count photos, threads" "-q thumbnail $corpus -o $out/th -j 2 --executor threads" "rm -rf $out/th"

echo "## builds: this build beside $old ($rounds interleaved rounds of $runs runs each; hyperfine means)"
echo
echo "| workload | old | new | new/old, per round |"
echo "|---|---:|---:|---|"
for i in "${!labels[@]}"; do
  olds=() news=() ratios=()
  for ((round = 1; round <= rounds; round++)); do
    a="$old ${args[$i]}" b="$sk ${args[$i]}"
    if ((round % 2 == 0)); then first=$b second=$a; else first=$a second=$b; fi
    bench_hyperfine -N --warmup 1 --runs "$runs" --prepare "${prepares[$i]}" --export-json "$out/r.json" "$first" "$second"
    read -r t_old t_new < <(/usr/bin/python3 -c '
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
print(r[sys.argv[2]], r[sys.argv[3]])' "$out/r.json" "$a" "$b")
    olds+=("$t_old") news+=("$t_new")
    ratios+=("$(awk -v o="$t_old" -v n="$t_new" 'BEGIN {printf "%.2f", n / o}')")
  done
  printf '| %s | %.3f s | %.3f s | %s |\n' "${labels[$i]}" \
    "$(printf '%s\n' "${olds[@]}" | bench_median)" "$(printf '%s\n' "${news[@]}" | bench_median)" \
    "$(printf '%s\n' "${ratios[@]}" | sort -g | sed -n '1p;$p' | paste -sd- | sed 's/-/ .. /')"
done
echo

# dns: queries per second from dnsperf against each build's server, rounds alternating.
seconds=$(bench_pick 10 1)
printf 'facebook.com A\nyougov.com A\nwipo.int A\nexample.org A\nwww.example.com A\n' > "$out/queries"
bench_start dns_old "$old" dns serve --listen 127.0.0.1:0 -j 1
bench_start dns_new "$sk" dns serve --listen 127.0.0.1:0 -j 1
declare -A port=([dns_old]=$(bench_listening_port dns_old) [dns_new]=$(bench_listening_port dns_new))
qps() { dnsperf -s 127.0.0.1 -p "${port[$1]}" -d "$out/queries" -l "$seconds" -c 4 -q 200 2>&1 | awk '/Queries per second/ {print $4}'; }
q_old=() q_new=() q_ratio=()
for ((round = 1; round <= rounds; round++)); do
  if ((round % 2 == 0)); then n=$(qps dns_new); o=$(qps dns_old); else o=$(qps dns_old); n=$(qps dns_new); fi
  q_old+=("$o") q_new+=("$n") q_ratio+=("$(awk -v o="$o" -v n="$n" 'BEGIN {printf "%.2f", n / o}')")
done
echo "| dns serve -j 1, dnsperf $seconds s | old queries/s | new queries/s | new/old, per round |"
echo "|---|---:|---:|---|"
printf '| 4 clients x 200 in flight | %.0f | %.0f | %s |\n' \
  "$(printf '%s\n' "${q_old[@]}" | bench_median)" "$(printf '%s\n' "${q_new[@]}" | bench_median)" \
  "$(printf '%s\n' "${q_ratio[@]}" | sort -g | sed -n '1p;$p' | paste -sd- | sed 's/-/ .. /')"
echo
fi

# worker: tasks per second end to end (bench/taskqueue/task_throughput.cc, a group of bench_tasks.add)
# through each build's worker on one private Redis, rounds alternating, and Redis's CPU per task.
tasks=$(bench_pick 20000 500)
redis_port=$(bench_free_port)
broker="redis://127.0.0.1:$redis_port/0"
bench_start redis redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$out"
bench_wait_redis redis "$redis_port"
tt="$bench_bin/task_throughput"
_answers() { timeout 5 "$tt" "$broker" --tasks 1; }
tasks_per_s() {  # binary prefetch-multiplier -> "rate redis-µs-per-task"
  redis-cli -p "$redis_port" flushall > /dev/null
  bench_start w "$1" -q worker --broker "$broker" -c 2 --pool threads --prefetch-multiplier "$2"
  bench_wait w "the answer to a task" 120 _answers
  local c0 c1 rate
  c0=$(bench_cpu_ticks "$(bench_pid redis)")
  rate=$("$tt" "$broker" --tasks "$tasks" | sed 's/.*: \([0-9]*\) tasks\/s.*/\1/')
  c1=$(bench_cpu_ticks "$(bench_pid redis)")
  bench_stop w
  awk -v r="$rate" -v t=$((c1 - c0)) -v us="$bench_tick_us" -v n="$tasks" 'BEGIN {printf "%s %.1f\n", r, t * us / n}'
}
echo "| worker -c 2 --pool threads, $tasks tasks | old tasks/s | new tasks/s | new/old, per round | Redis µs per task, old .. new |"
echo "|---|---:|---:|---|---|"
for pm in 1 4; do
  r_old=() r_new=() r_ratio=() u_old=() u_new=()
  for ((round = 1; round <= rounds; round++)); do
    if ((round % 2 == 0)); then read -r n un < <(tasks_per_s "$sk" "$pm"); read -r o uo < <(tasks_per_s "$old" "$pm")
    else read -r o uo < <(tasks_per_s "$old" "$pm"); read -r n un < <(tasks_per_s "$sk" "$pm"); fi
    r_old+=("$o") r_new+=("$n") u_old+=("$uo") u_new+=("$un")
    r_ratio+=("$(awk -v o="$o" -v n="$n" 'BEGIN {printf "%.2f", n / o}')")
  done
  printf '| --prefetch-multiplier %s | %.0f | %.0f | %s | %s .. %s |\n' "$pm" \
    "$(printf '%s\n' "${r_old[@]}" | bench_median)" "$(printf '%s\n' "${r_new[@]}" | bench_median)" \
    "$(printf '%s\n' "${r_ratio[@]}" | sort -g | sed -n '1p;$p' | paste -sd- | sed 's/-/ .. /')" \
    "$(printf '%s\n' "${u_old[@]}" | bench_median)" "$(printf '%s\n' "${u_new[@]}" | bench_median)"
done
echo

# worker: a chain of add tasks from the Python client (each step waits for the one before: the
# worker's wake-up latency), each build's worker in turn, rounds alternating.
chain=$(bench_pick 1000 20)
fixtures="$root/tests/fixtures/celery"
chain_s() {  # binary workers -> "seconds redis-µs-per-step"
  redis-cli -p "$redis_port" flushall > /dev/null
  local k
  for ((k = 1; k < $2; k++)); do bench_start "w$k" "$1" -q worker --broker "$broker" -c 1 --pool threads -n "w$k@bench"; done
  bench_start w "$1" -q worker --broker "$broker" -c 2 --pool threads
  bench_wait w "the answer to a task" 120 _answers
  local c0 c1 t
  c0=$(bench_cpu_ticks "$(bench_pid redis)")
  t=$(env SCALEKIT_BROKER="$broker" PYTHONPATH="$fixtures" /usr/bin/python3 "$fixtures/bench_canvas.py" chain "$chain" |
    awk '{print $3}')
  c1=$(bench_cpu_ticks "$(bench_pid redis)")
  bench_stop w
  for ((k = 1; k < $2; k++)); do bench_stop "w$k"; done
  awk -v s="$t" -v t=$((c1 - c0)) -v us="$bench_tick_us" -v n="$chain" 'BEGIN {printf "%s %.0f\n", s, t * us / n}'
}
echo "| worker --pool threads, a chain of $chain adds | old s | new s | new/old, per round | Redis µs per step, old .. new |"
echo "|---|---:|---:|---|---|"
# With more workers than the chain keeps busy, the idle ones show what waking them costs.
for workers in 1 4; do
  c_old=() c_new=() c_ratio=() cu_old=() cu_new=()
  for ((round = 1; round <= rounds; round++)); do
    if ((round % 2 == 0)); then read -r n un < <(chain_s "$sk" "$workers"); read -r o uo < <(chain_s "$old" "$workers")
    else read -r o uo < <(chain_s "$old" "$workers"); read -r n un < <(chain_s "$sk" "$workers"); fi
    c_old+=("$o") c_new+=("$n") cu_old+=("$uo") cu_new+=("$un")
    c_ratio+=("$(awk -v o="$o" -v n="$n" 'BEGIN {printf "%.2f", n / o}')")
  done
  printf '| bench_canvas.py chain %s, %s worker(s) | %.3f | %.3f | %s | %s .. %s |\n' "$chain" "$workers" \
    "$(printf '%s\n' "${c_old[@]}" | bench_median)" "$(printf '%s\n' "${c_new[@]}" | bench_median)" \
    "$(printf '%s\n' "${c_ratio[@]}" | sort -g | sed -n '1p;$p' | paste -sd- | sed 's/-/ .. /')" \
    "$(printf '%s\n' "${cu_old[@]}" | bench_median)" "$(printf '%s\n' "${cu_new[@]}" | bench_median)"
done
echo
