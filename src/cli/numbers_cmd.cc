// scalekit numbers gen | sort: flags -> numbers::gen_options / sort_options -> the job.

#include <CLI/CLI.hpp>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"
#include "scalekit/jobs/numbers/numbers.h"

namespace scalekit::cli {

namespace {

namespace nb = jobs::numbers;

struct gen_flags {
  nb::gen_options job;
  executor_flags exec;
};

struct sort_flags {
  nb::sort_options job;
  std::string method = "counter";
  executor_flags exec;
};

void add_command(CLI::App& command) {
  auto* numbers = &command;
  numbers->require_subcommand(1);

  auto g = std::make_shared<gen_flags>();
  auto* gen = numbers->add_subcommand("gen", "Write DIR/numbers_<i>.txt, random integers in [1, max], one per line");
  gen->add_option("--dir", g->job.dir, "directory (created if missing)")->capture_default_str();
  gen->add_option("--files", g->job.files, "number of files")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  gen->add_option("--per-file", g->job.per_file, "numbers per file")
      ->check(CLI::Range(0u, 10'000'000u))
      ->capture_default_str();
  gen->add_option("--max", g->job.max, "largest value")->check(CLI::Range(1u, 4'000'000'000u))->capture_default_str();
  gen->add_option("--seed", g->job.seed, "random seed: the same seed writes the same files")->capture_default_str();
  gen->add_option("--files-per-task", g->job.files_per_task, "files per task (default: automatic)");
  g->exec.add_to(*gen, "serial,threads,processes,openmp", "threads");
  gen->callback([g] {
    run_job("numbers gen", [g](core::observer& obs) {
      auto ex = g->exec.make();
      return nb::generate(g->job, *ex, obs);
    });
  });

  auto s = std::make_shared<sort_flags>();
  auto* sort = numbers->add_subcommand("sort", "Merge DIR/numbers_<i>.txt into one file sorted like `sort -n`");
  sort->add_option("--dir", s->job.dir, "directory of the files")->capture_default_str();
  sort->add_option("--files", s->job.files, "number of files (numbers_0 .. numbers_<N-1>)")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  sort->add_option("-o,--output", s->job.output, "output file (written whole or not at all)")->capture_default_str();
  sort->add_option("--method", s->method, "counter (flat memory) or memory (load all, sort in parallel)")
      ->check(CLI::IsMember({"counter", "memory"}))
      ->capture_default_str();
  sort->add_option("--max", s->job.max, "largest value accepted (the counter's size)")
      ->check(CLI::Range(1u, 100'000'000u))
      ->capture_default_str();
  sort->add_option("--files-per-task", s->job.files_per_task, "files per task (default: automatic)");
  s->exec.add_to(*sort, "serial,threads,processes,openmp", "threads");
  sort->callback([s] {
    run_job("numbers sort", [s](core::observer& obs) {
      s->job.method = s->method == "memory" ? nb::sort_method::memory : nb::sort_method::counter;
      auto ex = s->exec.make();
      return nb::sort(s->job, *ex, obs);
    });
  });
}

const command_registration registered{{"numbers", add_command, jobs::numbers::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
