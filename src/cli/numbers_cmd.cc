// scalekit numbers gen | sort: the seed's disk-file sorting programs.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.h"
#include "scalekit/jobs/numbers/numbers.h"

namespace scalekit::cli {

namespace {

namespace nb = jobs::numbers;

struct gen_cli {
  nb::gen_options o;
  executor_flags exec;
};

struct sort_cli {
  nb::sort_options o;
  std::string method = "counter";
  executor_flags exec;
};

// Bad inputs: one line each (the first ones), then how many in all.
void report_bad(const std::string& job, const nb::run_report& r) {
  for (const auto& m : r.messages) print_error(job, m);
  if (r.bad > r.messages.size()) print_error(job, fmt::format("... and {} more bad inputs", r.bad - r.messages.size()));
}

void print_json(const std::string& job, const nb::run_report& r, const executor_flags& exec, double secs,
                const std::string& extra_key, const std::string& extra) {
  if (!globals().json) return;
  nlohmann::json j = {
      {"job", job},          {"files", r.files},          {"numbers", r.numbers},          {"bytes", r.bytes},
      {"bad_inputs", r.bad}, {"executor", exec.executor}, {"jobs", exec.effective_jobs()}, {"elapsed_s", secs},
      {extra_key, extra}};
  std::printf("%s\n", j.dump().c_str());
}

int run_gen(const gen_cli& g) {
  if (g.o.files == 0) throw usage_error("--files must be at least 1");
  auto ex = g.exec.make();
  progress_line progress("numbers gen");
  const auto t0 = std::chrono::steady_clock::now();
  auto r =
      nb::generate(g.o, *ex, [&](std::uint64_t done, std::uint64_t total) { progress.update(done, total, "files"); });
  progress.finish();
  if (!r.ok()) throw std::runtime_error(r.error().message());
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  report_bad("numbers gen", r.value());
  print_summary("numbers gen",
                fmt::format("{} files, {} numbers, {} bytes in {}/, {} failed", r->files, r->numbers, r->bytes, g.o.dir,
                            r->bad),
                elapsed, static_cast<double>(r->files), "files",
                fmt::format("{} -j {}, {}", g.exec.executor, ex->concurrency(), ex->get_stats().latency_summary()));
  print_json("numbers gen", r.value(), g.exec, std::chrono::duration<double>(elapsed).count(), "dir", g.o.dir);
  return r->bad > 0 ? exit_failed : exit_ok;
}

int run_sort(sort_cli& s) {
  if (s.o.files == 0) throw usage_error("--files must be at least 1");
  s.o.method = s.method == "memory" ? nb::sort_method::memory : nb::sort_method::counter;
  auto ex = s.exec.make();
  progress_line progress("numbers sort");
  const auto t0 = std::chrono::steady_clock::now();
  auto r = nb::sort(s.o, *ex, [&](std::uint64_t done, std::uint64_t total) { progress.update(done, total, "files"); });
  progress.finish();
  if (!r.ok()) throw std::runtime_error(r.error().message());
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  report_bad("numbers sort", r.value());
  const std::string where = r->bad > 0 ? fmt::format("nothing written to {}", s.o.output) : s.o.output;
  print_summary("numbers sort",
                fmt::format("{} files, {} numbers -> {}, {} bad inputs", r->files, r->numbers, where, r->bad), elapsed,
                static_cast<double>(r->numbers), "numbers",
                fmt::format("{} method, {} -j {}, {}", s.method, s.exec.executor, ex->concurrency(),
                            ex->get_stats().latency_summary()));
  print_json("numbers sort", r.value(), s.exec, std::chrono::duration<double>(elapsed).count(), "output", s.o.output);
  return r->bad > 0 ? exit_failed : exit_ok;
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto* numbers = &command;
  numbers->require_subcommand(1);

  auto g = std::make_shared<gen_cli>();
  auto* gen = numbers->add_subcommand("gen", "Write DIR/numbers_<i>.txt, random integers in [1, max], one per line");
  gen->add_option("--dir", g->o.dir, "directory (created if missing)")->capture_default_str();
  gen->add_option("--files", g->o.files, "number of files")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  gen->add_option("--per-file", g->o.per_file, "numbers per file")
      ->check(CLI::Range(0u, 10'000'000u))
      ->capture_default_str();
  gen->add_option("--max", g->o.max, "largest value")->check(CLI::Range(1u, 4'000'000'000u))->capture_default_str();
  gen->add_option("--seed", g->o.seed, "random seed: the same seed writes the same files")->capture_default_str();
  gen->add_option("--files-per-task", g->o.files_per_task, "files per task (default: automatic)");
  g->exec.add_to(*gen, "serial,threads,processes,openmp", "threads");
  gen->callback([g] { run_job("numbers gen", [&] { return run_gen(*g); }); });

  auto s = std::make_shared<sort_cli>();
  auto* sort = numbers->add_subcommand("sort", "Merge DIR/numbers_<i>.txt into one file sorted like `sort -n`");
  sort->add_option("--dir", s->o.dir, "directory of the files")->capture_default_str();
  sort->add_option("--files", s->o.files, "number of files (numbers_0 .. numbers_<N-1>)")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  sort->add_option("-o,--output", s->o.output, "output file (written whole or not at all)")->capture_default_str();
  sort->add_option("--method", s->method, "counter (flat memory) or memory (load all, sort in parallel)")
      ->check(CLI::IsMember({"counter", "memory"}))
      ->capture_default_str();
  sort->add_option("--max", s->o.max, "largest value accepted (the counter's size)")
      ->check(CLI::Range(1u, 100'000'000u))
      ->capture_default_str();
  sort->add_option("--files-per-task", s->o.files_per_task, "files per task (default: automatic)");
  s->exec.add_to(*sort, "serial,threads,processes,openmp", "threads");
  sort->callback([s] { run_job("numbers sort", [&] { return run_sort(*s); }); });
}

const command_registration registered{{"numbers", add_command, jobs::numbers::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
