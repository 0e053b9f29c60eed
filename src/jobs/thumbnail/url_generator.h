#pragma once
// Internal: the seed's ThumbnailURL_Generator. Each producer of the random-URL
// job owns one; the same base and seed give the same URLs.
//
//   url_generator gen("http://127.0.0.1:8000", 7);
//   gen.next();  // "http://127.0.0.1:8000/480x240/3af/c07.jpg"
//
// Not thread-safe: one producer calls it.

#include <cstdint>
#include <random>
#include <string>

namespace scalekit::jobs::thumbnail::detail {

class url_generator {
 public:
  /// `base` without its trailing slashes is the URLs' prefix.
  url_generator(std::string base, std::uint64_t seed);

  /// BASE/<W>x<H>/<bg>/<fg>.jpg: sides from the seed's list (240, 320, 360,
  /// 480, 600, 720), each colour three distinct hex digits (random.sample).
  std::string next();

 private:
  std::string colour();
  std::string base_;
  std::mt19937_64 rng_;
};

}  // namespace scalekit::jobs::thumbnail::detail
