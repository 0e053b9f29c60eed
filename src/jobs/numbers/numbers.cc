#include "scalekit/jobs/numbers/numbers.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <queue>

#include "scalekit/core/atomic_file.h"
#include "scalekit/core/task.h"
#include "scalekit/core/thread_pool.h"
#include "scalekit/core/wire.h"

namespace scalekit::jobs::numbers {

namespace {

constexpr std::size_t max_messages_per_task = 20;
constexpr std::size_t max_messages_total = 20;
constexpr std::size_t max_file_bytes = std::size_t{64} << 20;  // a "numbers file" bigger than this is refused

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string errno_message() { return std::strerror(errno); }

// Read a whole small file into `out`. False with the reason in `why`.
bool read_file(const std::string& path, std::string& out, std::string& why) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = errno_message();
    return false;
  }
  out.clear();
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      why = errno_message();
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_file_bytes) {
      why = "larger than " + std::to_string(max_file_bytes >> 20) + " MiB, not a numbers file";
      ::close(fd);
      return false;
    }
  }
  ::close(fd);
  return true;
}

// Common tail of every task result: numbers, bad count, the first messages.
void put_report(core::wire_writer& w, std::uint64_t numbers, std::uint64_t bad_count,
                const std::vector<bad_input>& bad) {
  w.put(numbers).put(bad_count).put(static_cast<std::uint32_t>(bad.size()));
  for (const auto& b : bad) w.put_string(b.message);
}

void get_report(core::wire_reader& in, run_report& r) {
  r.numbers += in.get<std::uint64_t>();
  r.bad += in.get<std::uint64_t>();
  const auto n = in.get<std::uint32_t>();
  for (std::uint32_t i = 0; i < n; ++i) {
    std::string m(in.get_string());
    if (r.messages.size() < max_messages_total) r.messages.push_back(std::move(m));
  }
}

struct range_payload {
  std::string dir;
  std::uint64_t seed = 0;
  std::uint32_t per_file = 0, max = 0;
  std::uint64_t first = 0, count = 0;
};

std::string encode_range(const range_payload& p) {
  core::wire_writer w;
  w.put_string(p.dir).put(p.seed).put(p.per_file).put(p.max).put(p.first).put(p.count);
  return w.take();
}

range_payload decode_range(std::string_view payload) {
  core::wire_reader in(payload);
  range_payload p;
  p.dir = in.get_string();
  p.seed = in.get<std::uint64_t>();
  p.per_file = in.get<std::uint32_t>();
  p.max = in.get<std::uint32_t>();
  p.first = in.get<std::uint64_t>();
  p.count = in.get<std::uint64_t>();
  in.expect_end();
  return p;
}

core::bytes gen_body(std::string_view payload) {
  const range_payload p = decode_range(payload);
  std::vector<std::uint32_t> values;
  std::string text;
  std::vector<bad_input> bad;
  std::uint64_t bad_count = 0, bytes = 0;
  for (std::uint64_t i = p.first; i < p.first + p.count; ++i) {
    file_values(p.seed, i, p.per_file, p.max, values);
    text.clear();
    for (std::uint32_t v : values) append_line(text, v);
    const std::string path = file_path(p.dir, i);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    bool ok = fd >= 0;
    std::size_t off = 0;
    while (ok && off < text.size()) {
      const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) off += static_cast<std::size_t>(n);
    }
    if (!ok) {
      ++bad_count;
      if (bad.size() < max_messages_per_task) bad.push_back({path + ": cannot write: " + errno_message()});
    }
    if (fd >= 0 && ::close(fd) != 0 && ok) {
      ++bad_count;
      if (bad.size() < max_messages_per_task) bad.push_back({path + ": cannot write: " + errno_message()});
    }
    bytes += text.size();
  }
  core::wire_writer w;
  w.put(bytes);
  put_report(w, p.count * p.per_file, bad_count, bad);
  return w.take();
}

// Parse every file of a payload's range, calling on_value for each good value;
// unreadable files and bad lines are counted, the first few kept as messages.
template <typename OnValue>
void parse_range(const range_payload& p, OnValue&& on_value, std::vector<bad_input>& bad, std::uint64_t& bad_count) {
  std::string text, why;
  for (std::uint64_t i = p.first; i < p.first + p.count; ++i) {
    const std::string path = file_path(p.dir, i);
    if (!read_file(path, text, why)) {
      ++bad_count;
      if (bad.size() < max_messages_per_task) bad.push_back({path + ": " + why});
      continue;
    }
    parse_file(text, path, p.max, on_value, bad, bad_count, max_messages_per_task);
  }
}

// numbers.count: a counter table for a range of files. Sent sparse
// (value, count) pairs when that is smaller than the dense table.
core::bytes count_body(std::string_view payload) {
  const range_payload p = decode_range(payload);
  std::vector<std::uint32_t> table(std::size_t{p.max} + 1, 0);
  std::vector<bad_input> bad;
  std::uint64_t bad_count = 0, numbers = 0;
  parse_range(
      p,
      [&](std::uint32_t v) {
        ++table[v];
        ++numbers;
      },
      bad, bad_count);
  core::wire_writer w;
  put_report(w, numbers, bad_count, bad);
  const auto nonzero =
      static_cast<std::size_t>(std::count_if(table.begin(), table.end(), [](std::uint32_t c) { return c != 0; }));
  const bool sparse = nonzero * 8 < table.size() * 4;
  w.put<std::uint8_t>(sparse ? 1 : 0);
  if (sparse) {
    w.put(static_cast<std::uint64_t>(nonzero));
    for (std::size_t v = 0; v < table.size(); ++v)
      if (table[v] != 0) w.put(static_cast<std::uint32_t>(v)).put(table[v]);
  } else {
    w.put(static_cast<std::uint64_t>(table.size()));
    w.str().append(reinterpret_cast<const char*>(table.data()), table.size() * sizeof(std::uint32_t));
  }
  return w.take();
}

// numbers.load: every value of a range of files, as u32s.
core::bytes load_body(std::string_view payload) {
  const range_payload p = decode_range(payload);
  std::vector<std::uint32_t> values;
  std::vector<bad_input> bad;
  std::uint64_t bad_count = 0;
  parse_range(
      p, [&](std::uint32_t v) { values.push_back(v); }, bad, bad_count);
  core::wire_writer w;
  put_report(w, values.size(), bad_count, bad);
  w.put(static_cast<std::uint64_t>(values.size()));
  w.str().append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(std::uint32_t));
  return w.take();
}

std::uint64_t auto_files_per_task(std::uint64_t files, std::size_t workers, std::uint64_t requested) {
  if (requested != 0) return requested;
  return std::clamp<std::uint64_t>(files / (workers * 32), 16, 16384);
}

std::vector<core::bytes> range_payloads(range_payload base, std::uint64_t files, std::uint64_t per_task,
                                        std::vector<std::uint64_t>& counts) {
  std::vector<core::bytes> out;
  for (std::uint64_t first = 0; first < files; first += per_task) {
    base.first = first;
    base.count = std::min(per_task, files - first);
    counts.push_back(base.count);
    out.push_back(encode_range(base));
  }
  return out;
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

}  // namespace

std::string file_path(const std::string& dir, std::uint64_t i) {
  std::string p = dir;
  p += "/numbers_";
  p += std::to_string(i);
  p += ".txt";
  return p;
}

void file_values(std::uint64_t seed, std::uint64_t i, std::uint32_t per_file, std::uint32_t max,
                 std::vector<std::uint32_t>& out) {
  std::uint64_t state = seed * 0x2545f4914f6cdd1dULL ^ (i + 1) * 0x9e3779b97f4a7c15ULL;
  out.resize(per_file);
  for (auto& v : out) {
    // Lemire's multiply-shift: uniform enough in [0, max) for max << 2^64.
    __extension__ const unsigned __int128 m = static_cast<unsigned __int128>(splitmix64(state)) * max;
    v = static_cast<std::uint32_t>(m >> 64) + 1;
  }
}

void append_line(std::string& out, std::uint32_t v) {
  char buf[12];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  *r.ptr = '\n';
  out.append(buf, static_cast<std::size_t>(r.ptr - buf + 1));
}

result<run_report> generate(const gen_options& o, core::executor& ex, const progress_fn& progress) {
  if (o.max == 0) return status::invalid_argument("--max must be at least 1");
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  if (ec) return status::io_error("cannot create directory '" + o.dir + "': " + ec.message());
  std::vector<std::uint64_t> counts;
  range_payload base{o.dir, o.seed, o.per_file, o.max, 0, 0};
  auto payloads =
      range_payloads(base, o.files, auto_files_per_task(o.files, ex.concurrency(), o.files_per_task), counts);
  run_report report;
  auto stream = ex.as_completed(gen_task, std::move(payloads));
  while (auto c = stream.next()) {
    report.files += counts[c->index];
    if (!c->value.ok()) {
      report.bad += counts[c->index];
      if (report.messages.size() < max_messages_total) report.messages.push_back(c->value.error().message());
    } else {
      core::wire_reader in(c->value.value());
      report.bytes += in.get<std::uint64_t>();
      get_report(in, report);
    }
    if (progress) progress(report.files, o.files);
  }
  return report;
}

result<run_report> sort(const sort_options& o, core::executor& ex, const progress_fn& progress) {
  std::vector<std::uint64_t> counts;
  range_payload base{o.dir, 0, 0, o.max, 0, 0};
  const std::uint64_t per_task = auto_files_per_task(o.files, ex.concurrency(), o.files_per_task);
  auto payloads = range_payloads(base, o.files, per_task, counts);
  run_report report;
  auto created = core::atomic_file::create(o.output);  // first: an unwritable output fails before the work
  if (!created.ok()) return created.error();
  output_file out(std::move(created).value());

  // Run `task` over the file ranges; for each good result, after its report
  // part is read, `take(index, reader, whole result)` reads the rest.
  auto run_tasks = [&](const char* task, const auto& take) {
    auto stream = ex.as_completed(task, std::move(payloads));
    while (auto c = stream.next()) {
      report.files += counts[c->index];
      if (!c->value.ok()) {
        report.bad += counts[c->index];  // the task itself failed: all its files count as bad
        if (report.messages.size() < max_messages_total) report.messages.push_back(c->value.error().message());
      } else {
        core::wire_reader in(c->value.value());
        get_report(in, report);
        take(c->index, in, std::string_view(c->value.value()));
      }
      if (progress) progress(report.files, o.files);
    }
  };

  if (o.method == sort_method::counter) {
    // Each task counts its files into its own table; tables are summed here.
    // Memory is the table (8 bytes a value) and the tasks in flight, whatever N is.
    std::vector<std::uint64_t> total(std::size_t{o.max} + 1, 0);
    run_tasks(count_task, [&](std::size_t, core::wire_reader& in, std::string_view) {
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
    if (report.bad > 0) return report;
    std::string line;
    for (std::size_t v = 0; v < total.size(); ++v) {
      if (total[v] == 0) continue;
      line.clear();
      append_line(line, static_cast<std::uint32_t>(v));
      for (std::uint64_t k = 0; k < total[v]; ++k) {
        out.buffer() += line;
        out.flush_if_full();
      }
    }
  } else {
    // Everything in memory: each task loads its files; the runs are sorted in
    // parallel here and merged while writing.
    std::vector<std::vector<std::uint32_t>> runs(payloads.size());
    run_tasks(load_task, [&](std::size_t index, core::wire_reader& in, std::string_view whole) {
      const auto n = in.get<std::uint64_t>();
      if (n * sizeof(std::uint32_t) != in.remaining()) throw core::wire_error("value count mismatch");
      auto& run = runs[index];
      run.resize(n);
      std::memcpy(run.data(), whole.data() + (whole.size() - in.remaining()), n * sizeof(std::uint32_t));
    });
    if (report.bad > 0) return report;
    core::thread_pool sorters(ex.concurrency());
    sorters.parallel_for(0, runs.size(), [&](std::size_t i) { std::sort(runs[i].begin(), runs[i].end()); });
    using head = std::pair<std::uint32_t, std::size_t>;  // value, run
    std::priority_queue<head, std::vector<head>, std::greater<>> heap;
    std::vector<std::size_t> pos(runs.size(), 0);
    for (std::size_t r = 0; r < runs.size(); ++r)
      if (!runs[r].empty()) heap.push({runs[r][0], r});
    while (!heap.empty()) {
      const auto [v, r] = heap.top();
      heap.pop();
      append_line(out.buffer(), v);
      out.flush_if_full();
      if (++pos[r] < runs[r].size()) heap.push({runs[r][pos[r]], r});
    }
  }
  if (status s = out.commit(); !s.ok()) return s;
  report.bytes = out.written();
  return report;
}

void register_tasks() {
  auto& r = core::task_registry::global();
  r.add(gen_task, gen_body);
  r.add(count_task, count_body);
  r.add(load_task, load_body);
}

}  // namespace scalekit::jobs::numbers
