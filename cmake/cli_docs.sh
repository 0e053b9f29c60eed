#!/usr/bin/env bash
# Generate the man page and the bash completion of scalekit from the binary's
# own --help, so that both always say what the program does.
#
#   cmake/cli_docs.sh BINARY OUTDIR
#
# Writes OUTDIR/scalekit.1 (help2man: the top-level help, then one section per
# command with its full help, subcommands included) and OUTDIR/scalekit
# (a bash completion: commands, subcommands and each one's options).
set -euo pipefail
bin="$1"
out="$2"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The subcommands listed in the "Subcommands:" block of a help text.
subcommands() { awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}' ; }
# The option names of a help text ("-W,--width INT" gives -W and --width).
options() {
  awk '/^Options:/ {on = 1; next} on && /^  -/ {n = split($1, a, ","); for (i = 1; i <= n; i++) print a[i]}
       /^[A-Z][a-z]*:/ && !/^Options:/ {on = 0}'
}

# Every command path ("mandelbrot", "primes check", ...), depth first.
paths=()
walk() {
  local path="$1" sub
  paths+=("$path")
  for sub in $("$bin" $path --help | subcommands); do walk "$path${path:+ }$sub"; done
}
walk ""

# ---- man page --------------------------------------------------------------
{
  echo "[COMMANDS]"
  for p in "${paths[@]}"; do
    [[ -z "$p" ]] && continue
    echo ".SS scalekit $p"
    echo ".nf"
    "$bin" $p --help | sed 's/\\/\\\\/g; s/^\./\\\&./'
    echo ".fi"
  done
  cat <<'EOF'
[EXIT STATUS]
0 when the job succeeded; 1 when it failed or some of its items did (each named on stderr);
2 for bad usage; 128+N when signal N (SIGINT, SIGTERM, SIGHUP) stopped a job: the first
signal stops it cleanly (outputs are whole or absent), a second one at once. A service
(dns, sort-service, dummyimage, worker) stopped by a signal has simply ended: 0.
[SEE ALSO]
The project's README.md and docs/ (DESIGN.md, BENCHMARKS.md, spec/).
EOF
} > "$tmp/include"
if command -v help2man > /dev/null; then
  help2man --no-info --no-discard-stderr --section 1 --source scalekit \
    --name "the scalable programs of two chapters on concurrency, built for real and measured" \
    --include "$tmp/include" --output "$out/scalekit.1" "$bin"
else
  echo "cli_docs.sh: help2man not found: no man page" >&2
fi

# ---- bash completion --------------------------------------------------------
{
  cat <<'EOF'
# bash completion for scalekit (generated from its --help by cmake/cli_docs.sh)
_scalekit() {
  # Keys are command paths ("primes check"); "_" is scalekit itself.
  local cur="${COMP_WORDS[COMP_CWORD]}" path="_" w i
  local -A subs=() opts=()
EOF
  for p in "${paths[@]}"; do
    help="$("$bin" $p --help)"
    printf '  subs[%q]=%q\n' "${p:-_}" "$(subcommands <<<"$help" | xargs)"
    printf '  opts[%q]=%q\n' "${p:-_}" "$(options <<<"$help" | xargs)"
  done
  cat <<'EOF'
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    if [[ " ${subs[$path]} " == *" $w "* ]]; then
      if [[ "$path" == _ ]]; then path="$w"; else path="$path $w"; fi
    fi
  done
  if [[ "$cur" == -* ]]; then
    local global=""  # scalekit's own flags work after a command too
    [[ "$path" != _ ]] && global="${opts[_]}"
    COMPREPLY=($(compgen -W "${opts[$path]} $global" -- "$cur"))
  elif [[ -n "${subs[$path]}" ]]; then
    COMPREPLY=($(compgen -W "${subs[$path]}" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _scalekit scalekit
EOF
} > "$out/scalekit"
bash -n "$out/scalekit"
