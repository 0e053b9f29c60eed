#pragma once
// The numbers job's tasks and their payloads, private to the job: job.cc sends
// the calls and reads their results, tasks.cc runs them (in this process or in
// a worker). Nothing outside src/jobs/numbers encodes them.
//
// Every call covers a range of file indices [first, first + count). Its
// result starts with a head, the same for the three tasks:
//   u64 numbers, u64 bad inputs, u32 n, n strings (the first bad inputs' messages),
//   string: the first input that is the output file (empty: none)
// then what the task adds:
//   numbers.gen    (u64 bytes written, before the head)
//   numbers.count  u8 sparse; sparse: u64 n, n x (u32 value, u32 count); dense: u64 n, n x u32 count
//   numbers.load   u64 n, n x u32 value

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "scalekit/core/input_file.h"
#include "scalekit/core/task.h"

namespace scalekit::jobs::numbers::detail {

inline constexpr const char* gen_task = "numbers.gen";
inline constexpr const char* count_task = "numbers.count";
inline constexpr const char* load_task = "numbers.load";

/// Messages one call brings back at most (all bad inputs are counted).
inline constexpr std::size_t max_messages_per_task = 20;

/// What a call works on: files [first, first + count) of `dir`.
struct range_payload {
  std::string dir;
  std::uint64_t seed = 0;      ///< gen only
  std::uint32_t per_file = 0;  ///< gen only
  std::uint32_t max = 0;       ///< gen: the largest value written; count and load: accepted
  std::uint64_t first = 0, count = 0;
  /// count and load: the identity of the output file when it exists already:
  /// an input that is that file is not read, and is named in the result.
  std::optional<core::file_id> output;
};

core::bytes encode_range(const range_payload& p);
/// @throws core::wire_error on a malformed payload.
range_payload decode_range(std::string_view payload);

}  // namespace scalekit::jobs::numbers::detail
