#pragma once
// dummyimage: the offline stand-in for dummyimage.com, which the seed's URL
// thumbnailers download from. GET /<W>x<H>/<bg>/<fg>.<jpg|png> returns a W x H
// image filled with the background colour, with a border and both diagonals
// drawn in the foreground colour (a label would need fonts, which a bare
// machine may lack), made with libvips on a core executor.

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "scalekit/core/executor.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::dummyimage {

/// Sides are 1..max_side: requests stay bounded (16 megapixels at most).
inline constexpr std::uint32_t max_side = 4000;

struct image_spec {
  std::uint32_t width = 0, height = 0;
  std::uint8_t bg[3] = {}, fg[3] = {};
  bool png = false;  ///< else JPEG
};

/// A request target: the spec, or 404 (not this shape of path) / 400 (the
/// shape, with a bad size or colour) with a message.
struct parsed_target {
  int status = 200;
  std::string message;
  image_spec spec;
};
/// Colours are 3 or 6 hex digits ("fff", "00ff00"), as dummyimage.com takes
/// them; a query string is ignored.
parsed_target parse_target(std::string_view target);

/// The encoded image (runs libvips in the calling thread).
std::string render(const image_spec& spec);

inline constexpr const char* render_task = "dummyimage.render";
std::string encode_render_call(const image_spec& spec);
void register_tasks();

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;  ///< 0: any free port
  /// Answer every Nth image request with 503 (0: never): a flaky origin, so
  /// clients' failure paths can be exercised and measured.
  std::uint64_t fail_every = 0;
  /// Serve until a stop is requested here (the stop signals, for the command line).
  std::stop_token stop;
};
/// Serve until o.stop is requested, rendering on `ex`. Fails when it cannot listen.
status serve(const server_options& o, core::executor& ex, const std::function<void(const std::string&)>& log);

}  // namespace scalekit::jobs::dummyimage
