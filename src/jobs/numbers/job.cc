// numbers::generate and numbers::sort: the job's two entries, from options to
// files on disk and a report.

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <queue>

#include "scalekit/core/atomic_file.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/input_file.h"
#include "scalekit/core/job.h"
#include "scalekit/core/thread_pool.h"
#include "scalekit/core/wire.h"
#include "scalekit/jobs/numbers/numbers.h"
#include "tasks.h"

namespace scalekit::jobs::numbers {

namespace {

using detail::range_payload;

constexpr std::uint64_t max_messages_total = 20;  // bad inputs shown; all are counted

// What the calls brought back so far.
struct tally {
  std::uint64_t files = 0, numbers = 0, bytes = 0, bad = 0;
  std::uint64_t shown = 0;   // messages given to the observer
  std::string output_input;  // the first input found to be the output file
};

void show(core::observer& obs, tally& t, std::string_view message) {
  // After a stop the run is cancelled, and what failed then is the stop's
  // doing (a worker that is ending refuses new files): not shown.
  if (t.shown >= max_messages_total || obs.stop_requested()) return;
  obs.message(message);
  ++t.shown;
}

// The head of a call's result (see tasks.h) into `t`.
void read_head(core::wire_reader& in, tally& t, core::observer& obs) {
  t.numbers += in.get<std::uint64_t>();
  t.bad += in.get<std::uint64_t>();
  const auto n = in.get<std::uint32_t>();
  for (std::uint32_t i = 0; i < n; ++i) show(obs, t, in.get_string());
  const std::string_view output_input = in.get_string();
  if (t.output_input.empty()) t.output_input = output_input;
}

// After the last call: how many bad inputs were not shown.
void show_rest(core::observer& obs, const tally& t) {
  if (t.bad > t.shown) obs.message("... and " + std::to_string(t.bad - t.shown) + " more bad inputs");
}

// Files per call: about 32 calls per worker, at least 16 files each (fewer
// calls cost less) and at most `most`.
std::uint64_t auto_files_per_task(std::uint64_t files, std::size_t workers, std::uint64_t requested,
                                  std::uint64_t most) {
  if (requested != 0) return requested;
  return std::clamp<std::uint64_t>(files / (workers * 32), 16, most);
}

// sort: big calls, since each call's result is a whole counter table.
constexpr std::uint64_t most_files_per_sort_call = 16384;
// gen: a stop lets the running calls finish, so a call writes few enough
// files to end within a fraction of a second on a slow disk.
constexpr std::uint64_t most_files_per_gen_call = 256;

// One payload per range of `per_task` files; counts[k] is call k's file count.
std::vector<core::bytes> range_payloads(range_payload base, std::uint64_t files, std::uint64_t per_task,
                                        std::vector<std::uint64_t>& counts) {
  std::vector<core::bytes> out;
  for (std::uint64_t first = 0; first < files; first += per_task) {
    base.first = first;
    base.count = std::min(per_task, files - first);
    counts.push_back(base.count);
    out.push_back(detail::encode_range(base));
  }
  return out;
}

// Run `task` over the ranges on `ex`, folding each result's head into `t`; for
// each good result `take(index, reader, whole result)` reads the rest. A call
// that failed counts all its files as bad. After a stop request the calls that
// were cancelled are neither counted nor shown.
template <typename Take>
void run_ranges(core::executor& ex, core::observer& obs, const char* task, std::vector<core::bytes> payloads,
                const std::vector<std::uint64_t>& counts, std::uint64_t total_files, tally& t, const Take& take) {
  auto stream = ex.as_completed(task, std::move(payloads));
  while (auto c = stream.next()) {
    if (!c->value.ok()) {
      if (obs.stop_requested()) continue;
      t.files += counts[c->index];
      t.bad += counts[c->index];
      show(obs, t, c->value.error().message());
    } else {
      t.files += counts[c->index];
      core::wire_reader in(c->value.value());
      take(c->index, in, std::string_view(c->value.value()));
    }
    obs.progress(t.files, total_files, "files");
  }
}

// The sorted output: a core::atomic_file (renamed into place only by commit())
// behind a 1 MiB buffer, since it is written a line at a time.
class output_file {
 public:
  explicit output_file(core::atomic_file file) : file_(std::move(file)) { buf_.reserve(1 << 20); }
  std::string& buffer() { return buf_; }
  void flush_if_full() {
    if (buf_.size() >= (1 << 20) - 64) flush();
  }
  status commit() {
    flush();
    if (!error_.ok()) return error_;
    return file_.commit();
  }
  [[nodiscard]] std::uint64_t written() const { return written_; }

 private:
  void flush() {
    if (error_.ok()) error_ = file_.write(buf_.data(), buf_.size());
    written_ += buf_.size();
    buf_.clear();
  }
  core::atomic_file file_;
  std::string buf_;
  status error_;  // the first write error; commit() reports it
  std::uint64_t written_ = 0;
};

// Fields both entries report.
void add_counts(core::report& r, const tally& t) {
  // The head says these.
  r.add("files", t.files, "");
  r.add("numbers", t.numbers, "");
  r.add("bytes", t.bytes, "");
  r.add("bad_inputs", t.bad, "");
}

}  // namespace

result<core::report> generate(const gen_options& o, core::executor& ex, core::observer& obs) {
  if (o.files == 0) return status::invalid_argument("--files must be at least 1");
  if (o.max == 0) return status::invalid_argument("--max must be at least 1");
  const auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  if (ec) return status::io_error("cannot create directory '" + o.dir + "': " + ec.message());
  const core::cancel_on_stop stop_guard(ex, obs);

  std::vector<std::uint64_t> counts;
  range_payload base{o.dir, o.seed, o.per_file, o.max, 0, 0, std::nullopt};
  auto payloads =
      range_payloads(base, o.files,
                     auto_files_per_task(o.files, ex.concurrency(), o.files_per_task, most_files_per_gen_call), counts);
  tally t;
  run_ranges(ex, obs, detail::gen_task, std::move(payloads), counts, o.files, t,
             [&](std::size_t, core::wire_reader& in, std::string_view) {
               t.bytes += in.get<std::uint64_t>();
               read_head(in, t, obs);
             });
  if (obs.stop_requested()) return status::cancelled("numbers gen stopped");
  show_rest(obs, t);

  core::report r("numbers gen");
  r.work = std::to_string(t.files) + " files, " + std::to_string(t.numbers) + " numbers, " + std::to_string(t.bytes) +
           " bytes in " + o.dir + "/, " + std::to_string(t.bad) + " failed";
  r.elapsed = std::chrono::steady_clock::now() - t0;
  r.items = static_cast<double>(t.files);
  r.unit = "files";
  r.failures = t.bad;
  add_counts(r, t);
  r.add("dir", o.dir, "");
  core::add_executor_fields(r, ex);
  return r;
}

result<core::report> sort(const sort_options& o, core::executor& ex, core::observer& obs) {
  if (o.files == 0) return status::invalid_argument("--files must be at least 1");
  const auto t0 = std::chrono::steady_clock::now();
  // An output that exists must be a file; one that is an input (the same
  // path, or a link to it) is found where the inputs are opened, before any
  // byte of the output is written.
  if (status s = core::check_output(o.output); !s.ok()) return s;
  auto created = core::atomic_file::create(o.output);  // first: an unwritable output fails before the work
  if (!created.ok()) return created.error();
  output_file out(std::move(created).value());  // removed unless committed
  const core::cancel_on_stop stop_guard(ex, obs);

  std::vector<std::uint64_t> counts;
  range_payload base{o.dir, 0, 0, o.max, 0, 0, core::identify(o.output)};
  auto payloads =
      range_payloads(base, o.files,
                     auto_files_per_task(o.files, ex.concurrency(), o.files_per_task, most_files_per_sort_call),
                     counts);
  const std::size_t calls = payloads.size();
  tally t;
  bool stopped = false;  // by a stop request, while writing

  if (o.method == sort_method::counter) {
    // Each call counts its files into its own table; tables are summed here.
    // Memory is the table (8 bytes a value) and the calls in flight, whatever N is.
    std::vector<std::uint64_t> total(std::size_t{o.max} + 1, 0);
    run_ranges(ex, obs, detail::count_task, std::move(payloads), counts, o.files, t,
               [&](std::size_t, core::wire_reader& in, std::string_view) {
                 read_head(in, t, obs);
                 const bool sparse = in.get<std::uint8_t>() != 0;
                 const auto n = in.get<std::uint64_t>();
                 if (sparse) {
                   for (std::uint64_t k = 0; k < n; ++k) {
                     const auto v = in.get<std::uint32_t>();
                     const auto cnt = in.get<std::uint32_t>();
                     if (v > o.max) throw core::wire_error("counter value out of range");
                     total[v] += cnt;
                   }
                 } else {
                   if (n != total.size()) throw core::wire_error("counter table of the wrong size");
                   for (std::uint64_t v = 0; v < n; ++v) total[v] += in.get<std::uint32_t>();
                 }
               });
    if (t.bad == 0 && t.output_input.empty() && !obs.stop_requested()) {
      std::string line;
      for (std::size_t v = 0; v < total.size() && !stopped; ++v) {
        if (total[v] == 0) continue;
        line.clear();
        append_line(line, static_cast<std::uint32_t>(v));
        for (std::uint64_t k = 0; k < total[v]; ++k) {
          out.buffer() += line;
          out.flush_if_full();
        }
        stopped = obs.stop_requested();
      }
    }
  } else {
    // Everything in memory: each call loads its files; the runs are sorted in
    // parallel here and merged while writing.
    std::vector<std::vector<std::uint32_t>> runs(calls);
    run_ranges(ex, obs, detail::load_task, std::move(payloads), counts, o.files, t,
               [&](std::size_t index, core::wire_reader& in, std::string_view whole) {
                 read_head(in, t, obs);
                 const auto n = in.get<std::uint64_t>();
                 if (n * sizeof(std::uint32_t) != in.remaining()) throw core::wire_error("value count mismatch");
                 auto& run = runs[index];
                 run.resize(n);
                 std::memcpy(run.data(), whole.data() + (whole.size() - in.remaining()), n * sizeof(std::uint32_t));
               });
    if (t.bad == 0 && t.output_input.empty() && !obs.stop_requested()) {
      core::thread_pool sorters(ex.concurrency());
      sorters.parallel_for(0, runs.size(), [&](std::size_t i) {
        if (!obs.stop_requested()) std::sort(runs[i].begin(), runs[i].end());  // a stop skips the runs left
      });
      stopped = obs.stop_requested();
      using head = std::pair<std::uint32_t, std::size_t>;  // value, run
      std::priority_queue<head, std::vector<head>, std::greater<>> heap;
      std::vector<std::size_t> pos(runs.size(), 0);
      for (std::size_t r = 0; r < runs.size(); ++r)
        if (!runs[r].empty()) heap.push({runs[r][0], r});
      for (std::uint64_t n = 1; !stopped && !heap.empty(); ++n) {
        const auto [v, r] = heap.top();
        heap.pop();
        append_line(out.buffer(), v);
        out.flush_if_full();
        if (++pos[r] < runs[r].size()) heap.push({runs[r][pos[r]], r});
        if ((n & 0xFFFF) == 0 && obs.stop_requested()) {
          stopped = true;
          break;
        }
      }
    }
  }
  if (stopped || obs.stop_requested()) return status::cancelled("numbers sort stopped");  // the output is removed
  if (!t.output_input.empty())
    return status::invalid_argument("'" + o.output + "' is the input '" + t.output_input +
                                    "' (the same file): writing it would destroy the input; choose another output");
  show_rest(obs, t);
  if (t.bad == 0) {
    if (status s = out.commit(); !s.ok()) return s;
    t.bytes = out.written();
  }

  core::report r("numbers sort");
  r.work = std::to_string(t.files) + " files, " + std::to_string(t.numbers) + " numbers -> " +
           (t.bad > 0 ? "nothing written to " + o.output : o.output) + ", " + std::to_string(t.bad) + " bad inputs";
  r.elapsed = std::chrono::steady_clock::now() - t0;
  r.items = static_cast<double>(t.numbers);
  r.unit = "numbers";
  r.failures = t.bad;
  add_counts(r, t);
  r.add("output", o.output, "");
  r.add("method", std::string(o.method == sort_method::memory ? "memory" : "counter"), "{} method");
  core::add_executor_fields(r, ex);
  return r;
}

}  // namespace scalekit::jobs::numbers
