#pragma once
// The numbers job: the seed's "sorting disk files" programs (chapter 5):
// generate N files of random integers, then merge them into one sorted file,
// in memory (sort_in_memory.py) or with a counter (sort_counter.py,
// sort_counter_mp.py), byte-identical to `sort -n` of the same files.
//
// Input format, strict so that the output can equal `sort -n` byte for byte:
// one canonical decimal integer per line ("0" or digits without a leading zero,
// no sign, no blanks), every line ending in '\n' except possibly the last.
// Anything else is a bad input, reported as "file:line: 'text': problem".

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::numbers {

/// "<dir>/numbers_<i>.txt", the seed's naming.
std::string file_path(const std::string& dir, std::uint64_t i);

/// The values of file i for a seed: `per_file` numbers uniform in [1, max],
/// the same whatever the executor or the order files are written in.
void file_values(std::uint64_t seed, std::uint64_t i, std::uint32_t per_file, std::uint32_t max,
                 std::vector<std::uint32_t>& out);

/// Append the decimal text of v and '\n' to `out` (no allocation beyond growth).
void append_line(std::string& out, std::uint32_t v);

/// One bad input: where and why.
struct bad_input {
  std::string message;  ///< "numbers/numbers_3.txt:7: 'x1': not a number"
};

/// Parse one file's text, calling on_value(v) for each number <= max; each bad
/// line adds an entry to `bad` (at most `max_messages` kept; `bad_count` counts all).
template <typename OnValue>
void parse_file(std::string_view text, std::string_view path, std::uint32_t max, OnValue&& on_value,
                std::vector<bad_input>& bad, std::uint64_t& bad_count, std::size_t max_messages);

enum class sort_method { counter, memory };

struct gen_options {
  std::string dir = "numbers";
  std::uint64_t files = 0;
  std::uint32_t per_file = 100;
  std::uint32_t max = 10000;
  std::uint64_t seed = 0;
  std::uint64_t files_per_task = 0;  ///< 0: automatic
};

struct sort_options {
  std::string dir = "numbers";
  std::uint64_t files = 0;
  std::string output = "sorted_nums.txt";
  sort_method method = sort_method::counter;
  std::uint32_t max = 100000;  ///< largest value the counter accepts (the seed's MAXINT)
  std::uint64_t files_per_task = 0;
};

struct run_report {
  std::uint64_t files = 0, numbers = 0, bytes = 0;
  std::uint64_t bad = 0;              ///< bad inputs (lines, missing files)
  std::vector<std::string> messages;  ///< the first of them, for the user
};

/// Progress callback: (files done, files total).
using progress_fn = std::function<void(std::uint64_t, std::uint64_t)>;

/// Write the files on `ex`. Failures to write are bad inputs in the report.
result<run_report> generate(const gen_options& o, core::executor& ex, const progress_fn& progress = {});

/// Merge and sort the files on `ex` into o.output, through a temporary file that
/// is renamed into place only when every input was good. With bad inputs the
/// report counts them and no output is written (an existing one is untouched).
result<run_report> sort(const sort_options& o, core::executor& ex, const progress_fn& progress = {});

inline constexpr const char* gen_task = "numbers.gen";
inline constexpr const char* count_task = "numbers.count";
inline constexpr const char* load_task = "numbers.load";
/// Register the three tasks in core::task_registry::global().
void register_tasks();

}  // namespace scalekit::jobs::numbers

#include "scalekit/jobs/numbers/detail/parse.h"
