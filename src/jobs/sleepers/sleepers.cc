#include "scalekit/jobs/sleepers/sleepers.h"

#include <fmt/format.h>

#include <random>
#include <stop_token>

#include "scalekit/jobs/coop/coop.h"
#include "scalekit/jobs/primes/primes.h"

namespace scalekit::jobs::sleepers {

namespace {

std::chrono::nanoseconds seconds(double s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
}

core::task<void> random_sleep(int counter, double delay, line_fn out) {
  out(fmt::format("{} sleeps for {:.2f} seconds", counter, delay));
  co_await core::sleep_for(seconds(delay));
  out(fmt::format("{} awakens", counter));
}

core::task<std::vector<std::uint64_t>> prime_filter(std::uint64_t m, std::uint64_t n, std::chrono::nanoseconds step,
                                                    line_fn out) {
  std::vector<std::uint64_t> found;
  for (std::uint64_t i = m; i <= n; ++i) {
    if (!primes::is_prime_fast(i)) continue;
    out(fmt::format("Prime=> {}", i));
    found.push_back(i);
    co_await core::sleep_for(step);  // suspend: the other coroutine runs
  }
  co_return found;
}

core::task<std::vector<std::uint64_t>> square_mapper(std::uint64_t m, std::uint64_t n, std::chrono::nanoseconds step,
                                                     line_fn out) {
  std::vector<std::uint64_t> squares;
  for (std::uint64_t i = m; i <= n; ++i) {
    out(fmt::format("Square=> {}", i * i));
    squares.push_back(i * i);
    co_await core::sleep_for(step);
  }
  co_return squares;
}

}  // namespace

std::string python_list(const std::vector<std::uint64_t>& v) { return fmt::format("[{}]", fmt::join(v, ", ")); }

std::string python_tuple(const std::vector<std::uint64_t>& v) {
  if (v.size() == 1) return fmt::format("({},)", v[0]);
  return fmt::format("({})", fmt::join(v, ", "));
}

core::task<void> five_sleepers(five_options o, line_fn out) {
  std::mt19937_64 rng(o.seed != 0 ? o.seed : std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const std::string how_many = o.tasks == 5 ? "five" : std::to_string(o.tasks);  // the seed says "five"
  out(fmt::format("Creating {} tasks", how_many));
  const auto ex = co_await core::this_executor();
  std::vector<core::task_handle> tasks;
  for (int i = 0; i < o.tasks; ++i) tasks.push_back(core::spawn(ex, random_sleep(i, unit(rng) * o.max_delay_s, out)));
  out(fmt::format("Sleeping after starting {} tasks", how_many));
  co_await core::sleep_for(seconds(o.main_sleep_s));
  out(fmt::format("Waking and waiting for {} tasks", how_many));
  for (auto& t : tasks) co_await t.join();
}

core::task<void> primes_and_squares(std::uint64_t m, std::uint64_t n, std::chrono::nanoseconds step, line_fn out) {
  using core::operator&&;
  auto [found, squares] = co_await (prime_filter(m, n, step, out) && square_mapper(m, n, step, out));
  out("Result=> [" + python_tuple(found) + ", " + python_list(squares) + "]");
}

std::optional<demo> parse_demo(std::string_view name) {
  if (name == "five") return demo::five;
  if (name == "tasks") return demo::tasks;
  if (name == "both") return demo::both;
  return std::nullopt;
}

std::string_view to_string(demo d) {
  switch (d) {
    case demo::five: return "five";
    case demo::tasks: return "tasks";
    case demo::both: return "both";
  }
  return "both";
}

namespace {

core::task<void> demos(const options& o, line_fn out) {
  if (o.which != demo::tasks) {
    co_await five_sleepers(o.five, out);
    out(o.five.tasks == 5 ? "Done five tasks" : fmt::format("Done {} tasks", o.five.tasks));
  }
  if (o.which != demo::five) co_await primes_and_squares(o.from, o.to, seconds(o.step_s), out);
}

}  // namespace

result<core::report> run(const options& o, core::observer& obs) {
  if (o.from > o.to) return status::invalid_argument("--from must not exceed --to");
  if (o.to > max_to) return status::invalid_argument(fmt::format("--to must be at most {}, not {}", max_to, o.to));
  const auto t0 = std::chrono::steady_clock::now();
  // run_until_complete's loop, with a way out: a stop request stops the loop
  // where it is, and the tasks left are destroyed with it.
  asio::io_context loop(1);
  bool finished = false;
  std::exception_ptr error;
  asio::co_spawn(loop, demos(o, [&obs](const std::string& line) { obs.output(line + "\n"); }),
                 [&](std::exception_ptr e) {
                   finished = true;
                   error = e;
                 });
  {
    const std::stop_callback stop_loop(obs.stop_token(), [&loop] { loop.stop(); });
    loop.run();
  }
  if (!finished) return status::cancelled("stopped");
  if (error) std::rethrow_exception(error);

  core::report r("sleepers");
  r.work = fmt::format("the event-loop demos ({})", to_string(o.which));
  r.elapsed = std::chrono::steady_clock::now() - t0;
  r.items = 1;
  r.unit = "runs";
  r.add("demo", std::string(to_string(o.which)), "");  // the head says it
  return r;
}

}  // namespace scalekit::jobs::sleepers
