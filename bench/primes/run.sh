#!/usr/bin/env bash
# section: primes
# about: factor vs GNU factor; trial check vs the seed's Python threads and Pool; -j 1 vs -j 2 per executor
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

count=$(bench_pick 200000 2000)
echo "## primes factor vs GNU factor: $count random numbers in [2, 2^64-1] (hyperfine)"
"$sk" -q primes factor --random "$count" --min 2 --max 18446744073709551615 --seed 1 |
  sed 's/The factors of \([0-9]*\) are.*/\1/' > "$out/numbers64"
"$sk" -q primes factor --random "$count" --min 2 --max 4294967295 --seed 2 |
  sed 's/The factors of \([0-9]*\) are.*/\1/' > "$out/numbers32"
bench_hyperfine -N --warmup 1 --runs 5 --export-markdown "$out/f.md" \
  "factor --help" \
  "sh -c 'factor < $out/numbers64 > /dev/null'" \
  "$sk -q primes factor --file $out/numbers64 -j 1" \
  "$sk -q primes factor --file $out/numbers64 -j 2" \
  "sh -c 'factor < $out/numbers32 > /dev/null'" \
  "$sk -q primes factor --file $out/numbers32 -j 2"
bench_md "$out/f.md"
echo

echo "## primes check --seed-list --algorithm trial vs the seed's Python (hyperfine)"
peers=("/usr/bin/python3 $seed/prime_pool.py 2" "/usr/bin/python3 $seed/prime_thread.py")
# The seed's Python takes a minute on its fixed list; --quick leaves it out.
if $bench_quick; then peers=(); fi
bench_hyperfine -N --runs 1 --export-markdown "$out/p.md" \
  "$sk -q primes check --seed-list --algorithm trial -j 2" "${peers[@]}"
bench_md "$out/p.md"
if $bench_quick; then echo "(--quick: the seed's prime_pool.py and prime_thread.py left out)"; fi
echo

copies=$(bench_pick 10 1) runs=$(bench_pick 5 1)
echo "## primes trial scaling: seed list x $copies, -j 1 vs -j 2 (median of $runs --json runs)"
for ((i = 0; i < copies; i++)); do "$sk" -q primes check --seed-list | cut -d' ' -f1; done > "$out/seed10"
for ex in threads processes openmp; do
  for j in 1 2; do
    for ((i = 0; i < runs; i++)); do
      "$sk" -q --json primes check --file "$out/seed10" --algorithm trial --executor "$ex" -j "$j"
    done | bench_json elapsed_s | bench_median > "$out/j$j"
  done
  awk -v ex="$ex" 'NR==FNR {a=$1; next} {printf "  %-9s -j 1 %7.3f s   -j 2 %7.3f s   speedup %.2fx\n", ex, a, $1, a/$1}' "$out/j1" "$out/j2"
done
echo
