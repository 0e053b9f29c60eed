#include "url_generator.h"

#include <utility>

namespace scalekit::jobs::thumbnail::detail {

url_generator::url_generator(std::string base, std::uint64_t seed) : base_(std::move(base)), rng_(seed) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

std::string url_generator::next() {
  static constexpr int sizes[] = {240, 320, 360, 480, 600, 720};
  std::uniform_int_distribution<int> pick(0, 5);
  const int w = sizes[pick(rng_)], h = sizes[pick(rng_)];
  // The foreground is drawn first: the order in which GCC evaluated the
  // earlier one-expression form, kept so that a seed gives the URLs it gave.
  const std::string fg = colour();
  const std::string bg = colour();
  return base_ + "/" + std::to_string(w) + "x" + std::to_string(h) + "/" + bg + "/" + fg + ".jpg";
}

std::string url_generator::colour() {
  std::string digits = "0123456789abcdef";
  std::string c;
  for (int k = 0; k < 3; ++k) {
    std::uniform_int_distribution<std::size_t> pick(0, digits.size() - 1);
    const std::size_t at = pick(rng_);
    c += digits[at];
    digits.erase(at, 1);  // random.sample: distinct digits
  }
  return c;
}

}  // namespace scalekit::jobs::thumbnail::detail
