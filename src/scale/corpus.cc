// The inputs of the thumbnail and search workloads (workloads.h): made once
// before a sweep, the same for the same size.

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "scalekit/core/atomic_file.h"
#include "workloads.h"

namespace scalekit::scale {

namespace {

namespace fs = std::filesystem;

// bench/thumbnail/make_corpus.py's sizes: landscape and portrait photos.
constexpr std::array<std::array<int, 2>, 8> image_sizes{
    {{800, 600}, {1024, 768}, {1280, 960}, {1600, 1200}, {2048, 1536}, {2400, 1600}, {1200, 1600}, {600, 800}}};

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

// 512 made-up words of two to four syllables, the same every time.
const std::vector<std::string>& vocabulary() {
  static const std::vector<std::string> words = [] {
    constexpr std::array<const char*, 16> syllables{"ka",  "lo",  "mi",  "ne",  "ru",  "sa",  "ti",  "vo",
                                                    "ber", "dan", "fel", "gor", "hul", "jin", "pex", "quo"};
    std::vector<std::string> out;
    std::uint64_t state = 7;
    while (out.size() < 512) {
      const auto r = splitmix(state);
      std::string w;
      for (std::uint64_t k = 0, n = 2 + r % 3; k < n; ++k) w += syllables[(r >> (8 + 4 * k)) & 15];
      out.push_back(std::move(w));
    }
    return out;
  }();
  return words;
}

// A word by a skewed draw: low indices are common, high ones rare.
const std::string& draw_word(std::uint64_t& state) {
  const auto& v = vocabulary();
  const double u = static_cast<double>(splitmix(state) >> 11) / 9007199254740992.0;
  return v[static_cast<std::size_t>(u * u * u * static_cast<double>(v.size()))];
}

}  // namespace

status write_image_corpus(std::uint64_t count, const std::string& dir) {
  const std::string images = dir + "/images";
  std::error_code ec;
  fs::create_directories(images, ec);
  if (ec) return status::io_error(fmt::format("cannot make '{}': {}", images, ec.message()));
  const auto name = [&](std::uint64_t i) { return fmt::format("{}/img{:04}.png", images, i); };
  for (std::uint64_t i = 0; i < count; ++i) {
    if (i < image_sizes.size()) {  // 30 iterations: detail everywhere, quick to draw
      const auto [w, h] = image_sizes[i];
      if (auto st =
              run_scalekit({"mandelbrot", "-W", std::to_string(w), "-H", std::to_string(h), "-n", "30", "-o", name(i)});
          !st.ok())
        return st;
    } else if (!fs::copy_file(name(i % image_sizes.size()), name(i), fs::copy_options::overwrite_existing, ec)) {
      return status::io_error(fmt::format("cannot copy to '{}': {}", name(i), ec.message()));
    }
  }
  return {};
}

status write_text_corpus(std::uint64_t files, const std::string& dir) {
  std::uint64_t state = 1;
  std::string text;
  for (std::uint64_t i = 0; i < files; ++i) {
    const std::string sub = fmt::format("{}/text/d{:03}", dir, i / 100);
    if (i % 100 == 0) {
      std::error_code ec;
      fs::create_directories(sub, ec);
      if (ec) return status::io_error(fmt::format("cannot make '{}': {}", sub, ec.message()));
    }
    text.clear();
    for (int line = 0; line < 100; ++line) {
      const auto words = 4 + splitmix(state) % 9;
      for (std::uint64_t k = 0; k < words; ++k) {
        if (k > 0) text += ' ';
        text += draw_word(state);
      }
      text += '\n';
    }
    if (auto st = core::atomic_file::write_whole(fmt::format("{}/f{:05}.txt", sub, i % 100), text); !st.ok()) return st;
  }
  return {};
}

const std::vector<std::string>& search_queries() {
  static const std::vector<std::string> queries = [] {
    const auto& v = vocabulary();
    std::vector<std::string> out;
    for (std::size_t k = 0; k < 30; ++k) out.push_back(v[k * k * 17 % v.size()]);  // common to rare
    for (std::size_t k = 0; k < 9; ++k) out.push_back(v[k] + " " + v[k + 1]);      // phrases of common words
    out.emplace_back("nothing matches this");
    return out;
  }();
  return queries;
}

}  // namespace scalekit::scale
