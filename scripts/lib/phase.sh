# shellcheck shell=bash
# Sourced by scripts/setup, scripts/test, scripts/fuzz and ./scalekit (after they set
# `root`): run each phase of a build (installing packages, configuring, building, testing,
# fuzzing) with its whole output in a log file and one line of progress on stderr.
#
#   sk_phase [--note TEXT] [--no-final] KIND LOG LABEL -- COMMAND...
#
# prints "scalekit: LABEL" when the phase starts; runs COMMAND with stdin from /dev/null and
# stdout and stderr into LOG; returns COMMAND's status. KIND says how to read progress from
# the output: plain (none), ninja ("[k/n]" -> "step k of n"), ctest ("k/n Test #i" ->
# "k of n"), apt (package counts) or fuzz (libFuzzer's "#N" runs). On a terminal the line is
# live, rewritten as the output comes and left with the elapsed time when the phase ends;
# elsewhere (CI, a pipe, a file) it is printed again at most every 10 s. NOTE goes at the
# end of the line, e.g. the log's path. When COMMAND fails, the part of LOG that tells why
# (the last 20 lines; for ninja, the first failed step) and LOG's path follow, unless
# --no-final: then the live line is cleared and the caller reports (scripts/test, for ctest).
#
# SCALEKIT_VERBOSE=1 (the scripts' -v/--verbose) prints the phase lines and runs each
# COMMAND as before, its output on the terminal; LOG then only says so. With CI=true a failed
# phase prints its whole log: CI's checkout is thrown away after the run.

# shellcheck disable=SC2034,SC2154  # root comes from the caller, sk_logs is for it
sk_logs="$root/build/logs"
# Log paths are shown relative to where the user started the command (scripts/test runs
# scripts/setup and scripts/fuzz after cd-ing to the root, hence the variable).
: "${SCALEKIT_START_DIR:=$PWD}"
export SCALEKIT_START_DIR

sk_verbose() { [[ -n "${SCALEKIT_VERBOSE:-}" && "${SCALEKIT_VERBOSE}" != 0 ]]; }
sk_say() { printf 'scalekit: %s\n' "$*" >&2; }
sk_rel() {
  local p=$1
  if [[ "$p" == "$SCALEKIT_START_DIR"/* ]]; then p=${p#"$SCALEKIT_START_DIR"/}; fi
  printf '%s' "$p"
}
_sk_tty() { [[ -t 2 && "${TERM:-dumb}" != dumb ]]; }
_sk_elapsed() {  # seconds -> "42 s" or "3 min 5 s"
  if (($1 < 60)); then printf '%d s' "$1"; else printf '%d min %d s' $(($1 / 60)) $(($1 % 60)); fi
}

# Progress from one line of output, kept in _sk_detail (the text after the label).
_sk_reset() { _sk_detail="" _sk_total=0 _sk_count=0 _sk_failed=0 _sk_warnings=0; }
_sk_parse() {  # kind line
  local line=$2
  case $1 in
    ninja)
      if [[ $line =~ ^\[([0-9]+)/([0-9]+)\]\  ]]; then
        _sk_detail=" step ${BASH_REMATCH[1]} of ${BASH_REMATCH[2]}"
      elif [[ $line == *": warning: "* ]]; then
        _sk_warnings=$((_sk_warnings + 1))
      elif [[ $line == "ninja: no work to do." ]]; then
        _sk_detail=": up to date"
      fi ;;
    ctest)
      if [[ $line =~ ^\ *([0-9]+)/([0-9]+)\ Test\ +#[0-9]+: ]]; then
        _sk_detail=" ${BASH_REMATCH[1]} of ${BASH_REMATCH[2]}"
        [[ $line =~ \*\*\*(Failed|Exception|Timeout) ]] && _sk_failed=$((_sk_failed + 1))
        ((_sk_failed == 0)) || _sk_detail+=", $_sk_failed failed"
      fi ;;
    apt)
      if [[ $line =~ ^([0-9]+)\ upgraded,\ ([0-9]+)\ newly\ installed ]]; then
        _sk_total=$((BASH_REMATCH[1] + BASH_REMATCH[2])) _sk_count=0
        _sk_detail=": $_sk_total with dependencies"
      elif [[ $line =~ ^(Hit|Get|Ign):[0-9]+\  ]] && ((_sk_total == 0)); then
        _sk_detail=": updating the package lists"
      elif [[ $line == "Building dependency tree"* ]]; then
        _sk_detail=": resolving dependencies"
      elif [[ $line =~ ^Get:([0-9]+)\  ]]; then
        _sk_detail=": downloading ${BASH_REMATCH[1]} of $_sk_total"
      elif [[ $line == "Unpacking "* ]]; then
        _sk_count=$((_sk_count + 1)) _sk_detail=": unpacking $_sk_count of $_sk_total"
      elif [[ $line == "Setting up "* ]]; then
        # Setting up follows the unpacking; count again from 1.
        [[ $_sk_detail == ": setting up"* ]] || _sk_count=0
        _sk_count=$((_sk_count + 1)) _sk_detail=": setting up $_sk_count of $_sk_total"
      fi ;;
    fuzz)
      if [[ $line =~ ^stat::number_of_executed_units:\ *([0-9]+) ]]; then
        _sk_detail=": ${BASH_REMATCH[1]} runs"
      elif [[ $line =~ ^#([0-9]+)[[:space:]] ]]; then
        _sk_detail=": ${BASH_REMATCH[1]} runs"
      fi ;;
  esac
  return 0
}

# The live line: on a terminal rewritten in place (without the note, then cut, when it is
# wider than the terminal: a wrapped line could not be rewritten), elsewhere printed when it
# changed and 10 s have passed since the last one.
_sk_show() {  # text [the text without the note]
  if _sk_tty; then
    [[ "$1" != "$_sk_shown" ]] || return 0
    local fit=$1
    if ((${#fit} >= _sk_cols)); then fit=${2:-$1}; fi
    printf '\r\033[K%s' "${fit:0:$((_sk_cols - 1))}" >&2
    _sk_shown=$1
  elif [[ "$1" != "$_sk_shown" ]] && ((SECONDS - _sk_shown_at >= 10)); then
    printf '%s\n' "$1" >&2
    _sk_shown=$1 _sk_shown_at=$SECONDS
  fi
}

# Runs in the background beside the phase: reads LOG as it grows and shows the progress.
# Reading a file (not a pipe) means a daemon that a command leaves holding its output (a
# service that a package's postinst starts) cannot keep the phase from ending.
_sk_follow() {  # kind log label note
  set +eu
  local kind=$1 label=$3 note=$4 line partial="" fd
  exec {fd}<"$2"
  _sk_reset
  while :; do
    while IFS= read -r -u "$fd" line; do
      _sk_parse "$kind" "$partial$line"
      partial=""
    done
    partial+=$line  # a line still being written
    _sk_show "scalekit: $label$_sk_detail$note" "scalekit: $label$_sk_detail"
    sleep 0.2
  done
}

_sk_excerpt() {  # kind log: the part of the log that tells why the phase failed
  local kind=$1 log=$2 first
  if [[ "${CI:-}" == true ]]; then
    echo "----- $(sk_rel "$log") -----"
    cat "$log"
    echo "----- end of $(sk_rel "$log") -----"
    return
  fi
  if [[ $kind == ninja ]] && first=$(grep -n -m1 '^FAILED: ' "$log" | cut -d: -f1) && [[ -n $first ]]; then
    # The first failed step: its "FAILED: target" line and its output (the command line
    # after it is long and is in the log), at most 20 lines.
    sed -n "${first}p" "$log"
    tail -n +"$((first + 2))" "$log" | head -n 20
  else
    tail -n 20 "$log"
  fi
}

sk_phase() {
  local note="" final=true
  while [[ $1 == --* ]]; do
    case $1 in
      --note) note=" ($2)"; shift 2 ;;
      --no-final) final=false; shift ;;
      --) break ;;
    esac
  done
  local kind=$1 log=$2 label=$3
  shift 3
  [[ $1 == -- ]] && shift
  mkdir -p "$(dirname "$log")"
  if sk_verbose; then
    sk_say "$label$note"
    echo "(SCALEKIT_VERBOSE was set: this phase's output went to the terminal)" >"$log"
    "$@"
    return
  fi
  local start=$SECONDS status=0 follower
  _sk_cols=$( (stty size <&2) 2>/dev/null | cut -d' ' -f2) || true
  [[ $_sk_cols =~ ^[0-9]+$ ]] && ((_sk_cols > 20)) || _sk_cols=80
  : >"$log"
  # ninja's status line as the parser reads it, whatever the user's NINJA_STATUS says.
  export NINJA_STATUS='[%f/%t] '
  if _sk_tty; then printf 'scalekit: %s%s' "$label" "$note" >&2; else sk_say "$label$note"; fi
  _sk_shown="scalekit: $label$note" _sk_shown_at=$SECONDS
  _sk_follow "$kind" "$log" "$label" "$note" &
  follower=$!
  # Stop the follower also when this script is interrupted (Ctrl-C) or killed meanwhile;
  # the caller's own EXIT trap, if any, comes back afterwards.
  local caller_trap
  caller_trap=$(trap -p EXIT)
  # shellcheck disable=SC2064
  trap "kill $follower 2>/dev/null; _sk_tty && echo >&2" EXIT
  "$@" </dev/null >>"$log" 2>&1 || status=$?
  kill "$follower" 2>/dev/null || true
  wait "$follower" 2>/dev/null || true
  if [[ -n $caller_trap ]]; then eval "$caller_trap"; else trap - EXIT; fi

  # The final line, from the whole log.
  local line
  _sk_reset
  while IFS= read -r line || [[ -n $line ]]; do _sk_parse "$kind" "$line"; done <"$log"
  local elapsed
  elapsed=" ($(_sk_elapsed $((SECONDS - start))))"
  if ! $final; then
    if _sk_tty; then printf '\r\033[K' >&2; fi
    return "$status"
  fi
  local text="scalekit: $label$_sk_detail$elapsed$note"
  if ((status != 0)); then text="scalekit: $label$_sk_detail: failed (exit $status)$note"; fi
  if _sk_tty; then
    printf '\r\033[K%s\n' "$text" >&2
  elif ((status != 0)); then
    printf '%s\n' "$text" >&2
  fi
  if ((status != 0)); then
    _sk_excerpt "$kind" "$log" >&2
    sk_say "the full log: $(sk_rel "$log")"
  elif ((_sk_warnings > 0)); then
    sk_say "$_sk_warnings compiler warning(s), in $(sk_rel "$log")"
  fi
  return "$status"
}
