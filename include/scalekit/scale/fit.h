#pragma once
// The `scale fit` job: measurements a user brings (a file of concurrency and
// throughput), the USL and Amdahl's law fitted to them, and a report.
//
// It computes nothing in parallel, so it takes no executor (job.h's shape
// without one). The first of the `scale` jobs; sweeps (`scale WORKLOAD`) and
// the chapters' tables (`scale tables`) will sit beside it.

#include <cstddef>
#include <string>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::scale {

/// Fewer distinct N than this is thin data: the job still fits, but says so
/// (a message, and thin_data in the report).
inline constexpr std::size_t min_distinct_for_model = 6;

struct fit_options {
  std::string file;  ///< CSV or JSON (input.h); "-": stdin
};

/// Read `o.file`, fit both models and return the report. The observer's
/// output() gets a text summary (parameters with confidence intervals, R²,
/// peak, Amdahl ceiling, a table of the points with their speedup,
/// efficiency and Karp–Flatt fraction).
///
/// Report fields: file, points_count, distinct_n, thin_data, usl_r2, models (usl and amdahl records:
/// lambda, sigma, kappa, each with _low/_high, r2, superlinear),
/// peak_concurrency and peak_throughput (null when there is no peak),
/// amdahl_ceiling (null when σ = 0), x1 and x1_source ("measured" or
/// "fitted"), and points (n, throughput, usl, amdahl, speedup, efficiency,
/// karp_flatt).
///
/// Errors: invalid_argument for unusable input (the message names FILE:LINE
/// where one line is at fault); io_error when the file cannot be read.
result<core::report> run_fit(const fit_options& o, core::observer& obs);

}  // namespace scalekit::scale
