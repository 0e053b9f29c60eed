// The numbers job's file format: names, deterministic values, lines.

#include "scalekit/jobs/numbers/numbers.h"

#include <charconv>

namespace scalekit::jobs::numbers {

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::string file_path(const std::string& dir, std::uint64_t i) {
  std::string p = dir;
  p += "/numbers_";
  p += std::to_string(i);
  p += ".txt";
  return p;
}

void file_values(std::uint64_t seed, std::uint64_t i, std::uint32_t per_file, std::uint32_t max,
                 std::vector<std::uint32_t>& out) {
  std::uint64_t state = seed * 0x2545f4914f6cdd1dULL ^ (i + 1) * 0x9e3779b97f4a7c15ULL;
  out.resize(per_file);
  for (auto& v : out) {
    // Lemire's multiply-shift: uniform enough in [0, max) for max << 2^64.
    __extension__ const unsigned __int128 m = static_cast<unsigned __int128>(splitmix64(state)) * max;
    v = static_cast<std::uint32_t>(m >> 64) + 1;
  }
}

void append_line(std::string& out, std::uint32_t v) {
  char buf[12];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  *r.ptr = '\n';
  out.append(buf, static_cast<std::size_t>(r.ptr - buf + 1));
}

}  // namespace scalekit::jobs::numbers
