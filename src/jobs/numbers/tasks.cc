// The numbers job's tasks: numbers.gen writes files, numbers.count and
// numbers.load read them. Each runs wherever the executor puts it.

#include "tasks.h"

#include <algorithm>
#include <vector>

#include "scalekit/core/atomic_file.h"
#include "scalekit/core/wire.h"
#include "scalekit/jobs/numbers/numbers.h"

namespace scalekit::jobs::numbers {

namespace detail {

core::bytes encode_range(const range_payload& p) {
  core::wire_writer w;
  w.put_string(p.dir).put(p.seed).put(p.per_file).put(p.max).put(p.first).put(p.count);
  w.put<std::uint8_t>(p.output ? 1 : 0);
  if (p.output) w.put<std::uint64_t>(p.output->dev).put<std::uint64_t>(p.output->ino);
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
  if (in.get<std::uint8_t>() != 0) {
    core::file_id id;
    id.dev = static_cast<dev_t>(in.get<std::uint64_t>());
    id.ino = static_cast<ino_t>(in.get<std::uint64_t>());
    p.output = id;
  }
  in.expect_end();
  return p;
}

}  // namespace detail

namespace {

using detail::max_messages_per_task;
using detail::range_payload;

constexpr std::size_t max_file_bytes = std::size_t{64} << 20;  // a "numbers file" bigger than this is refused

// The head of every result (see tasks.h).
void put_head(core::wire_writer& w, std::uint64_t numbers, std::uint64_t bad_count, const std::vector<bad_input>& bad,
              const std::string& output_input = {}) {
  w.put(numbers).put(bad_count).put(static_cast<std::uint32_t>(bad.size()));
  for (const auto& b : bad) w.put_string(b.message);
  w.put_string(output_input);
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
      continue;
    }
    bytes += text.size();  // only what was written: a full disk writes nothing
  }
  core::wire_writer w;
  w.put(bytes);
  put_head(w, (p.count - bad_count) * p.per_file, bad_count, bad);
  return w.take();
}

// Parse every file of a payload's range, calling on_value for each good value;
// unreadable files (a FIFO or a device is refused before it is read, a file
// over max_file_bytes is not read whole) and bad lines are counted, the first
// few kept as messages. An input that is the output file is not read: the
// first one is named in `output_input`.
template <typename OnValue>
void parse_range(const range_payload& p, OnValue&& on_value, std::vector<bad_input>& bad, std::uint64_t& bad_count,
                 std::string& output_input) {
  std::string text;
  for (std::uint64_t i = p.first; i < p.first + p.count; ++i) {
    const std::string path = file_path(p.dir, i);
    auto file = core::open_input(path);
    status s = file.ok() ? status{} : file.error();
    if (s.ok() && p.output && file->id() == *p.output) {
      if (output_input.empty()) output_input = path;
      continue;
    }
    if (s.ok()) s = file->read_all(text, max_file_bytes);
    if (!s.ok()) {
      ++bad_count;
      if (bad.size() < max_messages_per_task) {
        bad.push_back({s.code() == status_code::too_large ? s.message() + ", not a numbers file" : s.message()});
      }
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
  std::string output_input;
  parse_range(
      p,
      [&](std::uint32_t v) {
        ++table[v];
        ++numbers;
      },
      bad, bad_count, output_input);
  core::wire_writer w;
  put_head(w, numbers, bad_count, bad, output_input);
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
  std::string output_input;
  parse_range(
      p, [&](std::uint32_t v) { values.push_back(v); }, bad, bad_count, output_input);
  core::wire_writer w;
  put_head(w, values.size(), bad_count, bad, output_input);
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
