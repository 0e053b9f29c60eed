#pragma once
// Internal to core: the one UTF-8 decoder of the JSON reports (job.cc) and of
// echoed input (line_reader.cc).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace scalekit::core::detail {

/// Length of the valid UTF-8 sequence at s[i] (1 to 4), with its code point in
/// `cp`; 0 when it is not one: a stray continuation byte, a cut sequence, an
/// overlong form, a surrogate or a value past U+10FFFF. REQUIRES: i < s.size().
inline std::size_t utf8_at(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n;
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace scalekit::core::detail
