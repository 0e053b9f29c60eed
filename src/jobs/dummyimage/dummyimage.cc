// dummyimage: paths, rendering with libvips, the render task, and the HTTP service.

#include "scalekit/jobs/dummyimage/dummyimage.h"

#include <charconv>
#include <chrono>
#include <vips/vips8>

#include "imaging/vips_support.h"
#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"
#include "scalekit/net/http_server.h"

namespace scalekit::jobs::dummyimage {

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_colour(std::string_view s, std::uint8_t out[3]) {
  if (s.size() != 3 && s.size() != 6) return false;
  for (char c : s)
    if (hex(c) < 0) return false;
  for (int k = 0; k < 3; ++k)
    out[k] = s.size() == 3 ? static_cast<std::uint8_t>(hex(s[k]) * 17)
                           : static_cast<std::uint8_t>(hex(s[2 * k]) * 16 + hex(s[2 * k + 1]));
  return true;
}

bool parse_side(std::string_view s, std::uint32_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

constexpr const char* render_task = "dummyimage.render";

std::string encode_render_call(const image_spec& s) {
  return core::wire_writer()
      .put(s.width)
      .put(s.height)
      .put(s.bg[0])
      .put(s.bg[1])
      .put(s.bg[2])
      .put(s.fg[0])
      .put(s.fg[1])
      .put(s.fg[2])
      .put(static_cast<std::uint8_t>(s.png))
      .take();
}

parsed_target not_found() { return {404, "not found: the path is /<W>x<H>/<bg>/<fg>.<jpg|png>", {}}; }

}  // namespace

parsed_target parse_target(std::string_view target) {
  target = target.substr(0, target.find_first_of("?#"));
  if (target.empty() || target[0] != '/') return not_found();
  target.remove_prefix(1);
  std::string_view parts[3];
  for (int k = 0; k < 3; ++k) {
    const auto slash = target.find('/');
    if ((k < 2) == (slash == std::string_view::npos)) return not_found();
    parts[k] = target.substr(0, slash);
    target = k < 2 ? target.substr(slash + 1) : std::string_view{};
  }
  const auto dot = parts[2].rfind('.');
  if (dot == std::string_view::npos) return not_found();
  const std::string_view ext = parts[2].substr(dot + 1), fg = parts[2].substr(0, dot);
  parsed_target r;
  if (ext == "png") {
    r.spec.png = true;
  } else if (ext != "jpg" && ext != "jpeg") {
    return not_found();
  }
  const auto x = parts[0].find('x');
  if (x == std::string_view::npos || !parse_side(parts[0].substr(0, x), r.spec.width) ||
      !parse_side(parts[0].substr(x + 1), r.spec.height))
    return {400, "bad size '" + std::string(parts[0]) + "': expected <W>x<H>", {}};
  if (r.spec.width < 1 || r.spec.height < 1 || r.spec.width > max_side || r.spec.height > max_side)
    return {400, "size " + std::string(parts[0]) + " out of range: sides 1.." + std::to_string(max_side), {}};
  if (!parse_colour(parts[1], r.spec.bg)) return {400, "bad background colour '" + std::string(parts[1]) + "'", {}};
  if (!parse_colour(fg, r.spec.fg)) return {400, "bad foreground colour '" + std::string(fg) + "'", {}};
  return r;
}

std::string render(const image_spec& s) {
  imaging::ensure_vips();
  const std::vector<double> bg = {double(s.bg[0]), double(s.bg[1]), double(s.bg[2])};
  const std::vector<double> fg = {double(s.fg[0]), double(s.fg[1]), double(s.fg[2])};
  vips::VImage im = vips::VImage::black(static_cast<int>(s.width), static_cast<int>(s.height),
                                        vips::VImage::option()->set("bands", 3))
                        .new_from_image(bg)
                        .cast(VIPS_FORMAT_UCHAR)
                        .copy(vips::VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB))
                        .copy_memory();  // the draw operations below paint in place
  const int w = static_cast<int>(s.width), h = static_cast<int>(s.height);
  const int border = std::max(1, std::min(w, h) / 60);
  for (int k = 0; k < border; ++k) im.draw_rect(fg, k, k, w - 2 * k, h - 2 * k);
  im.draw_line(fg, 0, 0, w - 1, h - 1);
  im.draw_line(fg, w - 1, 0, 0, h - 1);
  void* buf = nullptr;
  std::size_t size = 0;
  im.write_to_buffer(s.png ? ".png" : ".jpg", &buf, &size);
  std::string out(static_cast<const char*>(buf), size);
  g_free(buf);
  return out;
}

void register_tasks() {
  core::task_registry::global().add(render_task, [](std::string_view payload) -> core::bytes {
    core::wire_reader in(payload);
    image_spec s;
    s.width = in.get<std::uint32_t>();
    s.height = in.get<std::uint32_t>();
    for (auto& c : s.bg) c = in.get<std::uint8_t>();
    for (auto& c : s.fg) c = in.get<std::uint8_t>();
    s.png = in.get<std::uint8_t>() != 0;
    in.expect_end();
    if (s.width < 1 || s.height < 1 || s.width > max_side || s.height > max_side)
      throw std::invalid_argument("dummyimage.render: size out of range");
    return render(s);
  });
}

result<core::report> serve(const server_options& o, core::executor& ex, core::observer& obs) {
  net::http_server_options ho;
  ho.host = o.host;
  ho.port = o.port;
  ho.max_connections = o.max_connections;
  ho.head_timeout = o.head_timeout;
  ho.idle_timeout = o.idle_timeout;
  ho.limits.max_body = 64 << 10;  // an image request has no use for a body
  ho.stop = obs.stop_token();
  // A coroutine lambda must take what it uses as parameters (GCC 12).
  std::uint64_t image_requests = 0;  // the loop is one thread
  auto handle = [](const net::http_request& req, core::executor* exec, std::uint64_t* counter,
                   std::uint64_t fail_every) -> core::task<net::http_response> {
    net::http_response resp;
    if (req.method != "GET" && req.method != "HEAD") {
      resp.status = 405;
      resp.body = "only GET and HEAD\n";
      resp.headers.push_back({"Allow", "GET, HEAD"});
      co_return resp;
    }
    const parsed_target t = parse_target(req.target);
    if (t.status != 200) {
      resp.status = t.status;
      resp.body = t.message + "\n";
      co_return resp;
    }
    if (fail_every > 0 && ++*counter % fail_every == 0) {
      resp.status = 503;
      resp.body = "failing on purpose (--fail-every)\n";
      co_return resp;
    }
    std::string call = encode_render_call(t.spec);
    auto r = co_await core::async_call(*exec, render_task, std::move(call));
    if (!r.ok()) {
      resp.status = 500;
      resp.body = r.error().message() + "\n";
      co_return resp;
    }
    resp.content_type = t.spec.png ? "image/png" : "image/jpeg";
    resp.body = std::move(r).value();
    co_return resp;
  };
  const core::cancel_on_stop stop_guard(ex, obs);  // renders still running end with the service
  const auto t0 = std::chrono::steady_clock::now();
  auto stats = net::serve_http(
      ho, [&](const net::http_request& req) { return handle(req, &ex, &image_requests, o.fail_every); },
      [&obs](const std::string& line) { obs.message(line); });
  // A bad address is a bad option (exit status 2, as for every service);
  // not listening for another reason (the port is taken) is a failure.
  if (!stats.ok())
    return stats.error().code() == status_code::invalid_argument ? stats.error()
                                                                 : status::io_error(stats.error().message());

  core::report r("dummyimage serve");
  r.work = "served " + std::to_string(stats->requests) + " requests on " + std::to_string(stats->connections) +
           " connections";
  r.elapsed = std::chrono::steady_clock::now() - t0;
  r.items = static_cast<double>(stats->requests);
  r.unit = "requests";
  r.add("requests", stats->requests, "");  // the head says these
  r.add("connections", stats->connections, "");
  r.add("client_errors", stats->client_errors, "{} client errors");
  r.add("refused", stats->refused, stats->refused > 0 ? "{} connections refused at the limit" : "");
  r.add("busy", stats->busy, stats->busy > 0 ? "{} requests refused busy" : "");
  r.add("timeouts", stats->timeouts, stats->timeouts > 0 ? "{} timed out" : "");
  core::add_executor_fields(r, ex);
  return r;
}

}  // namespace scalekit::jobs::dummyimage
