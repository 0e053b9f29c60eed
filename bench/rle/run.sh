#!/usr/bin/env bash
# section: rle
# about: RLE of a 7200x5600 1-bit image beside the seed's Python: kernels, in-process, whole commands; compress-dir on four pool combinations
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

read -r W H <<<"$(bench_pick "7200 5600" "720 560")"
img="$out/page.bmp"
/usr/bin/python3 "$root/tests/fixtures/rle_images.py" big "$W" "$H" "$img"
"$sk" -q rle compress "$img" "$out/page.rle"
echo "## rle: ${W}x$H 1-bit page-like image$(bench_pick " (the seed's size)" ""), $(stat -c %s "$out/page.rle") bytes compressed"
echo
echo "### kernels, one core (Google Benchmark, this image)"
SCALEKIT_RLE_IMAGE="$img" "$bench_bin/rle_codec_bench" --benchmark_min_time="$(bench_pick 1 0.01)" 2>/dev/null |
  grep -E '^(encode|decode|save|load)'
echo

seed_runs=$(bench_pick 3 1) runs=$(bench_pick 9 3)
echo "### compress inside the process (no interpreter or binary start): median of the seed's compress_image ($seed_runs runs) and of scalekit's --json elapsed_s ($runs runs)"
/usr/bin/python3 "$root/bench/rle/seed_time.py" "$seed" "$img" "$out/py.rle" "$seed_runs" > "$out/seed_times"
sed 's/^/  seed /; s/$/ s/' "$out/seed_times"
best=$(awk '{print $2}' "$out/seed_times" | sort -g | head -1)
for ex in serial threads processes; do
  for ((i = 0; i < runs; i++)); do
    "$heavy" -q --json rle compress "$img" "$out/sk.rle" --row-executor "$ex"
  done | bench_json elapsed_s | bench_median |
    awk -v ex="$ex" -v best="$best" -v pixels=$((W * H)) '{printf "  scalekit --row-executor %-9s %.4f s  (%.0fx the seed'"'"'s best, %.3g pixels/s)\n", ex, $1, best / $1, pixels / $1}'
done
if cmp -s "$out/sk.rle" "$out/py.rle"; then echo "  (output byte-identical to the seed's)"; else echo "  OUTPUT DIFFERS FROM THE SEED'S"; fi
echo

echo "### whole commands (hyperfine)"
bench_hyperfine -N --warmup 2 --runs 10 --export-json "$out/sk.json" \
  "$sk -q rle compress $img $out/sk.rle --row-executor threads" "$sk -q rle decompress $out/page.rle $out/sk.bmp" \
  "$heavy --version"
bench_hyperfine -N --runs 3 --export-json "$out/pyc.json" "/usr/bin/python3 $seed/rle_compress.py $img $out/py.rle processes"
bench_hyperfine -N --runs 2 --export-json "$out/pyd.json" "/usr/bin/python3 $seed/rle_decompress.py $out/page.rle $out/py.bmp"
/usr/bin/python3 -c '
import json, sys
sk, pyc, pyd = (json.load(open(f))["results"] for f in sys.argv[1:4])
rows = [("scalekit rle compress (rows on threads)", sk[0], pyc[0]), ("scalekit rle decompress", sk[1], pyd[0])]
print("| command | scalekit | seed Python | ratio |")
print("|---|---:|---:|---:|")
for name, s, p in rows:
    print("| %s | %.1f ms ± %.1f | %.2f s | %.0fx |" % (name, s["mean"] * 1e3, s["stddev"] * 1e3, p["mean"], p["mean"] / s["mean"]))
print("| scalekit-heavy --version (its start: libvips and FreeImage loading) | %.1f ms | | |" % (sk[2]["mean"] * 1e3))
' "$out/sk.json" "$out/pyc.json" "$out/pyd.json"
if /usr/bin/python3 "$root/tests/fixtures/rle_images.py" same "$img" "$out/sk.bmp"; then echo "(round trip exact)"; fi
echo

images=$(bench_pick 8 2)
echo "### compress-dir: $images such images, the seed's nested pools (images x rows, -j 2 each)"
mkdir -p "$out/pages"
for ((i = 1; i <= images; i++)); do cp "$img" "$out/pages/p$i.bmp"; done
cmds=()
for images_on in threads processes; do
  for rows_on in threads processes; do
    cmds+=("$sk -q rle compress-dir $out/pages $out/pages_out --image-executor $images_on --row-executor $rows_on -j 2 --row-jobs 2")
  done
done
bench_hyperfine -N --warmup 1 --runs 5 --export-markdown "$out/dir.md" "${cmds[@]}"
bench_md "$out/dir.md"
echo
