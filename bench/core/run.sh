#!/usr/bin/env bash
# section: pool
# about: thread_pool vs oneTBB task_group, a million tiny tasks (Google Benchmark)
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

echo "## a million tiny tasks: scalekit thread_pool vs oneTBB task_group"
"$bench_bin/thread_pool_bench" --benchmark_min_time="$(bench_pick 1 0.01)" 2>/dev/null | grep -E '^(scalekit|tbb)'
echo
