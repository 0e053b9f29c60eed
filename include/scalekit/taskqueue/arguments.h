#pragma once
// Python's argument binding for the Celery tasks scalekit implements: a task
// body's positional and keyword arguments matched against the task's
// parameters as CPython matches them against a function's, with CPython's
// TypeError for each mistake, so a client sees the same failure from a
// scalekit worker as from a Python one.
//
//   static const parameter params[] = {{"y"}, {"w"}, {"h"}, {"max_iteration", "1000"}};
//   auto v = bind_arguments("mandelbrot_calc_row", params, args_json, kwargs_json);
//   // v[3] is "1000" unless the caller gave max_iteration, by position or by name
//
// Values stay JSON text (json_text.h), so integers of any size arrive intact.
//
// Thread safety: pure functions; use them from any thread.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace scalekit::taskqueue::celery {

/// One parameter of a task, as in a Python `def`: a name, and the default's
/// JSON text when it has one.
struct parameter {
  std::string_view name;
  std::optional<std::string_view> default_json = std::nullopt;
};

/// Bind `args_json` (a JSON array) and `kwargs_json` (a JSON object) to
/// `params`: the JSON text of each parameter's value, in parameter order
/// (views into the arguments or the defaults).
/// @throws task_exception TypeError, with CPython 3.11's message and checks in
/// its order: a keyword that is no parameter ("add() got an unexpected keyword
/// argument 'z'") or that a positional argument already gave ("got multiple
/// values for argument 'x'"), too many positional arguments ("add() takes 2
/// positional arguments but 3 were given"), then missing ones ("add() missing
/// 1 required positional argument: 'y'"); also when the arguments are not a
/// JSON array and object.
std::vector<std::string_view> bind_arguments(std::string_view function, std::span<const parameter> params,
                                             std::string_view args_json, std::string_view kwargs_json);

/// Python's name of the type json.loads makes of `value`: "int", "float",
/// "str", "list", "dict", "bool", "NoneType". REQUIRES: valid JSON text.
std::string_view python_type(std::string_view value);

/// `value` as a 64-bit integer: nullopt when it is not a JSON integer or is
/// outside the range of int64.
std::optional<std::int64_t> as_int64(std::string_view value);

/// Python's `a + b` of two JSON values, as JSON text: integers of any size
/// exactly, floats as Python rounds and writes them, str + str, list + list.
/// @throws task_exception TypeError ("unsupported operand type(s) for +: 'int'
/// and 'str'", "can only concatenate str (not \"int\") to str") or
/// OverflowError ("int too large to convert to float"), as Python raises them.
std::string python_add(std::string_view a, std::string_view b);

}  // namespace scalekit::taskqueue::celery
