#pragma once
// The chapters' timing tables (`scalekit scale tables`): the figures the two
// seed chapters print, typed in once with where they are printed, the runs
// that measure scalekit's figures beside them (and the seed's Python, where a
// seed program exists), and the layout that puts the three side by side with
// the chapter's rows and columns.
//
// Everything here is data and pure functions; tables.cc runs the runs.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/scale/tables.h"

namespace scalekit::scale {

/// What a run measures: the jobs of scalekit the tables use.
enum class table_job {
  sort_memory,      ///< numbers sort --method memory of `size` files of 100 numbers
  sort_counter,     ///< numbers sort --method counter of `size` files
  primes,           ///< primes check --algorithm trial of the seed's ten numbers, `size` times over
  mandelbrot,       ///< the seed's image, `size` pixels wide, 3/4 as high, n = param
  burn,             ///< the MuchCPU busy loop, `size` iterations per worker
  rle_image,        ///< rle compress of one 1-bit BMP `size` wide, 7/9 as high (the chapter's 7200 x 5600)
  rle_dir,          ///< rle compress-dir of 8 such BMPs; param: the image executor (0 threads, 1 processes)
  thumbnail_urls,   ///< thumbnail of the chapter's `size` dummyimage URLs, served by `dummyimage serve`
  thumbnail_limit,  ///< thumbnail --random-urls --limit `size`; param: the limiter (0 lock, 1 semaphore)
};

/// One measured run.
struct table_run {
  table_job job = table_job::burn;
  core::executor_kind executor = core::executor_kind::serial;
  std::size_t workers = 1;
  std::array<std::uint64_t, 3> size{};  ///< per table_size
  std::uint64_t param = 0;              ///< see table_job
  /// The seed's program for the same run, run by /usr/bin/python3 in the
  /// run's input directory: its file in the seed directory, then its
  /// arguments, "{size}" standing for the size and "{in}" for the input
  /// image. Empty: the chapter's program is not among the seed programs.
  std::vector<std::string_view> seed{};
  /// The seed program only takes the chapter's size (its input is fixed in
  /// the program): it runs only when the run's size is the chapter's.
  std::uint64_t seed_only_at = 0;
};

/// What a cell reports of its run.
enum class table_metric {
  wall_s,  ///< the job's wall time
  user_s,  ///< user CPU of the run's processes
  files,   ///< the files the run wrote (thumbnails saved)
};

/// One figure of the chapter's table, with scalekit's and the seed's beside it.
struct table_cell {
  std::size_t run = 0;  ///< index in the table's runs
  table_metric metric = table_metric::wall_s;
  double chapter = std::numeric_limits<double>::quiet_NaN();  ///< NaN: not printed
  std::string_view chapter_text{};                            ///< how the chapter prints it, when not a number
};

struct table_row {
  std::vector<std::string_view> labels{};  ///< one per label column
  std::vector<table_cell> cells{};         ///< one per value column
};

struct chapter_table {
  std::string_view id;         ///< "sort-memory"
  std::string_view title;      ///< what the table times
  std::string_view source;     ///< the chapter and place that prints it
  std::string_view size_name;  ///< what a run's size counts ("files")
  std::vector<std::string_view> label_columns{};
  std::vector<std::string_view> value_columns{};
  std::vector<table_run> runs{};
  std::vector<table_row> rows{};
  std::string_view note{};      ///< what differs from the chapter's setting
  std::string_view unit = "s";  ///< of the figures, in the header ("chapter s"); empty: a count
};

/// Every table, in the chapters' order.
const std::vector<chapter_table>& chapter_tables();

/// The figures of one cell after the runs. NaN: not measured.
struct cell_figures {
  double scalekit = std::numeric_limits<double>::quiet_NaN();
  double seed = std::numeric_limits<double>::quiet_NaN();
  std::string seed_text{};  ///< instead of a seed figure: "-", "> 60 s", "only at 1000"
};

/// A table as a grid of text: a header row, then one row per chapter row.
/// Columns: the label columns, "run at (<size_name>)", then per value column
/// "<column>: chapter s", "scalekit s" and, with `with_seed`, "seed py s"
/// (" s" being the table's unit).
/// `figures[r][c]` is row r's cell c (REQUIRES the table's shape).
std::vector<std::vector<std::string>> table_grid(const chapter_table& t, table_size size,
                                                 const std::vector<std::vector<cell_figures>>& figures, bool with_seed);

/// The grid as aligned text, columns two spaces apart, one line per row.
std::string grid_text(const std::vector<std::vector<std::string>>& grid);

/// A figure as the tables print it: three significant digits ("0.0123",
/// "17.4", "359"); "-" for NaN.
std::string figure_text(double seconds);

/// One table after its runs: figures[r][c] is row r's cell c.
struct measured_table {
  const chapter_table* table = nullptr;
  std::vector<std::vector<cell_figures>> figures{};
};

/// tables.html: one self-contained page (inline CSS, the style of the sweep's
/// report.html, no script, nothing fetched) with a <table id="<id>"> per
/// table laid out as table_grid. Every figure's cell carries its exact value
/// in data-value ("NaN" when absent) and its source in class: "chapter",
/// "scalekit" or "seed". `about` is a paragraph under the title.
std::string tables_html(const std::vector<measured_table>& tables, table_size size, bool with_seed,
                        const std::string& about);

/// The size a row runs at: its first cell's run's.
std::uint64_t row_size(const chapter_table& t, const table_row& r, table_size size);

}  // namespace scalekit::scale
