#!/usr/bin/env bash
# section: thumbnail
# about: 300 photos, and 120 of mixed kinds, beside the seed (Pillow), vipsthumbnail and ImageMagick, interleaved; one image's whole command; random URLs from dummyimage, 1/2/4/8 consumers, lock vs semaphore
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

# 300 photos made once in BENCH_DIR; --quick makes 10 in $out.
count=$(bench_pick 300 10)
corpus=$(bench_pick "$bench_dir/thumbs_corpus" "$out/thumbs_corpus")
if ! compgen -G "$corpus/img$(printf %04d $((count - 1))).*" > /dev/null; then
  echo "(making the corpus: $count photos, 800x600 to 2400x1600)" >&2
  /usr/bin/python3 "$root/bench/thumbnail/make_corpus.py" "$corpus" "$count"
fi
rounds=$(bench_pick 3 1)
# compare CORPUS COUNT TAG [PEERS...]: scalekit (processes, threads), the seed and the peers
# named (vipsthumbnail, magick) on CORPUS; prints the table.
compare() {
  local corpus=$1 count=$2 tag=$3 labels cmds ordered round k peer
  shift 3
  # The peers in one run: each round runs every command (hyperfine, 2 runs after a warm-up), the
  # order turned by one each round so that none always follows the same neighbour. Not -N: the
  # peers are pipelines.
  labels=("scalekit thumbnail -j 2 --executor processes" "scalekit thumbnail -j 2 --executor threads"
          "the seed (Pillow, ProcessPoolExecutor(2))")
  cmds=("$sk -q thumbnail $corpus -o $out/th -j 2 --executor processes"
        "$sk -q thumbnail $corpus -o $out/th -j 2 --executor threads"
        "/usr/bin/python3 $seed/thumbnail_disk.py $corpus $out/th --process 2")
  for peer in "$@"; do
    case $peer in
      vipsthumbnail)
        labels+=("vipsthumbnail -s 64x64 via xargs -P 2 -n 25")
        cmds+=("ls $corpus/* | xargs -P 2 -n 25 vipsthumbnail -s 64x64 -o $out/th/%s_thumb.png") ;;
      magick)
        labels+=("ImageMagick mogrify -thumbnail 64x64 via xargs -P 2 -n 25")
        cmds+=("ls $corpus/* | xargs -P 2 -n 25 /usr/bin/mogrify -path $out/th -format png -thumbnail 64x64") ;;
    esac
  done
  # SCALEKIT_BENCH_BASELINE=/other/build/src/cli/scalekit: another build (main's, say) as two more peers.
  if [[ -n ${SCALEKIT_BENCH_BASELINE:-} ]]; then
    labels+=("baseline: processes" "baseline: threads")
    cmds+=("$SCALEKIT_BENCH_BASELINE -q thumbnail $corpus -o $out/th -j 2 --executor processes"
           "$SCALEKIT_BENCH_BASELINE -q thumbnail $corpus -o $out/th -j 2 --executor threads")
  fi
  for ((round = 0; round < rounds; round++)); do
    ordered=()
    for ((k = 0; k < ${#cmds[@]}; k++)); do ordered+=("${cmds[$(((k + round) % ${#cmds[@]}))]}"); done
    bench_hyperfine --runs 2 --warmup 1 --prepare "rm -rf $out/th; mkdir -p $out/th" \
      --export-json "$out/th$tag$round.json" "${ordered[@]}"
  done
  /usr/bin/python3 - "$out/th$tag" "$rounds" "$count" "${labels[@]}" -- "${cmds[@]}" <<'PY'
import json, statistics, sys
out, rounds, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rest = sys.argv[4:]
labels, cmds = rest[:rest.index("--")], rest[rest.index("--") + 1:]
means = {c: [] for c in cmds}  # per round: wall time
cpus = {c: [] for c in cmds}  # per round: user + system time of the command and its children
for k in range(rounds):
    for r in json.load(open(f"{out}{k}.json"))["results"]:
        means[r["command"]].append(r["mean"])
        cpus[r["command"]].append(r["user"] + r["system"])
seed, vips = means[cmds[2]], means[cmds[3]]
def ratios(xs, base):  # how many times the base's time, per round: the range
    rs = sorted(b / x for x, b in zip(xs, base))
    return "%.2f-%.2fx" % (rs[0], rs[-1])
# CPU time is the steadier figure on a shared machine: another load slows the wall clock of
# whichever command it overlaps, but not the CPU a command uses.
print("| command | time (median of rounds) | images/s | vs the seed, per round | vs vipsthumbnail, per round | CPU time | CPU vs the seed |")
print("|---|---:|---:|---:|---:|---:|---:|")
for label, c in zip(labels, cmds):
    t, cpu = statistics.median(means[c]), statistics.median(cpus[c])
    print("| %s | %.2f s | %.0f | %s | %s | %.2f s | %s |" % (label, t, count / t, ratios(means[c], seed),
          ratios(means[c], vips), cpu, ratios(cpus[c], cpus[cmds[2]])))
PY
  echo
}

echo "## thumbnail: $count photos ($((count - count / 3)) JPEG, $((count / 3)) PNG, 800x600 to 2400x1600, $(du -sm "$corpus" | cut -f1) MB), 64x64 PNG thumbnails, 2 at a time; $rounds interleaved rounds"
echo
compare "$corpus" "$count" plain vipsthumbnail magick

# The second corpus: every variant the fast path declines as well as those it takes.
mixed_count=$(bench_pick 120 12)
mixed=$(bench_pick "$bench_dir/thumbs_mixed" "$out/thumbs_mixed")
if ! compgen -G "$mixed/img$(printf %04d $((mixed_count - 1))).*" > /dev/null; then
  echo "(making the mixed corpus: $mixed_count photos)" >&2
  /usr/bin/python3 "$root/bench/thumbnail/make_mixed_corpus.py" "$mixed" "$mixed_count"
fi
echo "## thumbnail, mixed corpus: $mixed_count photos ($(du -sm "$mixed" | cut -f1) MB; JPEG 4:2:0, 4:4:4, progressive, grey, EXIF-rotated, CMYK, ICC-tagged; PNG RGB, grey, palette, 16-bit; WebP), 64x64, 2 at a time; $rounds interleaved rounds"
echo
compare "$mixed" "$mixed_count" mixed vipsthumbnail
echo "### per image, by kind (CPU on one thread; scalekit's start-up taken off; best of $(bench_pick 3 1))"
echo
/usr/bin/python3 "$root/bench/thumbnail/per_kind.py" "$sk" "$mixed" "$out/per_kind" "$(bench_pick 3 1)"
echo

# One image, the whole command: start-up is most of it (with the default process pool, one
# image file is made in the command's own process, with no workers to start).
one=$(compgen -G "$corpus/img0000.*" | head -n 1)
echo "## thumbnail, one image ($(basename "$one")), the whole command: $rounds interleaved rounds"
echo
for ((r = 1; r <= rounds; r++)); do
  bench_hyperfine -N --warmup 3 --runs 15 --prepare "rm -rf $out/one" --export-markdown "$out/one$r.md" \
    "vipsthumbnail $one -s 64x64 -o $out/vt_%s.png" "$sk -q thumbnail $one -o $out/one" \
    "$sk -q thumbnail $one -o $out/one --executor threads"
  bench_md "$out/one$r.md" "s|$corpus/||g"
  echo
done

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
