// scalekit primes check | factor: the seed's prime checker and prime_factor.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "common.h"
#include "scalekit/jobs/primes/primes.h"

namespace scalekit::cli {

namespace {

namespace pr = jobs::primes;

struct primes_options {
  bool factor = false;
  std::vector<std::string> numbers;
  std::string file;
  bool seed_list = false;
  std::uint64_t random_count = 0, random_min = 100000, random_max = 50000000, random_seed = 0;
  std::string algorithm = "fast";
  std::size_t batch = 0;
  executor_flags exec;
};

// Gather the inputs in order: arguments, the file, the seed list, random numbers.
// Each bad one gets its own line on stderr and is counted.
std::vector<std::uint64_t> gather(const primes_options& o, const std::string& job, std::uint64_t& bad) {
  std::vector<std::uint64_t> out;
  auto take = [&](std::string_view token, const std::string& where) {
    auto v = pr::parse_number(token);
    if (v.ok()) {
      out.push_back(v.value());
    } else {
      print_error(job, fmt::format("{}: '{}': {}", where, token, v.error().message()));
      ++bad;
    }
  };
  for (std::size_t i = 0; i < o.numbers.size(); ++i) take(o.numbers[i], fmt::format("argument {}", i + 1));
  if (!o.file.empty()) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (o.file != "-") {
      file.open(o.file);
      if (!file) throw std::runtime_error(fmt::format("cannot read '{}'", o.file));
      in = &file;
    }
    std::string line;
    for (std::size_t lineno = 1; std::getline(*in, line); ++lineno) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines are not numbers, nor errors
      take(line, fmt::format("{}:{}", o.file == "-" ? "stdin" : o.file, lineno));
    }
  }
  if (o.seed_list) {
    const auto seed = pr::seed_list();
    out.insert(out.end(), seed.begin(), seed.end());
  }
  if (o.random_count > 0) {
    if (o.random_min > o.random_max) throw usage_error("--min must not exceed --max");
    std::mt19937_64 rng(o.random_seed);
    std::uniform_int_distribution<std::uint64_t> dist(o.random_min, o.random_max);
    for (std::uint64_t i = 0; i < o.random_count; ++i) out.push_back(dist(rng));
  }
  return out;
}

int run(const primes_options& o) {
  const std::string job = o.factor ? "primes factor" : "primes check";
  const pr::algorithm alg = *pr::parse_algorithm(o.algorithm);
  if (o.numbers.empty() && o.file.empty() && !o.seed_list && o.random_count == 0)
    throw usage_error(o.factor ? "give numbers, --file F or --random COUNT" : "give numbers, --file F or --seed-list");
  std::uint64_t bad = 0;
  const std::vector<std::uint64_t> numbers = gather(o, job, bad);

  auto ex = o.exec.make();
  const std::size_t per_task =
      o.batch != 0 ? o.batch : std::clamp<std::size_t>(numbers.size() / (ex->concurrency() * 32), 1, 4096);
  std::vector<core::bytes> payloads;
  for (std::size_t i = 0; i < numbers.size(); i += per_task)
    payloads.push_back(pr::encode_batch(alg, numbers.data() + i, std::min(per_task, numbers.size() - i)));

  progress_line progress(job);
  std::uint64_t done = 0, primes_found = 0, failed = 0;
  std::string out;
  const auto t0 = std::chrono::steady_clock::now();
  ex->map_streaming(o.factor ? pr::factor_task : pr::check_task, std::move(payloads),
                    [&](std::size_t b, result<core::bytes>& r) {
                      const std::size_t first = b * per_task, count = std::min(per_task, numbers.size() - first);
                      if (!r.ok()) {
                        print_error(job, r.error().message());
                        failed += count;
                        return;
                      }
                      out.clear();
                      if (o.factor) {
                        const auto factors = pr::decode_factors(r.value(), count);
                        for (std::size_t i = 0; i < count; ++i) {
                          out += pr::factor_line(numbers[first + i], factors[i]);
                          out += '\n';
                          primes_found += factors[i].size() == 1 && factors[i][0] > 1;
                        }
                      } else {
                        for (std::size_t i = 0; i < count; ++i) {
                          const bool prime = r.value()[i] != 0;
                          out += pr::check_line(numbers[first + i], prime);
                          out += '\n';
                          primes_found += prime;
                        }
                      }
                      if (!globals().json) std::fwrite(out.data(), 1, out.size(), stdout);
                      done += count;
                      progress.update(done, numbers.size(), "numbers");
                    });
  progress.finish();
  std::fflush(stdout);
  ex->close();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  const auto& st = ex->get_stats();
  print_summary(
      job, fmt::format("{} numbers, {} prime, {} bad inputs, {} failed", numbers.size(), primes_found, bad, failed),
      elapsed, static_cast<double>(numbers.size()), "numbers",
      fmt::format("{} -j {}, {} algorithm, {} tasks, {}", o.exec.executor, ex->concurrency(), o.algorithm,
                  st.completed.load(), st.latency_summary()));
  if (globals().json) {
    nlohmann::json j = {{"job", job},
                        {"numbers", numbers.size()},
                        {"prime", primes_found},
                        {"bad_inputs", bad},
                        {"failed", failed},
                        {"algorithm", o.algorithm},
                        {"executor", o.exec.executor},
                        {"jobs", ex->concurrency()},
                        {"elapsed_s", std::chrono::duration<double>(elapsed).count()}};
    std::printf("%s\n", j.dump().c_str());
  }
  return bad + failed > 0 ? exit_failed : exit_ok;
}

void add_common(CLI::App& cmd, primes_options& o) {
  cmd.add_option("numbers", o.numbers, "numbers (unsigned, up to 2^64-1)");
  cmd.add_option("--file", o.file, "read numbers from a file, one per line ('-': stdin)");
  cmd.add_option("--algorithm", o.algorithm,
                 "fast (Miller-Rabin / Pollard-Brent rho) or trial (the seed's trial division)")
      ->check(CLI::IsMember({"fast", "trial"}))
      ->capture_default_str();
  cmd.add_option("--batch", o.batch, "numbers per task (default: automatic)")->check(CLI::Range(1, 1 << 20));
  cmd.add_option("--random", o.random_count, "also COUNT random numbers in [--min, --max]")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{100'000'000}));
  cmd.add_option("--min", o.random_min, "smallest random number")->capture_default_str();
  cmd.add_option("--max", o.random_max, "largest random number")->capture_default_str();
  cmd.add_option("--seed", o.random_seed, "random seed")->capture_default_str();
  o.exec.add_to(cmd, "serial,threads,processes,openmp", "threads");
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto* primes = &command;
  primes->require_subcommand(1);

  auto check = std::make_shared<primes_options>();
  auto* c = primes->add_subcommand("check", "Print 'N is prime' or 'N is not prime' for each number, in input order");
  add_common(*c, *check);
  c->add_flag("--seed-list", check->seed_list, "the seed's 1000 numbers (ten large ones, 100 times)");
  c->callback([check] { run_job("primes check", [&] { return run(*check); }); });

  auto fac = std::make_shared<primes_options>();
  fac->factor = true;
  auto* f =
      primes->add_subcommand("factor", "Print 'The factors of N are [a, b, ...]' for each number, in input order");
  add_common(*f, *fac);
  f->callback([fac] { run_job("primes factor", [&] { return run(*fac); }); });
}

const command_registration registered{{"primes", add_command, jobs::primes::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
