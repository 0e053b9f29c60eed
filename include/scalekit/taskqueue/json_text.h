#pragma once
// JSON as text: a validating scanner that hands out the raw text of values
// instead of building a document, so that numbers stay exactly as written.
//
// Celery's clients are Python, whose integers have no size limit: a task's
// arguments may hold 2**100, which simdjson refuses and nlohmann turns into a
// double. Task bodies, signatures and their options therefore travel through
// the worker as text: elements() and members() split one level, the caller
// descends where it needs to, and what is passed on (a chain's next
// arguments, a chord's results) is copied byte for byte.
//
//   auto parts = json_text::elements(body);                 // [args, kwargs, embed]
//   auto opts = json_text::members(parts->at(2));           // {"callbacks": ..., ...}
//   std::optional<std::string> s = json_text::string_value(v);
//
// Grammar: RFC 8259, plus Python's json extensions NaN, Infinity and
// -Infinity (json.dumps writes them for floats). Nesting deeper than
// max_depth is refused; the scanner never recurses, so hostile input cannot
// exhaust the stack. No allocation but the returned vectors.
//
// Thread safety: pure functions; use them from any thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/status.h"

namespace scalekit::taskqueue::json_text {

/// Deeper nesting is refused (Python's json.loads stops near 1000 too).
inline constexpr std::size_t max_depth = 512;

enum class kind { null, boolean, number, string, array, object };

/// Check that `text` is one JSON value, with optional whitespace around it.
/// @return corruption naming the byte offset of the first problem.
status validate(std::string_view text);

/// The kind of a value's text. REQUIRES: `value` is one valid JSON value
/// without surrounding whitespace (as elements() and members() give them).
kind kind_of(std::string_view value);

/// The elements of a JSON array, each the exact text of one value (no
/// surrounding whitespace), in order. Validates the whole array.
/// @return corruption when `array` is not a valid JSON array.
result<std::vector<std::string_view>> elements(std::string_view array);

struct member {
  std::string key;         ///< decoded
  std::string_view value;  ///< the value's exact text
};
/// The members of a JSON object, in order (duplicates kept, as written).
/// Validates the whole object.
/// @return corruption when `object` is not a valid JSON object.
result<std::vector<member>> members(std::string_view object);

/// The value of the last member named `key` (Python's dict keeps the last), or
/// nullopt. REQUIRES: `members` from members().
std::optional<std::string_view> find(const std::vector<member>& members, std::string_view key);

/// The decoded text of a JSON string value, or nullopt when `value` is not a
/// string. REQUIRES: `value` is valid (as given by this scanner).
std::optional<std::string> string_value(std::string_view value);

/// `text` as a JSON string literal, with its quotes; non-ASCII bytes are
/// copied as they are (UTF-8), control characters escaped.
std::string quote(std::string_view text);
/// The same, appended to `out` (which grows at most once, to the exact size).
void append_quoted(std::string& out, std::string_view text);
/// The bytes quote(text) has.
std::size_t quoted_size(std::string_view text);

/// `value` without insignificant whitespace. REQUIRES: valid.
std::string minify(std::string_view value);

/// What Python's json.dumps writes for the same value (", " and ": "
/// separators). REQUIRES: valid.
std::string python_dumps(std::string_view value);

/// Python's repr() of the object json.loads would make of `value` ({'a': [1,
/// None, True]} for {"a": [1, null, true]}): what Celery shows in argsrepr,
/// kwargsrepr and logs. REQUIRES: valid.
std::string py_repr(std::string_view value);

/// Python's repr() of a str: 'it''s' quoting rules included ("it's").
std::string py_str_repr(std::string_view text);

/// Python's repr() of a float, which is also what json.dumps writes for it:
/// the shortest text that reads back the same, "5.0", "1e+16", "1e-05", "inf", "nan".
std::string py_float_repr(double v);

/// True when `value` is a JSON integer (an optional minus and digits), of any size.
bool is_integer(std::string_view value);

}  // namespace scalekit::taskqueue::json_text
