#!/usr/bin/env bash
# section: thumbnail
# about: 300 photos beside vipsthumbnail, ImageMagick and the seed; random URLs from dummyimage, 1/2/4/8 consumers, lock vs semaphore
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

# 300 photos made once in BENCH_DIR; --quick makes 10 in $out.
count=$(bench_pick 300 10)
corpus=$(bench_pick "$bench_dir/thumbs_corpus" "$out/thumbs_corpus")
if ! compgen -G "$corpus/img$(printf %04d $((count - 1))).*" > /dev/null; then
  echo "(making the corpus: $count photos, 800x600 to 2400x1600)" >&2
  /usr/bin/python3 "$root/bench/thumbnail/make_corpus.py" "$corpus" "$count"
fi
echo "## thumbnail: $count photos ($((count - count / 3)) JPEG, $((count / 3)) PNG, 800x600 to 2400x1600, $(du -sm "$corpus" | cut -f1) MB), 64x64 PNG thumbnails, 2 at a time"
echo
# Not -N: the peers are pipelines.
bench_hyperfine --runs 3 --warmup 1 --prepare "rm -rf $out/th; mkdir -p $out/th" --export-json "$out/th.json" \
  "$sk -q thumbnail $corpus -o $out/th -j 2 --executor threads" \
  "$sk -q thumbnail $corpus -o $out/th -j 2 --executor processes" \
  "ls $corpus/* | xargs -P 2 -n 25 vipsthumbnail -s 64x64 -o $out/th/%s_thumb.png" \
  "ls $corpus/* | xargs -P 2 -n 25 /usr/bin/mogrify -path $out/th -format png -thumbnail 64x64" \
  "/usr/bin/python3 $seed/thumbnail_disk.py $corpus $out/th --process 2"
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
count = int(sys.argv[2])
names = ["scalekit thumbnail -j 2 (threads)", "scalekit thumbnail -j 2 --executor processes",
         "vipsthumbnail -s 64x64 via xargs -P 2 -n 25", "ImageMagick mogrify -thumbnail 64x64 via xargs -P 2 -n 25",
         "the seed (Pillow, ProcessPoolExecutor(2))"]
vt = r[2]["mean"]
print("| command | time | images/s | vs vipsthumbnail |")
print("|---|---:|---:|---:|")
for n, x in zip(names, r):
    print("| %s | %.2f s ± %.2f | %.0f | %.2fx |" % (n, x["mean"], x["stddev"], count / x["mean"], vt / x["mean"]))
' "$out/th.json" "$count"
echo

limit=$(bench_pick 300 20)
echo "## thumbnail --random-urls against dummyimage serve (-j 2, same machine): $limit thumbnails, 2 producers"
echo
bench_start dummyimage "$heavy" dummyimage serve --listen 127.0.0.1:0
port=$(bench_listening_port dummyimage)
echo "| consumers | lock: images/s | semaphore: images/s |"
echo "|---:|---:|---:|"
for c in $(bench_pick "1 2 4 8" "1 2"); do
  row="| $c"
  for lim in lock semaphore; do
    rm -rf "$out/rnd"
    rate=$("$sk" -q --json thumbnail --random-urls "http://127.0.0.1:$port" -o "$out/rnd" --limit "$limit" --limiter "$lim" \
             --consumers "$c" --producers 2 --seed 11 | bench_json made elapsed_s | awk '{printf "%.0f", $1 / $2}')
    row="$row | $rate"
  done
  echo "$row |"
done
echo
