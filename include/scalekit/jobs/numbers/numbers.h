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
#include "scalekit/core/job.h"
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

/// `numbers gen`: what to write.
struct gen_options {
  std::string dir = "numbers";  ///< created if missing
  std::uint64_t files = 0;      ///< numbers_0 .. numbers_<files-1>; at least 1
  std::uint32_t per_file = 100;
  std::uint32_t max = 10000;  ///< values are uniform in [1, max]; at least 1
  std::uint64_t seed = 0;     ///< the same seed writes the same files
  /// Files per task; 0: automatic (about 32 tasks per worker, 16 to 256 files each:
  /// a stop lets running tasks finish, so they stay short).
  std::uint64_t files_per_task = 0;
};

/// `numbers sort`: what to merge, and where.
struct sort_options {
  std::string dir = "numbers";
  std::uint64_t files = 0;  ///< numbers_0 .. numbers_<files-1>; at least 1
  std::string output = "sorted_nums.txt";
  /// counter: flat memory (a table of max + 1 counts); memory: every value
  /// loaded, runs sorted in parallel and merged (memory grows with the input).
  sort_method method = sort_method::counter;
  std::uint32_t max = 100000;        ///< largest value the counter accepts (the seed's MAXINT)
  std::uint64_t files_per_task = 0;  ///< 0: automatic (about 32 tasks per worker, 16 to 16384 files each)
};

/// Write the files on `ex`, each whole or not at all (through a temporary
/// renamed into place): a stop or a crash never leaves a partial file.
/// Progress in files. A file that cannot be written is a message naming it and
/// a failure; the rest go on. Returns invalid_argument for options it refuses,
/// an io_error when the directory cannot be created, cancelled after a stop
/// request (the files already written stay, each whole).
/// The report: files, numbers, bytes, bad_inputs, dir and the executor.
/// After a stop `ex` is cancelled for good (executor::cancel()).
/// Thread safety: one call per observer at a time.
result<core::report> generate(const gen_options& o, core::executor& ex, core::observer& obs);

/// Merge and sort the files on `ex` into o.output, byte-identical to `sort -n`,
/// through a temporary file renamed into place only when every input was good.
/// Progress in files. Each bad input (a bad line, a missing file, one that is
/// not a regular file or is over 64 MiB) is a failure, the first 20 of them
/// messages ("file:line: 'text': problem", invisible characters escaped); with
/// any, no output is written and an existing one is untouched. Returns
/// invalid_argument for options it refuses, among them an output that is one
/// of the inputs (the same path, a symbolic or hard link: found as the inputs
/// are opened, and nothing is written) or exists and is not a regular file; an
/// io_error when the output cannot be written (before the work), cancelled
/// after a stop request (nothing written).
/// The report: files, numbers, bytes (written), bad_inputs, output, the method
/// and the executor. After a stop `ex` is cancelled for good.
/// Thread safety: one call per observer at a time.
result<core::report> sort(const sort_options& o, core::executor& ex, core::observer& obs);

/// Register the job's tasks (numbers.gen, numbers.count, numbers.load) in
/// core::task_registry::global(): before run_worker_if_requested().
void register_tasks();

}  // namespace scalekit::jobs::numbers

#include "scalekit/jobs/numbers/detail/parse.h"
