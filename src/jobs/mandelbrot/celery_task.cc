// The seed's Celery task, mandelbrot_tasks.mandelbrot_calc_row(y, w, h,
// max_iteration=1000), served by scalekit workers: same arguments, same result
// ({"<y*w+x>": [r, g, b], ...}, as Celery's JSON encodes the seed's dict).

#include <charconv>

#include "band.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"
#include "scalekit/taskqueue/celery.h"
#include "scalekit/taskqueue/client.h"

namespace scalekit::jobs::mandelbrot {

namespace {

std::uint32_t int_argument(std::string_view v, const char* name, std::uint64_t min, std::uint64_t max) {
  namespace tc = taskqueue::celery;
  if (!taskqueue::json_text::is_integer(v))
    throw tc::task_exception("TypeError", "builtins",
                             std::string(name) + " must be an integer, not " + taskqueue::json_text::minify(v));
  const auto n = tc::as_int64(v);
  if (!n || *n < static_cast<std::int64_t>(min) || static_cast<std::uint64_t>(*n) > max)
    throw tc::task_exception("ValueError", "builtins",
                             std::string(name) + " = " + std::string(v) + " is out of range [" + std::to_string(min) +
                                 ", " + std::to_string(max) + "]");
  return static_cast<std::uint32_t>(*n);
}

std::string calc_row(std::string_view args_json, std::string_view kwargs_json) {
  static const taskqueue::celery::parameter signature[] = {{"y"}, {"w"}, {"h"}, {"max_iteration", "1000"}};
  const auto v = taskqueue::celery::bind_arguments("mandelbrot_calc_row", signature, args_json, kwargs_json);
  params p;
  p.width = int_argument(v[1], "w", 1, max_side);
  p.height = int_argument(v[2], "h", 1, max_side);
  p.max_iterations = int_argument(v[3], "max_iteration", 1, 0xFFFFFFFFu);
  const std::uint32_t y = int_argument(v[0], "y", 0, p.height - 1);
  std::vector<std::uint32_t> counts(p.width);
  row_iterations_simd(p, y, counts.data());
  // Python's json.dumps spacing, as a Celery worker would store it.
  std::string out;
  out.reserve(std::size_t{p.width} * 24 + 2);
  out += '{';
  char buf[24];
  const std::uint64_t base = std::uint64_t{y} * p.width;
  for (std::uint32_t x = 0; x < p.width; ++x) {
    std::uint8_t rgb[3];
    colour(counts[x], rgb);
    if (x > 0) out += ", ";
    out += '"';
    out.append(buf, std::to_chars(buf, buf + sizeof buf, base + x).ptr);
    out += "\": [";
    out.append(buf, std::to_chars(buf, buf + sizeof buf, rgb[0]).ptr);
    out += ", ";
    out.append(buf, std::to_chars(buf, buf + sizeof buf, rgb[1]).ptr);
    out += ", ";
    out.append(buf, std::to_chars(buf, buf + sizeof buf, rgb[2]).ptr);
    out += ']';
  }
  out += '}';
  return out;
}

// One row's dict, {"<y*w+x>": [r, g, b], ...} (from any Celery worker: Python's
// json.dumps spacing or none), into the row's RGB bytes at `rgb`. Every pixel
// of the row must be there exactly once.
void parse_row(std::string_view text, std::uint32_t y, std::uint32_t w, std::uint8_t* rgb) {
  const std::uint64_t base = std::uint64_t{y} * w;
  std::size_t i = 0, seen = 0;
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument("row " + std::to_string(y) + ": " + what + " at byte " + std::to_string(i));
  };
  auto ws = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r')) ++i;
  };
  auto expect = [&](char c) {
    ws();
    if (i >= text.size() || text[i] != c) fail(std::string("expected '") + c + "'");
    ++i;
  };
  auto number = [&](std::uint64_t max) {
    ws();
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(text.data() + i, text.data() + text.size(), v);
    if (ec != std::errc() || v > max) fail("expected a number up to " + std::to_string(max));
    i = static_cast<std::size_t>(p - text.data());
    return v;
  };
  std::vector<bool> have(w, false);
  expect('{');
  ws();
  if (i < text.size() && text[i] == '}') fail("empty row");
  for (;;) {
    expect('"');
    const std::uint64_t key = number(~std::uint64_t{0});
    expect('"');
    expect(':');
    expect('[');
    std::uint8_t px[3];
    for (int k = 0; k < 3; ++k) {
      if (k > 0) expect(',');
      px[k] = static_cast<std::uint8_t>(number(255));
    }
    expect(']');
    if (key < base || key >= base + w) fail("pixel key " + std::to_string(key) + " outside the row");
    const std::size_t x = static_cast<std::size_t>(key - base);
    if (have[x]) fail("pixel " + std::to_string(x) + " twice");
    have[x] = true;
    ++seen;
    std::copy(px, px + 3, rgb + 3 * x);
    ws();
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    expect('}');
    break;
  }
  if (seen != w) fail(std::to_string(w - seen) + " pixels missing");
}

// mandelbrot.rows on Celery workers: one seed task per row of the band.
std::vector<std::pair<std::string, std::string>> band_to_tasks(std::string_view payload) {
  const band b = decode_band(payload);
  std::vector<std::pair<std::string, std::string>> tasks;
  if (!b.p.default_region()) return tasks;  // the seed's task draws only its own region
  for (std::uint32_t y = b.y0; y < b.y1; ++y)
    tasks.emplace_back(celery_row_task, "[" + std::to_string(y) + ", " + std::to_string(b.p.width) + ", " +
                                            std::to_string(b.p.height) + ", " + std::to_string(b.p.max_iterations) +
                                            "]");
  return tasks;
}

core::bytes band_from_results(std::string_view payload, const std::vector<std::string>& rows) {
  const band b = decode_band(payload);
  std::string rgb(std::size_t{b.p.width} * (b.y1 - b.y0) * 3, '\0');
  for (std::uint32_t y = b.y0; y < b.y1; ++y)
    parse_row(rows.at(y - b.y0), y, b.p.width,
              reinterpret_cast<std::uint8_t*>(rgb.data()) + std::size_t{y - b.y0} * b.p.width * 3);
  return rgb;
}

}  // namespace

void register_celery_tasks() {
  taskqueue::celery::register_task(celery_row_task, calc_row);
  taskqueue::register_celery_mapping(rows_task, {band_to_tasks, band_from_results});
}

}  // namespace scalekit::jobs::mandelbrot
