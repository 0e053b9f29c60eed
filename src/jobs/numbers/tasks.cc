// The numbers job's tasks: numbers.gen writes files, numbers.count and
// numbers.load read them. Each runs wherever the executor puts it.

#include "tasks.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "scalekit/core/atomic_file.h"
#include "scalekit/core/wire.h"
#include "scalekit/jobs/numbers/numbers.h"

namespace scalekit::jobs::numbers {

namespace detail {

core::bytes encode_range(const range_payload& p) {
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

}  // namespace detail

namespace {

using detail::max_messages_per_task;
using detail::range_payload;

constexpr std::size_t max_file_bytes = std::size_t{64} << 20;  // a "numbers file" bigger than this is refused

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

// The head of every result (see tasks.h).
void put_head(core::wire_writer& w, std::uint64_t numbers, std::uint64_t bad_count, const std::vector<bad_input>& bad) {
  w.put(numbers).put(bad_count).put(static_cast<std::uint32_t>(bad.size()));
  for (const auto& b : bad) w.put_string(b.message);
}

// numbers.gen: each file through a core::atomic_file in place, so a file is
// whole or absent: an interrupted run (a cancelled worker, a second Ctrl-C)
// leaves no partial or empty numbers_<i>.txt behind. In place, not renamed:
// the files are made afresh, and the rename doubled the cost of a small file.
core::bytes gen_body(std::string_view payload) {
  const range_payload p = detail::decode_range(payload);
  std::vector<std::uint32_t> values;
  std::string text;
  std::vector<bad_input> bad;
  std::uint64_t bad_count = 0, bytes = 0;
  for (std::uint64_t i = p.first; i < p.first + p.count; ++i) {
    file_values(p.seed, i, p.per_file, p.max, values);
    text.clear();
    for (std::uint32_t v : values) append_line(text, v);
    auto file = core::atomic_file::create(file_path(p.dir, i), core::atomic_file::mode::in_place);
    status s = file.ok() ? file->write(text.data(), text.size()) : file.error();
    if (s.ok()) s = file->commit();
    if (!s.ok()) {
      ++bad_count;
      if (bad.size() < max_messages_per_task) bad.push_back({s.message()});
    }
    bytes += text.size();
  }
  core::wire_writer w;
  w.put(bytes);
  put_head(w, p.count * p.per_file, bad_count, bad);
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
  const range_payload p = detail::decode_range(payload);
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
  put_head(w, numbers, bad_count, bad);
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
  const range_payload p = detail::decode_range(payload);
  std::vector<std::uint32_t> values;
  std::vector<bad_input> bad;
  std::uint64_t bad_count = 0;
  parse_range(
      p, [&](std::uint32_t v) { values.push_back(v); }, bad, bad_count);
  core::wire_writer w;
  put_head(w, values.size(), bad_count, bad);
  w.put(static_cast<std::uint64_t>(values.size()));
  w.str().append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(std::uint32_t));
  return w.take();
}

}  // namespace

void register_tasks() {
  auto& r = core::task_registry::global();
  r.add(detail::gen_task, gen_body);
  r.add(detail::count_task, count_body);
  r.add(detail::load_task, load_body);
}

}  // namespace scalekit::jobs::numbers
