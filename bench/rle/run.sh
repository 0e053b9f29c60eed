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
    "$sk" -q --json rle compress "$img" "$out/sk.rle" --row-executor "$ex"
  done | bench_json elapsed_s | bench_median |
    awk -v ex="$ex" -v best="$best" -v pixels=$((W * H)) '{printf "  scalekit --row-executor %-9s %.4f s  (%.0fx the seed'"'"'s best, %.3g pixels/s)\n", ex, $1, best / $1, pixels / $1}'
done
if cmp -s "$out/sk.rle" "$out/py.rle"; then echo "  (output byte-identical to the seed's)"; else echo "  OUTPUT DIFFERS FROM THE SEED'S"; fi
echo

rounds=$(bench_pick 3 1)
echo "### whole commands (hyperfine, $rounds interleaved rounds: scalekit's commands, then the seed's, in each)"
for ((r = 1; r <= rounds; r++)); do
  bench_hyperfine -N --warmup 2 --runs 10 --export-json "$out/sk$r.json" \
    "$sk -q rle compress $img $out/sk.rle --row-executor threads" "$sk -q rle decompress $out/page.rle $out/sk.bmp" \
    "$sk --version" "$heavy --version"
  bench_hyperfine -N --runs 2 --export-json "$out/pyc$r.json" "/usr/bin/python3 $seed/rle_compress.py $img $out/py.rle processes"
  bench_hyperfine -N --runs 1 --export-json "$out/pyd$r.json" "/usr/bin/python3 $seed/rle_decompress.py $out/page.rle $out/py.bmp"
done
/usr/bin/python3 -c '
import json, sys
rounds = int(sys.argv[1])
load = lambda name, r: json.load(open("%s/%s%d.json" % (sys.argv[2], name, r)))["results"]
sk = [load("sk", r) for r in range(1, rounds + 1)]
pyc = [load("pyc", r)[0] for r in range(1, rounds + 1)]
pyd = [load("pyd", r)[0] for r in range(1, rounds + 1)]
print("| command | scalekit (mean ± sd per round) | seed Python | ratio per round | ratio range |")
print("|---|---:|---:|---:|---:|")
for name, k, py in (("rle compress (rows on threads)", 0, pyc), ("rle decompress", 1, pyd)):
    ratios = [p["mean"] / s[k]["mean"] for s, p in zip(sk, py)]
    print("| %s | %s | %s | %s | %.0f-%.0fx |" % (name,
          ", ".join("%.1f ± %.1f ms" % (s[k]["mean"] * 1e3, s[k]["stddev"] * 1e3) for s in sk),
          ", ".join("%.2f s" % p["mean"] for p in py), ", ".join("%.0fx" % x for x in ratios), min(ratios), max(ratios)))
for k, what in ((2, "scalekit --version (the light executable: rle runs here)"), (3, "scalekit-heavy --version (libvips loading)")):
    print("| %s | %s | | | |" % (what, ", ".join("%.1f ms" % (s[k]["mean"] * 1e3) for s in sk)))
' "$rounds" "$out"
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
