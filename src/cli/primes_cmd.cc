// scalekit primes check | factor: flags -> primes::options -> the job.

#include <CLI/CLI.hpp>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"
#include "scalekit/jobs/primes/primes.h"

namespace scalekit::cli {

namespace {

namespace pr = jobs::primes;

struct primes_flags {
  pr::options job;
  std::string algorithm = "fast";
  executor_flags exec;
};

void add_common(CLI::App& cmd, primes_flags& f) {
  cmd.add_option("numbers", f.job.numbers, "numbers (unsigned, up to 2^64-1)");
  cmd.add_option("--file", f.job.file, "read numbers from a file, one per line ('-': stdin)");
  cmd.add_option("--algorithm", f.algorithm,
                 "fast (Miller-Rabin / Pollard-Brent rho) or trial (the seed's trial division)")
      ->check(CLI::IsMember({"fast", "trial"}))
      ->capture_default_str();
  cmd.add_option("--batch", f.job.batch, "numbers per task (default: automatic)")->check(CLI::Range(1, 1 << 20));
  cmd.add_option("--random", f.job.random_count, "also COUNT random numbers in [--min, --max]")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{100'000'000}));
  cmd.add_option("--min", f.job.random_min, "smallest random number")->capture_default_str();
  cmd.add_option("--max", f.job.random_max, "largest random number")->capture_default_str();
  cmd.add_option("--seed", f.job.random_seed, "random seed")->capture_default_str();
  // distributed: scalekit.run tasks, on scalekit workers (the seed has no Celery task for primes).
  f.exec.add_to(cmd, "serial,threads,processes,openmp,distributed", "threads", false);
}

using entry = result<core::report> (*)(const pr::options&, core::executor&, core::observer&);

// The subcommand's callback: its job's name, its entry and its flags.
void run(const char* job, entry e, primes_flags& f) {
  run_job(job, [&f, e](core::observer& obs) {
    f.job.alg = *pr::parse_algorithm(f.algorithm);
    auto ex = f.exec.make();
    return e(f.job, *ex, obs);
  });
}

void add_command(CLI::App& command) {
  auto* primes = &command;
  primes->require_subcommand(1);

  auto check = std::make_shared<primes_flags>();
  auto* c = primes->add_subcommand("check", "Print 'N is prime' or 'N is not prime' for each number, in input order");
  add_common(*c, *check);
  c->add_flag("--seed-list", check->job.seed_list, "the seed's 1000 numbers (ten large ones, 100 times)");
  c->callback([check] { run("primes check", pr::check, *check); });

  auto fac = std::make_shared<primes_flags>();
  auto* f =
      primes->add_subcommand("factor", "Print 'The factors of N are [a, b, ...]' for each number, in input order");
  add_common(*f, *fac);
  f->callback([fac] { run("primes factor", pr::factor, *fac); });
}

const command_registration registered{{"primes", add_command, pr::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
