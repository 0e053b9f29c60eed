#pragma once
// has_shape(): a small matcher for ids and timestamps in the taskqueue tests.

#include <cctype>
#include <string>

namespace scalekit::testing {

// True when `s` matches `shape`, where '9' stands for a digit, 'x' for a
// lower-case hex digit and any other character for itself. (Not a regex:
// GCC 12 warns inside <regex> under the sanitizers, which stops -Werror builds.)
inline bool has_shape(const std::string& s, const std::string& shape) {
  if (s.size() != shape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i], k = shape[i];
    if (k == '9'   ? !std::isdigit(static_cast<unsigned char>(c))
        : k == 'x' ? !(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f'))
                   : c != k)
      return false;
  }
  return true;
}

}  // namespace scalekit::testing
