#pragma once
// Internal: the sort service's task, the CPU part that runs on an executor
// (sort_json.cc), and its error replies.

#include <string>
#include <string_view>

namespace scalekit::jobs::sort_service {

/// The task's name: payload a request body, result the reply (the sorted
/// array or an error object). Never fails as a task: a bad body is an error reply.
inline constexpr const char* sort_task = "sort.json";

/// Parse a JSON array of integers (each fitting in 64 signed bits), sort it,
/// and return it as JSON. @throws std::invalid_argument naming the problem.
std::string sort_json(std::string_view body);

/// {"error": "<message>"} with the message JSON-escaped.
std::string error_json(std::string_view message);

}  // namespace scalekit::jobs::sort_service
