#pragma once
// The pages of serve, embedded in the binary at build time
// (src/serve/web/CMakeLists.txt turns web/src and the npm packages' files
// into byte arrays): nothing is read from disk or the network when a page loads.
//
//   /            the Mandelbrot explorer (web/src/explorer.html)
//   /fleet       the live dashboard (web/src/fleet.html)
//   /web/NAME    their scripts and styles, Leaflet's and uPlot's among them

#include <span>
#include <string_view>

namespace scalekit::serve::web {

struct asset {
  std::string_view path;          ///< where it is served
  std::string_view content_type;  ///< from the file's extension
  std::string_view etag;          ///< a strong entity tag of the content ("\"<16 hex digits>\"")
  std::string_view body;
};

/// Every embedded asset (static storage).
std::span<const asset> assets() noexcept;
/// The asset served at `path`, or nullptr.
const asset* find_asset(std::string_view path) noexcept;

}  // namespace scalekit::serve::web
