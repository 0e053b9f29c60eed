# shellcheck shell=bash disable=SC2034  # the variables set here are for the section scripts
# Sourced by every bench/<workload>/run.sh (run by scripts/bench, or by hand after it built):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"    # takes --quick
#
# Gives the section: set -euo pipefail; $root; $sk and $heavy (the release binaries, or the
# scalekit named by SCALEKIT_BENCH_BIN and the scalekit-heavy beside it); $bench_bin
# (the bench preset's programs); $bench_dir (BENCH_DIR, default /tmp/scalekit-bench: generated
# inputs kept between runs); $out (a temporary directory, removed on exit, and the current
# directory); and the helpers below.
# Every process started with bench_start is stopped on exit, whatever the exit.
#
# Each section script declares, once, near its top:
#   # section: NAME [alias: OTHER]
#   # about: one line for `scripts/bench --list`
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sk="${SCALEKIT_BENCH_BIN:-$root/build/release/src/cli/scalekit}"
heavy="$(dirname "$sk")/scalekit-heavy"
bench_bin="$root/build/bench/bench"
bench_dir="${BENCH_DIR:-/tmp/scalekit-bench}"
seed="$root/tests/fixtures/seed"

bench_quick=false
for _arg in "$@"; do
  case "$_arg" in
    --quick) bench_quick=true ;;
    *) echo "bench: unknown option '$_arg' (only --quick)" >&2; exit 2 ;;
  esac
done
unset _arg

bench_fail() { echo "bench: $*" >&2; exit 1; }
[[ -x "$sk" ]] || bench_fail "no $sk: run scripts/bench, which builds it"

# --quick: smaller inputs and fewer runs, to check that a section still runs end to end.
# `bench_pick FULL QUICK` prints the value for this mode.
bench_pick() { if $bench_quick; then printf '%s\n' "$2"; else printf '%s\n' "$1"; fi; }

# ---- processes --------------------------------------------------------------------------
# bench_start [--no-stdout] NAME COMMAND... runs COMMAND in the background in a process group
# of its own (so stopping it also stops its workers), stdout and stderr in $out/NAME.log
# (--no-stdout: stdout to /dev/null, for servers that print a line per request). Its pid is
# ${bench_pids[NAME]}; bench_stop NAME stops it, and everything still running is stopped on exit.
declare -A bench_pids=()
bench_start() {
  local stdout=""
  if [[ $1 == --no-stdout ]]; then stdout=/dev/null; shift; fi
  local name=$1; shift
  local log="$out/$name.log"
  : > "$log"
  # setsid makes the command the leader of a new process group (no fork: a background
  # job of a script is not a group leader), so $! is the command's pid and its group id.
  setsid "$@" >> "${stdout:-$log}" 2>> "$log" < /dev/null &
  bench_pids[$name]=$!
}
bench_pid() { printf '%s\n' "${bench_pids[$1]}"; }
_bench_alive() {  # and not a zombie; the state follows the command name's last ')'
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}
# SIGTERM to the command (which stops its own workers), up to 10 s for it to exit, then SIGKILL
# to whatever is left in its group.
bench_stop() {
  local name=$1 pid=${bench_pids[$1]:-} i
  [[ -n $pid ]] || return 0
  unset "bench_pids[$name]"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do _bench_alive "$pid" || break; sleep 0.05; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
_bench_cleanup() {
  local name
  for name in "${!bench_pids[@]}"; do bench_stop "$name"; done
  rm -rf "$out"
}
out=$(mktemp -d -t scalekit-bench.XXXXXX)
cd "$out"  # whatever a command writes where it runs goes away with the rest
trap _bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- readiness --------------------------------------------------------------------------
# bench_wait NAME WHAT TIMEOUT_S CHECK...: run CHECK every 50 ms until it succeeds. Fails the
# section, with the end of NAME's log, when NAME exits first or TIMEOUT_S passes.
bench_wait() {
  local name=$1 what=$2 timeout=$3; shift 3
  local pid=${bench_pids[$name]} end=$((${EPOCHREALTIME//[.,]/} + timeout * 1000000))
  until "$@" > /dev/null 2>&1; do
    if ! _bench_alive "$pid"; then
      _bench_not_ready "$name" "exited while waiting for $what"
    elif ((${EPOCHREALTIME//[.,]/} >= end)); then
      _bench_not_ready "$name" "not ready after $timeout s, waiting for $what"
    fi
    sleep 0.05
  done
}
_bench_not_ready() {
  echo "bench: $1 $2; the end of its log:" >&2
  tail -n 20 "$out/$1.log" | sed 's/^/  /' >&2
  exit 1
}
_bench_log_has() { grep -qF -- "$2" "$out/$1.log"; }
_bench_accepts() { (: <> "/dev/tcp/127.0.0.1/$1"); }
_bench_dns_answers() { dig +short +tries=1 +time=1 +noedns -p "$1" @127.0.0.1 example.org A; }
_bench_redis_answers() { [[ $(redis-cli -p "$1" ping) == PONG ]]; }
# Until NAME's log has TEXT / 127.0.0.1:PORT accepts a TCP connection / a DNS server there
# answers / a Redis server there answers PING.
bench_wait_log() { bench_wait "$1" "'$2' in its log" "${3:-30}" _bench_log_has "$1" "$2"; }
bench_wait_tcp() { bench_wait "$1" "a connection to port $2" "${3:-30}" _bench_accepts "$2"; }
bench_wait_dns() { bench_wait "$1" "a DNS answer on port $2" "${3:-30}" _bench_dns_answers "$2"; }
bench_wait_redis() { bench_wait "$1" "PONG on port $2" "${3:-30}" _bench_redis_answers "$2"; }
# A scalekit server started with --listen 127.0.0.1:0 logs "listening on 127.0.0.1:PORT":
# wait for that line and print PORT.
bench_listening_port() {
  bench_wait_log "$1" "listening on 127.0.0.1:" "${2:-30}"
  sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$out/$1.log" | head -n 1
}

# A loopback port free for both TCP and UDP, from the kernel (bind to port 0), for peers that
# cannot be told port 0. Another program could take it before the peer binds: bench_wait then
# says so instead of measuring the wrong server.
bench_free_port() {
  /usr/bin/python3 -c '
import socket
while True:
    with socket.socket() as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break'
}

# ---- measuring --------------------------------------------------------------------------
# CPU time (user + system) of processes and all their live descendants, in clock ticks, from
# /proc/PID/stat; bench_tick_us is the length of a tick in microseconds.
bench_cpu_ticks() {
  # One pass over every process: the command name (field 2) may hold spaces and parentheses,
  # so the fields are counted from the last ')': state, ppid, ..., utime (12th), stime (13th).
  # Processes that end while they are read are left out (cat goes on, and is not an error).
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v roots="$*" '
    {
      pid = $1; rest = $0; sub(/.*\) /, "", rest); split(rest, f, " ")
      parent[pid] = f[2]; ticks[pid] = f[12] + f[13]
    }
    END {
      n = split(roots, r, " ")
      for (i = 1; i <= n; i++) tree[r[i]] = 1
      do {
        grown = 0
        for (p in parent) if (!(p in tree) && (parent[p] in tree)) { tree[p] = 1; grown = 1 }
      } while (grown)
      for (p in tree) sum += ticks[p]
      print sum + 0
    }'
}
bench_tick_us=$((1000000 / $(getconf CLK_TCK)))

# Median of numbers, one a line on stdin (the middle one; the lower middle for an even count).
# awk: ms(v), a wrk latency ("850.12us", "3.41ms", "1.20s") in milliseconds. Put it before a
# program that reads wrk's --latency report: awk ... "$bench_wrk_ms"'PROGRAM'.
bench_wrk_ms='function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }'
bench_median() { sort -g | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}'; }
# bench_range FILE NAME FIELD: "lowest-highest" of FIELD over FILE's lines whose first field is NAME.
bench_range() { awk -v s="$2" -v f="$3" '$1 == s {print $f}' "$1" | sort -g | sed -n '1p;$p' | paste -sd- -; }

# Values of KEYs from each JSON object on stdin (scalekit --json output, any layout), one line
# per object, space-separated.
bench_json() {
  /usr/bin/python3 -c '
import json, sys
text, keys, d, at = sys.stdin.read(), sys.argv[1:], json.JSONDecoder(), 0
while True:
    while at < len(text) and text[at].isspace():
        at += 1
    if at == len(text):
        break
    obj, at = d.raw_decode(text, at)
    print(" ".join(str(obj[k]) for k in keys))' "$@"
}

# hyperfine, quieter: its report goes to /dev/null (export one with --export-*). Under --quick,
# no warmup and at most 2 runs (the fewest that give a standard deviation).
bench_hyperfine() {
  local args=()
  while (($#)); do
    case $1 in
      --warmup | --runs | --min-runs | --max-runs)
        if ! $bench_quick; then
          args+=("$1" "$2")
        elif [[ $1 == --warmup ]]; then
          args+=(--warmup 0)
        else
          args+=(--runs $(($2 < 2 ? $2 : 2)))
        fi
        shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  hyperfine "${args[@]}" > /dev/null
}
# A markdown table exported by hyperfine, with the long paths shortened: the sed expressions
# given after FILE first, then the binaries to their names, $out and the seed's directory dropped.
bench_md() {
  local file=$1 e exprs=(); shift
  for e in "$@"; do exprs+=(-e "$e"); done
  sed "${exprs[@]}" -e "s|$sk|scalekit|g" -e "s|$out/||g" -e "s|$seed/||g" "$file"
}
