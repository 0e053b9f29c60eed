#!/usr/bin/env bash
# section: mandelbrot
# about: kernels (Google Benchmark); whole commands per executor at -j 1/-j 2 (hyperfine); render scaling; the seed's Python
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

echo "## mandelbrot kernels, one core"
"$bench_bin/mandelbrot_kernel_bench" --benchmark_min_time="$(bench_pick 1 0.01)" 2>/dev/null | grep -E '^(scalar|simd)'
echo

echo "## whole commands, 640x480 n=1000 (hyperfine)"
cmds=()
for ex in serial threads processes openmp; do
  for j in 1 2; do
    [[ $ex == serial && $j == 2 ]] && continue
    cmds+=("$sk -q mandelbrot --executor $ex -j $j -o $out/m.png")
  done
done
bench_hyperfine -N --warmup 3 --min-runs 20 --export-markdown "$out/sk.md" "$sk --version" "${cmds[@]}"
bench_md "$out/sk.md"
echo

runs=$(bench_pick 15 3)
echo "## render phase only (--json render_s, median of $runs runs), -j 1 vs -j 2"
for kernel in "--kernel scalar --no-shortcut" "--kernel simd --no-shortcut" ""; do
  echo "kernel flags: ${kernel:-(defaults: simd, shortcut)}"
  read -ra flags <<<"$kernel"
  for ex in threads processes openmp; do
    for j in 1 2; do
      for ((i = 0; i < runs; i++)); do
        "$sk" -q --json mandelbrot "${flags[@]}" --executor "$ex" -j "$j" -o "$out/m.rgb"
      done | bench_json render_s | bench_median | awk '{print $1 * 1000}' > "$out/j$j"
    done
    awk -v ex="$ex" 'NR==FNR {a=$1; next} {printf "  %-9s -j 1 %7.2f ms   -j 2 %7.2f ms   speedup %.2fx\n", ex, a, $1, a/$1}' "$out/j1" "$out/j2"
  done
done
echo

# The seed's Python takes 5.5 s on 640x480; --quick gives it a 160x120 image.
py="/usr/bin/python3 $seed/mandelbrot.py$(bench_pick "" " -W 160 -H 120") -o $out/py.png"
echo "## the seed's Python program, $(bench_pick "same image" "a 160x120 image"), same machine (hyperfine, 3 runs)"
bench_hyperfine -N --runs 3 --export-markdown "$out/py.md" "$py"
bench_md "$out/py.md"
echo
