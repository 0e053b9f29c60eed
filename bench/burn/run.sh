#!/usr/bin/env bash
# section: burn
# about: burn: threads vs processes, -j 1 vs -j 2 (hyperfine)
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

iterations=$(bench_pick 500000000 5000000)
echo "## burn: $(bench_pick 500M 5M) iterations per worker (hyperfine)"
cmds=()
for ex in threads processes; do
  for j in 1 2; do cmds+=("$sk -q burn --iterations $iterations --executor $ex -j $j"); done
done
bench_hyperfine -N --warmup 1 --runs 5 --export-markdown "$out/b.md" "${cmds[@]}"
bench_md "$out/b.md"
echo
