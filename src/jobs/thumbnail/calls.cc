// The thumbnail calls' payloads and answers, and the box's parsing, apart from
// the code that makes thumbnails: a server uses them without linking libvips (png_call.h).

#include <charconv>

#include "scalekit/core/wire.h"
#include "scalekit/jobs/thumbnail/png_call.h"
#include "tasks.h"

namespace scalekit::jobs::thumbnail {

namespace {

constexpr std::uint32_t max_side = 10000;

}  // namespace

namespace detail {

void put_options(core::wire_writer& w, const options& o) { w.put(o.width).put(o.height).put(o.max_pixels); }
options get_options(core::wire_reader& in) {
  options o;
  o.width = in.get<std::uint32_t>();
  o.height = in.get<std::uint32_t>();
  o.max_pixels = in.get<std::uint64_t>();
  return o;
}

std::string encode_report(const report& r) {
  return core::wire_writer()
      .put(static_cast<std::uint8_t>(r.what))
      .put_string(r.reason)
      .put(r.width)
      .put(r.height)
      .put(r.source_width)
      .put(r.source_height)
      .take();
}

report decode_report(std::string_view bytes) {
  core::wire_reader in(bytes);
  report r;
  r.what = static_cast<outcome>(in.get<std::uint8_t>());
  r.reason = std::string(in.get_string());
  r.width = in.get<std::uint32_t>();
  r.height = in.get<std::uint32_t>();
  r.source_width = in.get<std::uint32_t>();
  r.source_height = in.get<std::uint32_t>();
  in.expect_end();
  return r;
}

report report_of(const result<std::string>& call_result) {
  if (!call_result.ok()) return report{outcome::failed, "the decoder failed: " + call_result.error().message()};
  try {
    return decode_report(call_result.value());
  } catch (const std::exception& e) {
    return report{outcome::failed, std::string("the decoder failed: ") + e.what()};
  }
}

}  // namespace detail

result<std::pair<std::uint32_t, std::uint32_t>> parse_size(std::string_view text) {
  const auto number = [](std::string_view s, std::uint32_t& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() && v >= 1 && v <= max_side;
  };
  std::uint32_t w = 0, h = 0;
  const auto x = text.find('x');
  const bool ok = x == std::string_view::npos ? number(text, w) && number(text, h)
                                              : number(text.substr(0, x), w) && number(text.substr(x + 1), h);
  if (!ok)
    return status::invalid_argument("size '" + std::string(text) + "' is not WxH or N with sides from 1 to " +
                                    std::to_string(max_side));
  return std::pair{w, h};
}

std::string encode_png_call(std::string_view image, const options& o) {
  core::wire_writer w;
  w.put_string(image);
  detail::put_options(w, o);
  return w.take();
}

png_answer png_answer_of(const result<std::string>& call_result) {
  if (!call_result.ok()) return {report{outcome::failed, "the decoder failed: " + call_result.error().message()}, {}};
  try {
    core::wire_reader in(call_result.value());
    png_answer a{detail::decode_report(in.get_string()), std::string(in.get_string())};
    in.expect_end();
    return a;
  } catch (const std::exception& e) {
    return {report{outcome::failed, std::string("the decoder failed: ") + e.what()}, {}};
  }
}

}  // namespace scalekit::jobs::thumbnail
