#!/usr/bin/env bash
# section: search
# about: per-query latency after loading, beside grep -rF and rg -F (a copy of /usr/include and Python's stdlib)
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

# The corpus is copied once into BENCH_DIR; --quick searches Python's C headers where they are.
if $bench_quick; then
  corpus=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  about="Python's C headers"
else
  corpus="$bench_dir/corpus"
  about="/usr/include + Python's stdlib"
  if [[ ! -d "$corpus/python" ]]; then
    mkdir -p "$corpus"
    cp -r /usr/include "$corpus/include"
    cp -r "$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')" "$corpus/python"
  fi
fi
repeat=$(bench_pick 20 3)
echo "## search: per-query latency after loading, corpus $about ($(du -sh "$corpus" | cut -f1), $(find "$corpus" -type f | wc -l) files)"
echo "scalekit: $repeat runs of each query from stdin, one at a time (--in-flight 1), p50; grep and rg: hyperfine, 5 runs, output to /dev/null"
echo
echo "| query | matching lines | scalekit -j 2 (processes) | scalekit -j 2 (threads) | grep -rF | rg -uu -F | vs rg |"
echo "|---|---:|---:|---:|---:|---:|---:|"
sk_ms() {  # executor -> "p50_ms matching_lines_per_query"
  "$sk" --json search "$corpus" --in-flight 1 --executor "$1" < "$out/queries" 2>/dev/null |
    bench_json query_p50_us matching_lines | awk -v n="$repeat" '{printf "%.1f %d\n", $1 / 1000, $2 / n}'
}
for q in "static inline" "Py_DECREF" "mutex" "the quick brown fox"; do
  for ((i = 0; i < repeat; i++)); do echo "$q"; done > "$out/queries"
  read -r p_ms lines <<<"$(sk_ms processes)"
  read -r t_ms _ <<<"$(sk_ms threads)"
  # grep and rg exit 1 when nothing matches: -i keeps hyperfine going.
  bench_hyperfine -N -i --warmup 1 --runs 5 --export-json "$out/s.json" \
    "grep -rF -- '$q' $corpus" "rg -uu -F -- '$q' $corpus" 2>/dev/null
  read -r g_ms r_ms <<<"$(/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.1f" % (x["median"]*1000) for x in r))' "$out/s.json")"
  echo "| \`$q\` | $lines | $p_ms ms | $t_ms ms | $g_ms ms | $r_ms ms | $(awk -v a="$r_ms" -v b="$p_ms" 'BEGIN {printf "%.1fx", (b > 0 ? a / b : 0)}') |"
done
echo
echo "load (walk + read + split into lines), and the peak RSS of the largest process (master or one worker):"
for ex in processes threads; do
  /usr/bin/time -o "$out/load.time" -f "  $ex: %e s, %M KiB peak RSS" "$sk" -q search "$corpus" --executor "$ex" "no match at all" > /dev/null
  cat "$out/load.time"
done
echo
