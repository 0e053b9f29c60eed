// The `scale tables` job (tables.h): each chapter table's runs, measured one
// at a time as sweep points (point_runner.h), with the seed's Python beside
// them on request, then laid out with the chapter's rows and columns
// (chapter_tables.h).

#include "scalekit/scale/tables.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "chapter_tables.h"
#include "point_runner.h"
#include "scalekit/core/atomic_file.h"
#include "scalekit/core/input_file.h"
#include "scalekit/scale/machine.h"
#include "scratch_dir.h"
#include "table_runs.h"
#include "workloads.h"

#ifndef SCALEKIT_SEED_DIR
#define SCALEKIT_SEED_DIR ""
#endif

namespace scalekit::scale {

namespace {

namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;
using core::executor_kind;

std::string kind_name(executor_kind k) { return std::string(core::to_string(k)); }

std::string_view size_name(table_size s) {
  return s == table_size::quick ? "quick" : s == table_size::full ? "full" : "normal";
}

// What one table's runs measured: per run, scalekit's sample, the files it
// wrote and the seed's outcome.
struct table_measures {
  std::vector<point_sample> samples;
  std::vector<double> files;
  std::vector<seed_outcome> seeds;
};

// The regular files in `dir` (none when it is missing).
double files_in(const std::string& dir) {
  std::error_code ec;
  double n = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) ++n;
  return n;
}

std::vector<std::vector<cell_figures>> figures_of(const chapter_table& t, const table_measures& m) {
  std::vector<std::vector<cell_figures>> out;
  for (const auto& row : t.rows) {
    auto& line = out.emplace_back();
    for (const auto& cell : row.cells) {
      const auto& s = m.samples.at(cell.run);
      const auto& seed = m.seeds.at(cell.run);
      switch (cell.metric) {
        case table_metric::wall_s: line.push_back({s.wall_s, seed.wall_s, seed.text}); break;
        case table_metric::user_s: line.push_back({s.user_s, seed.user_s, seed.text}); break;
        case table_metric::files: line.push_back({m.files.at(cell.run), std::nan(""), seed.text}); break;
      }
    }
  }
  return out;
}

std::string metric_name(table_metric m) {
  switch (m) {
    case table_metric::wall_s: return "wall_s";
    case table_metric::user_s: return "user_s";
    case table_metric::files: return "files";
  }
  return "";
}

core::report_record table_record(const chapter_table& t, table_size size, const table_measures& m) {
  const auto figures = figures_of(t, m);
  std::vector<core::report_record> columns, rows;
  for (const auto c : t.label_columns) columns.push_back({{"name", std::string(c), ""}, {"kind", "label", ""}});
  for (const auto c : t.value_columns) columns.push_back({{"name", std::string(c), ""}, {"kind", "value", ""}});
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    std::vector<core::report_record> labels, cells;
    for (std::size_t i = 0; i < row.labels.size(); ++i)
      labels.push_back({{"column", std::string(t.label_columns[i]), ""}, {"value", std::string(row.labels[i]), ""}});
    for (std::size_t c = 0; c < row.cells.size(); ++c) {
      const auto& cell = row.cells[c];
      const auto& run = t.runs[cell.run];
      const auto& f = figures[r][c];
      cells.push_back({{"column", std::string(t.value_columns[c]), ""},
                       {"metric", metric_name(cell.metric), ""},
                       {"chapter_s", cell.chapter, ""},
                       {"chapter_text", std::string(cell.chapter_text), ""},
                       {"scalekit_s", f.scalekit, ""},
                       {"seed_s", f.seed, ""},
                       {"seed_text", f.seed_text, ""},
                       {"executor", kind_name(run.executor), ""},
                       {"workers", static_cast<std::uint64_t>(run.workers), ""}});
    }
    rows.push_back(
        {{"labels", std::move(labels), ""}, {"run_at", row_size(t, row, size), ""}, {"cells", std::move(cells), ""}});
  }
  return {{"id", std::string(t.id), ""},
          {"title", std::string(t.title), ""},
          {"source", std::string(t.source), ""},
          {"note", std::string(t.note), ""},
          {"size_name", std::string(t.size_name), ""},
          {"columns", std::move(columns), ""},
          {"rows", std::move(rows), ""}};
}

}  // namespace

std::string chapter_table_ids() {
  std::string out;
  for (const auto& t : chapter_tables()) out += (out.empty() ? "" : ", ") + std::string(t.id);
  return out;
}

result<core::report> run_tables(const tables_options& o, core::observer& obs) {
  const auto start = clock::now();
  std::vector<const chapter_table*> chosen;
  for (const auto& id : o.only) {
    const auto& all = chapter_tables();
    const auto it = std::find_if(all.begin(), all.end(), [&](const chapter_table& t) { return t.id == id; });
    if (it == all.end())
      return status::invalid_argument(fmt::format("'{}' is not a chapter table ({})", id, chapter_table_ids()));
    if (std::find(chosen.begin(), chosen.end(), &*it) == chosen.end()) chosen.push_back(&*it);
  }
  if (o.only.empty())
    for (const auto& t : chapter_tables()) chosen.push_back(&t);
  if (!(o.seed_timeout_s >= 1 && o.seed_timeout_s <= 3600))
    return status::invalid_argument(fmt::format("--seed-timeout {} is outside 1..3600 s", o.seed_timeout_s));
  const std::string seed_dir = o.seed_dir.empty() ? std::string(SCALEKIT_SEED_DIR) : o.seed_dir;
  if (o.with_seed && ::access(o.python.c_str(), X_OK) != 0)
    return status::invalid_argument(fmt::format("--with-seed: cannot run '{}'", o.python));

  scratch_dir scratch;
  if (scratch.path().empty()) return status::io_error("cannot make a scratch directory in $TMPDIR or /tmp");
  const auto machine = describe_machine();
  const auto si = static_cast<std::size_t>(o.size);
  std::size_t total = 0, done = 0;
  for (const auto* t : chosen) total += t->runs.size();
  std::map<std::string, std::string> inputs;  // input_key -> its directory, made once
  table_services sv;
  sv.dir = scratch.path();
  const auto load = sample_load(std::chrono::milliseconds(500));  // others' load, while this does nothing
  const bool busy = load.busy_cores > idle_busy_cores;
  const std::string head = fmt::format(
      "scale tables ({} sizes): the chapters' timings beside scalekit's{} on {}, {} cores\n"
      "load: {:.2f} busy cores before the runs (load average {:.2f}){}\n",
      size_name(o.size), o.with_seed ? " and the seed's Python" : "",
      machine.cpu_model.empty() ? "an unknown CPU" : machine.cpu_model, machine.cores, load.busy_cores, load.load1,
      busy ? ": scalekit's figures are slower than an idle machine's" : "");
  if (busy)
    obs.message(fmt::format("warning: the machine is busy: {:.2f} cores in use by other programs (load average {:.2f})",
                            load.busy_cores, load.load1));
  std::string text = head;
  obs.output(text);
  std::vector<core::report_record> records;
  std::vector<measured_table> measured;
  for (const auto* t : chosen) {
    table_measures m;
    for (const auto& run : t->runs) {
      const std::uint64_t size = run.size[si];
      const std::string key = input_key(run, size);
      auto [it, fresh] = inputs.try_emplace(key, scratch.path() + "/" + key);
      const std::string& dir = it->second;
      if (fresh) {
        if (auto st = core::make_output_dir(dir); !st.ok()) return st;
        if (auto st = prepare_input(run, size, dir); !st.ok()) return st;
      }
      const auto progress = [&] {
        obs.progress(done, total, fmt::format("runs ({})", t->id));
        return obs.stop_requested();
      };
      if (progress()) return status::cancelled("the tables were stopped");
      const sweep_point p{.executor = run.executor, .workers = run.workers, .size = size};
      if (run.job == table_job::thumbnail_urls || run.job == table_job::thumbnail_limit)
        if (auto st = sv.need_images(); !st.ok()) return st;
      if (run.executor == executor_kind::distributed)
        if (auto st = sv.need_fleet(); !st.ok()) return st;
      auto s = measure_point(workload_of(run, sv), p, dir, progress);
      if (!s.ok()) {
        if (s.error().code() != status_code::cancelled)
          obs.message(fmt::format("{}: {} -j {} at {} {}: the run failed", t->id, kind_name(run.executor), run.workers,
                                  t->size_name, size));
        return s.error();
      }
      m.samples.push_back(std::move(*s));
      m.files.push_back(files_in(dir + "/thumbs"));
      m.seeds.push_back(o.with_seed ? run_seed(o, seed_dir, run, size, dir, obs) : seed_outcome{.text = "-"});
      if (obs.stop_requested()) return status::cancelled("the tables were stopped");
      ++done;
    }
    measured.push_back({t, figures_of(*t, m)});
    const std::string block = fmt::format("\n{}: {}\n  {}\n  {}\n", t->id, t->title, t->source, t->note) +
                              grid_text(table_grid(*t, o.size, measured.back().figures, o.with_seed));
    obs.output(block);
    text += block;
    records.push_back(table_record(*t, o.size, m));
  }
  obs.progress(total, total, "runs");

  core::report rep("scale tables");
  rep.work = fmt::format("{} tables, {} runs", chosen.size(), total);
  rep.items = static_cast<double>(total);
  rep.unit = "runs";
  rep.add("size", std::string(size_name(o.size)), "{} sizes");
  rep.add("with_seed", o.with_seed, o.with_seed ? "with the seed's Python" : "");
  rep.add("cpu_model", machine.cpu_model, "");
  rep.add("cores", static_cast<std::uint64_t>(machine.cores), "");
  rep.add("busy_cores_before", load.busy_cores, "");
  rep.add("load1_before", load.load1, "");
  rep.add("tables", std::move(records), "");
  if (!o.report_dir.empty()) rep.add("report_dir", o.report_dir, "report in {}");
  rep.elapsed = clock::now() - start;
  if (!o.report_dir.empty()) {
    if (auto st = core::make_output_dir(o.report_dir); !st.ok()) return st;
    if (auto st = core::atomic_file::write_whole(o.report_dir + "/tables.json", rep.to_json() + "\n"); !st.ok())
      return st;
    if (auto st = core::atomic_file::write_whole(o.report_dir + "/tables.txt", text); !st.ok()) return st;
    const std::string about = head.substr(0, head.size() - 1) + fmt::format(", {}, {}", machine.kernel, machine.build);
    if (auto st = core::atomic_file::write_whole(o.report_dir + "/tables.html",
                                                 tables_html(measured, o.size, o.with_seed, about));
        !st.ok())
      return st;
  }
  return rep;
}

}  // namespace scalekit::scale
