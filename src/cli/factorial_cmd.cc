// scalekit factorial: flags -> factorial::options -> the job.

#include <CLI/CLI.hpp>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"
#include "scalekit/jobs/factorial/factorial.h"

namespace scalekit::cli {

namespace {

namespace fa = jobs::factorial;

struct factorial_flags {
  std::vector<std::uint64_t> range;  // FROM TO
  executor_flags exec;
};

result<core::report> run(const factorial_flags& f, core::observer& obs) {
  if (f.range.size() == 1) throw usage_error("give both FROM and TO, or neither");
  fa::options o;
  if (f.range.size() == 2) {
    o.from = f.range[0];
    o.to = f.range[1];
  }
  auto ex = f.exec.make();
  return fa::run(o, *ex, obs);
}

void add_command(CLI::App& command) {
  auto f = std::make_shared<factorial_flags>();
  auto* cmd = &command;
  cmd->add_option("range", f->range, "FROM TO")->expected(0, 2);
  f->exec.add_to(*cmd, "serial,threads,processes,openmp", "threads");
  cmd->callback([f] { run_job("factorial", [f](core::observer& obs) { return run(*f, obs); }); });
}

const command_registration registered{{"factorial", add_command, fa::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
