#!/usr/bin/env bash
# section: find
# about: find in a tree of 200,000 files beside GNU find and fdfind -j 2
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

# 20 x 100 directories of 100 files (a third .py), made once in BENCH_DIR; --quick: 2 x 10 in $out.
tree=$(bench_pick "$bench_dir/tree" "$out/tree")
top=$(bench_pick 20 2) sub=$(bench_pick 100 10)
if [[ ! -d "$tree/d$((top - 1))/sub$((sub - 1))" ]]; then
  for ((a = 0; a < top; a++)); do
    for ((b = 0; b < sub; b++)); do
      mkdir -p "$tree/d$a/sub$b"
      (cd "$tree/d$a/sub$b" && seq -f 'file%g.txt' 0 65 | xargs touch && seq -f 'file%g.py' 66 99 | xargs touch)
    done
  done
fi
echo "## find: $(find "$tree" | wc -l) paths, query '.py' (hyperfine, output to /dev/null)"
bench_hyperfine -N --warmup 2 --runs 10 --export-markdown "$out/find.md" \
  "sh -c 'find $tree -path \"*.py*\" > /dev/null'" \
  "sh -c 'fdfind -j 2 -u -p -F .py $tree > /dev/null'" \
  "sh -c '$sk -q find .py $tree -j 1 > /dev/null'" \
  "sh -c '$sk -q find .py $tree -j 2 > /dev/null'"
bench_md "$out/find.md" "s|$tree|TREE|g"
echo
