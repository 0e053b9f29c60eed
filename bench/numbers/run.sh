#!/usr/bin/env bash
# section: numbers
# about: sort of 1e3..1e6 files beside GNU sort, a C floor and the seed's sort_counter.py; peak RSS; gen of a million files
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

# The million files are made once and kept in BENCH_DIR; --quick makes a thousand in $out.
files=$(bench_pick 1000000 1000)
sizes=$(bench_pick "1000 10000 100000 1000000" "1000")
work=$(bench_pick "$bench_dir" "$out/work")
mkdir -p "$work"
cc -O2 -o "$out/floor" "$root/bench/numbers/floor.c"

echo "## numbers gen of $(bench_pick "a million" "$files") files (one run)"
if [[ ! -f "$work/numbers/numbers_$((files - 1)).txt" ]]; then
  /usr/bin/time -o "$out/gen.time" -f "%e s elapsed, %M KiB peak RSS" "$sk" -q numbers gen --dir "$work/numbers" --files "$files" --seed 1
  cat "$out/gen.time"
else
  echo "(reusing $work/numbers)"
fi
echo

echo "## numbers sort, 100 numbers per file in 1..10000 (hyperfine; peak RSS from /usr/bin/time)"
cd "$work" || exit  # the commands read numbers/ and the seed's program writes sorted_nums.txt here
for n in $sizes; do
  find numbers -name 'numbers_*.txt' | awk -F'[_.]' -v n="$n" '$2 < n' | sort > "$out/list$n"
  tr '\n' '\0' < "$out/list$n" > "$out/list0_$n"
  runs=5; [[ $n -ge 100000 ]] && runs=2
  cmds=("$sk -q numbers sort --files $n -o $out/sk.txt"
        "$sk -q numbers sort --files $n -o $out/sk.txt --method memory"
        "$out/floor numbers $n $out/floor.txt"
        "sort -n --parallel=2 --files0-from=$out/list0_$n -o $out/gnu.txt")
  [[ $n -le 10000 ]] && cmds+=("/usr/bin/python3 $seed/sort_counter.py $n")
  bench_hyperfine -N --runs "$runs" --export-markdown "$out/n$n.md" "${cmds[@]}"
  echo "### $n files"
  bench_md "$out/n$n.md"
  if cmp -s "$out/sk.txt" "$out/gnu.txt"; then echo "(scalekit output byte-identical to GNU sort -n)"; fi
  for m in counter memory; do
    /usr/bin/time -f "peak RSS $m: %M KiB" "$sk" -q numbers sort --files "$n" -o "$out/sk.txt" --method "$m" 2>&1 | grep peak
  done
  echo
done
rm -f sorted_nums.txt
