#pragma once
// The plan of a scalability sweep (`scalekit scale WORKLOAD`): which points to
// measure (executor × workers × size) and the order of their repeated runs,
// and the statistics the sweep reports of them (the spread of the repeats;
// speedup, efficiency and Karp–Flatt per point).
//
// All functions are pure and thread-safe.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/scale/usl.h"

namespace scalekit::scale {

/// One configuration the sweep measures.
struct sweep_point {
  core::executor_kind executor = core::executor_kind::serial;
  std::size_t workers = 1;
  std::uint64_t size = 0;  ///< the workload's size (pixels across, numbers, files, ...)
  bool operator==(const sweep_point&) const = default;
};

/// Every executor × workers × size, ordered by size, then executor (in the
/// order given), then workers ascending. The serial executor has one worker
/// whatever `workers` says, so it is measured once per size, at N = 1.
/// Duplicates are measured once. REQUIRES every worker count ≥ 1.
std::vector<sweep_point> plan_points(std::span<const core::executor_kind> executors,
                                     std::span<const std::size_t> workers, std::span<const std::uint64_t> sizes);

/// One run of a point: `repeat` counts from 0.
struct planned_run {
  std::size_t point = 0;
  int repeat = 0;
};

/// The order of the runs: `repeat` rounds, each a random permutation of all
/// the points (blocked randomization), so that every point runs exactly
/// `repeat` times, never twice in a row within a round, and a slow drift of
/// the machine (heat, a neighbour's load) spreads over all points instead of
/// biasing the ones measured last. The same seed gives the same order.
std::vector<planned_run> shuffled_runs(std::size_t points, int repeat, std::uint64_t seed);

/// The spread of repeated measurements. NaN when there are none.
struct spread {
  double min = std::numeric_limits<double>::quiet_NaN();
  double median = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};
/// Min, median (the mean of the middle two for an even count) and max;
/// NaN values are ignored.
spread spread_of(std::vector<double> values);

/// What a point's throughput means against the same executor at N = 1.
struct scaling_row {
  double n = 1;
  double throughput = 0;
  double speedup = 0;     ///< X(N) / X(1)
  double efficiency = 0;  ///< speedup / N
  double karp_flatt = 0;  ///< (1/S − 1/N) / (1 − 1/N); NaN at N = 1
};
/// One row per measurement (typically each N's median throughput), in the
/// order given, relative to `x1`, the throughput at N = 1. NaN where x1 ≤ 0.
std::vector<scaling_row> scaling_rows(std::span<const measurement> points, double x1);

/// Whether `distinct_n` distinct worker counts are enough to fit the models
/// (fit.h's min_distinct_for_model); fewer is thin data, for which a sweep
/// reports speedup, efficiency and Karp–Flatt only.
bool enough_for_model(std::size_t distinct_n);

/// What a sweep says about a series with thin data.
inline constexpr const char* thin_data_verdict = "thin data: speedup, efficiency and Karp-Flatt only";

}  // namespace scalekit::scale
