#pragma once
// The `scale tables` job: every timing table of the two seed chapters
// regenerated with the chapter's rows and columns, scalekit's figures beside
// the chapter's and, on request, the seed's Python beside both. Each of
// scalekit's figures is one run of a sweep point (point_runner: a child
// process per run, the job called through its library entry).

#include <string>
#include <vector>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::scale {

/// How much work the runs do: seconds in all (CI), a few minutes on a
/// 2-core machine, or the chapters' own sizes (hours, and a million files).
enum class table_size { quick, normal, full };

struct tables_options {
  table_size size = table_size::normal;
  std::vector<std::string> only;  ///< table ids (chapter_table_ids()); empty: every table
  /// Also run the seed's Python programs (those the seed directory has), each
  /// stopped after seed_timeout_s and then shown as "> N s".
  bool with_seed = false;
  std::string seed_dir;  ///< the seed programs; empty: the source tree's tests/fixtures/seed
  std::string python = "/usr/bin/python3";
  double seed_timeout_s = 60;
  /// Write DIR/tables.json (the report), DIR/tables.txt (the terminal
  /// tables) and DIR/tables.html (the tables as a self-contained page), each
  /// whole or not at all; empty: no files.
  std::string report_dir;
};

/// "sort-memory, sort-counter, ...".
std::string chapter_table_ids();

/// Run every table's runs in order and print each table as it completes
/// (obs.output()); progress in runs.
///
/// Report fields: size, with_seed, cpu_model, cores, busy_cores_before,
/// load1_before (others' load, sampled for half a second first: a warning
/// above machine.h's idle_busy_cores), tables (id, title,
/// source, note, size_name, columns (name, kind "label" or "value"), rows
/// (labels, run_at, cells (column, metric, chapter_s, chapter_text,
/// scalekit_s, seed_s, seed_text, executor, workers))).
///
/// Errors: invalid_argument for an unknown table id or a seed timeout outside
/// 1..3600 s; cancelled after a stop request; a run's error when it fails
/// (a seed program that fails is a message and a "failed" cell, not an
/// error); io_error when the report files cannot be written.
result<core::report> run_tables(const tables_options& o, core::observer& obs);

}  // namespace scalekit::scale
