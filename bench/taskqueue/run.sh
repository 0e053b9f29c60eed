#!/usr/bin/env bash
# section: taskqueue alias: dist
# about: Celery task throughput (scalekit worker vs Celery prefork), Redis CPU per task, the seed's Celery Mandelbrot, distributed vs processes
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

fixtures="$root/tests/fixtures/celery"
tt="$bench_bin/task_throughput"
tasks=$(bench_pick 20000 500) celery_tasks=$(bench_pick 3000 200)
read -r W H <<<"$(bench_pick "640 480" "160 120")"
sizes=$(bench_pick "640x480 1280x960 2560x1920" "160x120")
canvas_n=$(bench_pick 1000 50)

# One private Redis for every row, on a port the kernel says is free.
redis_port=$(bench_free_port)
broker="redis://127.0.0.1:$redis_port/0"
bench_start redis redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$out"
bench_wait_redis redis "$redis_port"
rcli() { redis-cli -p "$redis_port" "$@"; }

# A worker is ready once it has answered a task (the probes that time out leave a task or two
# behind, which the worker runs before it answers the next one).
_answers() { timeout 5 "$tt" "$broker" --tasks 1; }
worker_ready() { bench_wait "$1" "the answer to a task" 120 _answers; }
start_worker() {  # name scalekit-worker-flags...
  local name=$1; shift
  bench_start "$name" "$sk" -q worker --broker "$broker" -c 2 "$@"
  worker_ready "$name"
}
start_celery() {
  bench_start celery env SCALEKIT_BROKER="$broker" PYTHONPATH="$fixtures" /usr/bin/python3 -m celery \
    -A mandelbrot_tasks worker --concurrency=2 --loglevel=WARNING --without-gossip --without-mingle
  worker_ready celery
}
rate_of() { sed 's/.*: \([0-9]*\) tasks\/s.*/\1/'; }
redis_us_per_task() { awk -v t="$1" -v us="$bench_tick_us" -v n="$2" 'BEGIN {printf "%.0f µs", t * us / n}'; }

echo "## taskqueue: tasks per second end to end, bench_tasks.add, concurrency 2, one C++ client for every worker"
echo "(bench/taskqueue/task_throughput.cc: publish N tasks as a group, wait for every result; Redis CPU from /proc)"
echo
echo "| workers | tasks | tasks/s | Redis CPU per task |"
echo "|---|---:|---:|---:|"
for pm in 1 4; do
  for pool in processes threads; do
    rcli flushall > /dev/null
    start_worker w --pool "$pool" --prefetch-multiplier "$pm"
    c0=$(bench_cpu_ticks "$(bench_pid redis)")
    rate=$("$tt" "$broker" --tasks "$tasks" | rate_of)
    c1=$(bench_cpu_ticks "$(bench_pid redis)")
    bench_stop w
    echo "| scalekit worker -c 2 --pool $pool --prefetch-multiplier $pm | $tasks | $rate | $(redis_us_per_task $((c1 - c0)) "$tasks") |"
  done
done
rcli flushall > /dev/null
start_celery
c0=$(bench_cpu_ticks "$(bench_pid redis)")
rate=$("$tt" "$broker" --tasks "$celery_tasks" | rate_of)
c1=$(bench_cpu_ticks "$(bench_pid redis)")
bench_stop celery
echo "| Celery 5.2 prefork --concurrency=2 (prefetch multiplier 4, its default) | $celery_tasks | $rate | $(redis_us_per_task $((c1 - c0)) "$celery_tasks") |"
echo
echo "Redis commands per task (scalekit worker, one run of $tasks):"
rcli flushall > /dev/null
start_worker w --pool threads --prefetch-multiplier 4
rcli config resetstat > /dev/null
"$tt" "$broker" --tasks "$tasks" > /dev/null
bench_stop w
rcli info commandstats | tr -d '\r' | grep cmdstat | sed 's/cmdstat_//; s/:calls=/ /; s/,usec=.*//' |
  awk -v n="$tasks" '$2 >= n {printf "  %s %.2f\n", $1, $2 / n}'
echo

echo "## taskqueue: the seed's Mandelbrot (${W}x$H, n=1000), wall time, concurrency 2 on each side"
echo
seed_client() {
  /usr/bin/time -f "%e" -o "$out/t" env SCALEKIT_BROKER="$broker" PYTHONPATH="$fixtures" \
    /usr/bin/python3 "$fixtures/celery_mandelbrot.py" "$W" "$H" 1000 "$out/py.png" > /dev/null
  cat "$out/t"
}
rcli flushall > /dev/null
start_celery
echo "| seed client (celery_mandelbrot.py) + Celery prefork worker (the seed's setup) | $(seed_client) s |"
bench_stop celery
start_worker w
echo "| seed client + scalekit worker -c 2 | $(seed_client) s |"
bench_hyperfine -N --warmup 2 --runs 10 --export-json "$out/mb.json" \
  "$sk -q mandelbrot -W $W -H $H --executor distributed --broker $broker -o $out/d.png" \
  "$sk -q mandelbrot -W $W -H $H --executor distributed --native-tasks --broker $broker -o $out/n.png"
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
names = ["scalekit mandelbrot --executor distributed (the seed tasks) + scalekit worker -c 2",
         "scalekit mandelbrot --executor distributed --native-tasks + scalekit worker -c 2"]
for n, x in zip(names, r):
    print("| %s | %.3f s ± %.3f |" % (n, x["mean"], x["stddev"]))' "$out/mb.json"
echo
echo "## taskqueue: overhead of distributed (native tasks, one worker -c 2 here) over processes (-j 2), by image size"
echo
echo "| size | processes -j 2 | distributed native | distributed seed tasks |"
echo "|---|---:|---:|---:|"
for size in $sizes; do
  w=${size%x*} h=${size#*x}
  bench_hyperfine -N --warmup 1 --runs 5 --export-json "$out/o.json" \
    "$sk -q mandelbrot -W $w -H $h --executor processes -j 2 -o $out/p.png" \
    "$sk -q mandelbrot -W $w -H $h --executor distributed --native-tasks --broker $broker -o $out/n.png" \
    "$sk -q mandelbrot -W $w -H $h --executor distributed --broker $broker -o $out/d.png"
  /usr/bin/python3 -c '
import json, sys
r = [x["mean"] for x in json.load(open(sys.argv[1]))["results"]]
print("| %s | %.3f s | %.3f s (+%.0f%%) | %.3f s (+%.0f%%) |" % (sys.argv[2], r[0], r[1], 100*(r[1]/r[0]-1), r[2], 100*(r[2]/r[0]-1)))' "$out/o.json" "$size"
done
echo

canvas_rounds=$(bench_pick 3 1)
echo "## taskqueue: the canvas, a chain and a chord of $canvas_n add tasks from the Python client, concurrency 2 on each side"
echo "(tests/fixtures/celery/bench_canvas.py: the client's call to its result; Redis CPU from /proc per task of the canvas;"
echo "$canvas_rounds interleaved rounds: medians, and the range of Celery's time over scalekit's per round)"
echo
declare -A canvas_t canvas_u  # "label kind" -> one value per round, space separated
canvas_measure() {  # label
  local kind c0 c1 t
  for kind in chain chord; do
    c0=$(bench_cpu_ticks "$(bench_pid redis)")
    t=$(env SCALEKIT_BROKER="$broker" PYTHONPATH="$fixtures" /usr/bin/python3 "$fixtures/bench_canvas.py" "$kind" "$canvas_n" | awk '{print $3}')
    c1=$(bench_cpu_ticks "$(bench_pid redis)")
    canvas_t["$1 $kind"]+="$t " canvas_u["$1 $kind"]+="$(awk -v t=$((c1 - c0)) -v us="$bench_tick_us" -v n="$canvas_n" 'BEGIN {printf "%.0f", t * us / n}') "
  done
}
celery_label="Celery 5.2 prefork --concurrency=2"
for ((round = 1; round <= canvas_rounds; round++)); do
  for pool in threads processes; do
    rcli flushall > /dev/null
    start_worker w --pool "$pool"
    canvas_measure "scalekit worker -c 2 --pool $pool"
    bench_stop w
  done
  rcli flushall > /dev/null
  start_celery
  canvas_measure "$celery_label"
  bench_stop celery
done
median_of() { tr ' ' '\n' | grep . | bench_median; }
ratio_range() {  # "celery times" "scalekit times": min..max of celery/scalekit per round
  paste <(tr ' ' '\n' <<<"$1" | grep .) <(tr ' ' '\n' <<<"$2" | grep .) | awk '{print $1 / $2}' | sort -g |
    sed -n '1p;$p' | paste -sd' ' | awk '{printf "%.1f-%.1f", $1, ($2 == "" ? $1 : $2)}'
}
echo "| workers | chain of $canvas_n | Redis CPU per chain task | chord of $canvas_n | Redis CPU per chord task |"
echo "|---|---:|---:|---:|---:|"
for label in "scalekit worker -c 2 --pool threads" "scalekit worker -c 2 --pool processes" "$celery_label"; do
  row="| $label |"
  for kind in chain chord; do
    row+=" $(median_of <<<"${canvas_t[$label $kind]}") s"
    [[ $label == "$celery_label" ]] || row+=" (Celery ×$(ratio_range "${canvas_t[$celery_label $kind]}" "${canvas_t[$label $kind]}"))"
    row+=" | $(median_of <<<"${canvas_u[$label $kind]}") µs |"
  done
  echo "$row"
done
echo
