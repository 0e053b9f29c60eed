// primes::check and primes::factor: the job's entries, from the inputs the
// caller asked for to output lines in input order and a report.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>

#include "batch.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/input_file.h"
#include "scalekit/core/line_reader.h"
#include "scalekit/jobs/primes/primes.h"

namespace scalekit::jobs::primes {

namespace {

enum class mode { check, factor };

// How often the loops that do not go through the executor look at the stop
// token: often enough to stop within a millisecond or so.
constexpr std::uint64_t stop_check_every = 1 << 16;

// The longest line of a number file: far more than a number with blanks
// around it; a longer line is an error that ends the reading.
constexpr std::size_t max_line = 4096;

// Bad inputs shown as messages; all are counted.
constexpr std::uint64_t max_messages = 20;

// The numbers in input order: the numbers as text, the file's, the seed
// list's (gathered first: bad ones are messages before any output), then the
// random ones, drawn as they are needed, so that a hundred million of them
// never sit in memory at once.
class number_source {
 public:
  // Gathers the numbers as text, the file and the seed list; each bad one is a
  // message and a count. io_error when the file cannot be read; cancelled
  // after a stop request.
  static result<number_source> open(const options& o, core::observer& obs) {
    number_source src(o);
    auto take = [&](std::string_view token, const std::string& where) {
      auto v = parse_number(token);
      if (v.ok()) {
        src.gathered_.push_back(v.value());
      } else {
        // The first ones are shown, every one is counted: a file of garbage
        // is not a million lines of stderr.
        if (src.bad_ < max_messages)
          obs.message(fmt::format("{}: '{}': {}", where, core::printable(token), v.error().message()));
        ++src.bad_;
      }
    };
    for (std::size_t i = 0; i < o.numbers.size(); ++i) take(o.numbers[i], fmt::format("argument {}", i + 1));
    if (!o.file.empty()) {
      // Each line at most a line_reader's bound: a number is at most 20
      // digits, and /dev/zero or a file without newlines must not fill memory.
      std::optional<core::input_file> file;
      if (o.file != "-") {
        auto opened = core::open_input(o.file);  // a FIFO, a device or a directory is refused here
        if (!opened.ok()) return opened.error();
        file.emplace(std::move(opened).value());
      }
      core::line_reader in(file ? file->fd() : 0, file ? o.file : "stdin", max_line);
      std::string line;
      for (;;) {
        auto more = in.next(line);
        if (!more.ok()) return more.error();  // a read error is not the end of the input
        if (!*more) break;
        const std::uint64_t lineno = in.line_number();
        if (lineno % stop_check_every == 0 && obs.stop_requested()) return status::cancelled("stopped");
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines are not numbers, nor errors
        take(line, fmt::format("{}:{}", in.name(), lineno));
      }
    }
    if (src.bad_ > max_messages) obs.message(fmt::format("... and {} more bad inputs", src.bad_ - max_messages));
    if (o.seed_list) {
      const auto seed = seed_list();
      src.gathered_.insert(src.gathered_.end(), seed.begin(), seed.end());
    }
    return src;
  }

  // Good numbers in all.
  [[nodiscard]] std::uint64_t size() const noexcept { return gathered_.size() + random_count_; }
  [[nodiscard]] std::uint64_t bad() const noexcept { return bad_; }

  // Replace `out` with the next `n` numbers (n <= what is left). False when a
  // stop was requested meanwhile.
  bool next(std::size_t n, std::vector<std::uint64_t>& out, const core::observer& obs) {
    out.clear();
    const std::size_t from_gathered = std::min<std::size_t>(n, gathered_.size() - taken_);
    out.insert(out.end(), gathered_.begin() + static_cast<std::ptrdiff_t>(taken_),
               gathered_.begin() + static_cast<std::ptrdiff_t>(taken_ + from_gathered));
    taken_ += from_gathered;
    for (std::size_t i = from_gathered; i < n; ++i) {
      if (i % stop_check_every == 0 && obs.stop_requested()) return false;
      out.push_back(dist_(rng_));
    }
    return true;
  }

 private:
  explicit number_source(const options& o)
      : random_count_(o.random_count), rng_(o.random_seed), dist_(o.random_min, o.random_max) {}

  std::vector<std::uint64_t> gathered_;
  std::size_t taken_ = 0;
  std::uint64_t bad_ = 0;
  std::uint64_t random_count_;
  std::mt19937_64 rng_;
  std::uniform_int_distribution<std::uint64_t> dist_;
};

result<core::report> run(mode m, const options& o, core::executor& ex, core::observer& obs) {
  if (o.numbers.empty() && o.file.empty() && !o.seed_list && o.random_count == 0)
    return status::invalid_argument(m == mode::factor ? "give numbers, --file F or --random COUNT"
                                                      : "give numbers, --file F or --seed-list");
  if (o.random_count > 0 && o.random_min > o.random_max) return status::invalid_argument("--min must not exceed --max");
  auto source = number_source::open(o, obs);
  if (!source.ok()) return source.error();
  const std::uint64_t total = source->size();

  // About 32 batches per worker balance the load; 4096 numbers keep a batch's
  // payload and its wait for the finished prefix small.
  const std::size_t per_task =
      o.batch != 0 ? o.batch
                   : static_cast<std::size_t>(std::clamp<std::uint64_t>(total / (ex.concurrency() * 32), 1, 4096));
  // The batches go to the executor a window at a time: in memory are one
  // window's numbers and payloads, and after a stop request at most one
  // window's calls are left to complete as cancelled. A window is 256 batches
  // per worker: the pause at its end, while its last batches finish, is a
  // small share of its run.
  const std::size_t window = ex.concurrency() * 256 * per_task;

  const core::cancel_on_stop stop_guard(ex, obs);
  std::uint64_t done = 0, primes_found = 0, failed = 0;
  std::chrono::nanoseconds elapsed{0};  // in the executor: the numbers' drawing is not the work measured
  std::vector<std::uint64_t> numbers;
  std::string out;
  while (done + failed < total && !obs.stop_requested()) {
    if (!source->next(static_cast<std::size_t>(std::min<std::uint64_t>(window, total - done - failed)), numbers, obs))
      break;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<core::bytes> payloads;
    for (std::size_t first = 0; first < numbers.size(); first += per_task)
      payloads.push_back(encode_batch(o.alg, numbers.data() + first, std::min(per_task, numbers.size() - first)));
    ex.map_streaming(
        m == mode::factor ? factor_task : check_task, std::move(payloads), [&](std::size_t b, result<core::bytes>& r) {
          const std::size_t first = b * per_task, count = std::min(per_task, numbers.size() - first);
          auto fail = [&](const std::string& why) {
            // After a stop request the calls left are cancelled: not worth a line each.
            if (!obs.stop_requested()) obs.message(why);
            failed += count;
          };
          if (!r.ok()) return fail(r.error().message());
          out.clear();
          if (m == mode::factor) {
            std::vector<std::vector<std::uint64_t>> factors;
            try {
              factors = decode_factors(r.value(), count);
            } catch (const std::exception& e) {
              return fail(fmt::format("{}: {}", factor_task, e.what()));
            }
            for (std::size_t i = 0; i < count; ++i) {
              out += factor_line(numbers[first + i], factors[i]);
              out += '\n';
              primes_found += factors[i].size() == 1 && factors[i][0] > 1;
            }
          } else {
            if (r.value().size() != count)
              return fail(fmt::format("{}: {} results for {} numbers", check_task, r.value().size(), count));
            for (std::size_t i = 0; i < count; ++i) {
              const bool prime = r.value()[i] != 0;
              out += check_line(numbers[first + i], prime);
              out += '\n';
              primes_found += prime;
            }
          }
          obs.output(out);
          done += count;
          obs.progress(done, total, "numbers");
        });
    elapsed += std::chrono::steady_clock::now() - t0;
  }
  if (obs.stop_requested()) return status::cancelled("stopped");

  core::report r(m == mode::factor ? "primes factor" : "primes check");
  r.work = fmt::format("{} numbers", total);
  r.elapsed = elapsed;
  r.items = static_cast<double>(total);
  r.unit = "numbers";
  r.failures = source->bad() + failed;
  r.add("numbers", total, "");  // the head says it
  r.add("prime", primes_found, "{} prime");
  r.add("bad_inputs", source->bad(), "{} bad inputs");
  r.add("failed", failed, "{} failed");
  core::add_executor_fields(r, ex);
  r.add("algorithm", std::string(o.alg == algorithm::fast ? "fast" : "trial"), "{} algorithm");
  return r;
}

}  // namespace

result<core::report> check(const options& o, core::executor& ex, core::observer& obs) {
  return run(mode::check, o, ex, obs);
}

result<core::report> factor(const options& o, core::executor& ex, core::observer& obs) {
  return run(mode::factor, o, ex, obs);
}

}  // namespace scalekit::jobs::primes
