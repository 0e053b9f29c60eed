#pragma once
// parse_file: the hot loop of `numbers sort`, inline so the per-value callback
// (a counter increment, a push_back) is compiled into it.

#include <string>

#include "scalekit/core/line_reader.h"  // core::printable

namespace scalekit::jobs::numbers {

template <typename OnValue>
void parse_file(std::string_view text, std::string_view path, std::uint32_t max, OnValue&& on_value,
                std::vector<bad_input>& bad, std::uint64_t& bad_count, std::size_t max_messages) {
  auto report = [&](std::size_t line, std::string_view token, const char* why) {
    ++bad_count;
    if (bad.size() < max_messages) {
      bad.push_back({std::string(path) + ":" + std::to_string(line) + ": '" + core::printable(token) + "': " + why});
    }
  };
  std::size_t line = 0;
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    ++line;
    const char* start = p;
    std::uint64_t v = 0;
    while (p < end && static_cast<unsigned>(*p - '0') < 10 && p - start < 12)
      v = v * 10 + static_cast<unsigned>(*p++ - '0');
    const bool at_eol = p == end || *p == '\n';
    if (at_eol && p > start && !(*start == '0' && p - start > 1) && v <= max) {
      on_value(static_cast<std::uint32_t>(v));
      if (p < end) ++p;
      continue;
    }
    // A bad line: find its end, say what is wrong with it.
    while (p < end && *p != '\n') ++p;
    const std::string_view token(start, static_cast<std::size_t>(p - start));
    if (p < end) ++p;
    if (token.empty()) {
      report(line, token, "empty line, not a number");
    } else if (token.find_first_not_of("0123456789") != std::string_view::npos) {
      report(line, token, token[0] == '-' ? "negative numbers are not allowed" : "not a number");
    } else if (token.size() > 1 && token[0] == '0') {
      report(line, token, "leading zero (sort -n would keep it; write the number plainly)");
    } else {
      report(line, token, ("out of range for the counter (0.." + std::to_string(max) + ")").c_str());
    }
  }
}

}  // namespace scalekit::jobs::numbers
