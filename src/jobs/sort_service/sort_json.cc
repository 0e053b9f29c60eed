// The CPU part of the sort service, run on an executor: parse, check, sort,
// format. simdjson parses; a request is untrusted input, so every element is
// checked to be an integer.

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <vector>

#include "scalekit/core/task.h"
#include "scalekit/jobs/sort_service/sort_service.h"
#include "sort_json.h"

namespace scalekit::jobs::sort_service {

std::string error_json(std::string_view message) {
  std::string out = "{\"error\": \"";
  for (char c : message) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  out += "\"}";
  return out;
}

std::string sort_json(std::string_view body) {
  // One parser per thread, reused: a fresh parser allocates (and faults in)
  // its buffers on every request, which cost more than the parse itself.
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc); err)
    throw std::invalid_argument(std::string("invalid JSON: ") + simdjson::error_message(err));
  simdjson::dom::array arr;
  if (doc.get_array().get(arr)) throw std::invalid_argument("expected a JSON array of integers");
  std::vector<std::int64_t> nums;
  nums.reserve(arr.size());
  std::size_t index = 0;
  for (simdjson::dom::element e : arr) {
    switch (e.type()) {
      case simdjson::dom::element_type::INT64: nums.push_back(e.get_int64().value_unsafe()); break;
      case simdjson::dom::element_type::UINT64:
        throw std::invalid_argument("element " + std::to_string(index) + " is beyond the 64-bit signed range");
      case simdjson::dom::element_type::DOUBLE:
        throw std::invalid_argument("element " + std::to_string(index) + " is not an integer");
      default: throw std::invalid_argument("element " + std::to_string(index) + " is not a number");
    }
    ++index;
  }
  std::sort(nums.begin(), nums.end());
  // Python's json.dumps spacing: "[1, 2, 3]". Written straight into a buffer
  // sized for the widest numbers, then cut to length.
  std::string out(2 + nums.size() * 22, '\0');
  char* p = out.data();
  *p++ = '[';
  for (std::size_t i = 0; i < nums.size(); ++i) {
    if (i > 0) {
      *p++ = ',';
      *p++ = ' ';
    }
    p = std::to_chars(p, p + 20, nums[i]).ptr;
  }
  *p++ = ']';
  out.resize(static_cast<std::size_t>(p - out.data()));
  return out;
}

void register_tasks() {
  core::task_registry::global().add(sort_task, [](std::string_view body) -> core::bytes {
    try {
      return sort_json(body);
    } catch (const std::invalid_argument& e) {
      return error_json(e.what());
    }
  });
}

result<std::string> sort_body(core::executor& ex, std::string body) {
  std::vector<core::bytes> payloads;
  payloads.push_back(std::move(body));
  auto r = std::move(ex.map(sort_task, std::move(payloads)).front());
  if (!r.ok()) return r.error();
  // The task answers an error object for a bad body; a sorted array otherwise.
  if (!r->empty() && r->front() == '{') return status::invalid_argument(std::move(r).value());
  return std::move(r).value();
}

}  // namespace scalekit::jobs::sort_service
