// CSV and JSON measurements for `scale fit`.

#include "scalekit/scale/input.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "scalekit/core/input_file.h"

namespace scalekit::scale {

namespace {

enum class column { none, n, x };

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A cell without its spaces and its quotes, if quoted.
std::string_view cell(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

column column_of(std::string_view name) {
  const std::string k = lower(cell(name));
  if (k == "n" || k == "workers" || k == "concurrency" || k == "load" || k == "users" || k == "threads" ||
      k == "processors" || k == "clients")
    return column::n;
  if (k == "x" || k == "throughput" || k == "rate") return column::x;
  return column::none;
}

constexpr const char* n_names = "n, workers, concurrency, load, users, threads, processors or clients";
constexpr const char* x_names = "x, throughput or rate";

status error_at(std::string_view name, int line, const std::string& problem) {
  return status::invalid_argument(std::string(name) + ":" + std::to_string(line) + ": " + problem);
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> cells;
  for (std::size_t start = 0;;) {
    const auto comma = line.find(',', start);
    cells.push_back(cell(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

std::optional<double> number(std::string_view s) {
  double v = 0;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// The checks every measurement passes, whatever its format.
status check_value(std::string_view name, int line, double n, double x) {
  if (n < 1) return error_at(name, line, "concurrency must be at least 1");
  if (x < 0) return error_at(name, line, "throughput must not be negative");
  return {};
}

result<std::vector<measurement>> parse_csv(std::string_view text, std::string_view name) {
  std::vector<measurement> out;
  std::size_t n_col = 0, x_col = 0;
  bool have_header = false;
  int line_no = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto body = trim(line);
    if (body.empty() || body.front() == '#') continue;
    const auto cells = split(body);
    if (!have_header) {
      std::optional<std::size_t> nc, xc;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        const auto c = column_of(cells[i]);
        if (c == column::n && !nc) nc = i;
        if (c == column::x && !xc) xc = i;
      }
      if (!nc || !xc)
        return error_at(name, line_no,
                        std::string("the header must name a concurrency column (") + n_names +
                            ") and a throughput column (" + x_names + ")");
      n_col = *nc;
      x_col = *xc;
      have_header = true;
      continue;
    }
    if (cells.size() <= std::max(n_col, x_col))
      return error_at(name, line_no,
                      "expected " + std::to_string(std::max(n_col, x_col) + 1) + " columns, got " +
                          std::to_string(cells.size()));
    const auto n = number(cells[n_col]);
    if (!n) return error_at(name, line_no, "concurrency '" + std::string(cells[n_col]) + "' is not a number");
    const auto x = number(cells[x_col]);
    if (!x) return error_at(name, line_no, "throughput '" + std::string(cells[x_col]) + "' is not a number");
    if (auto st = check_value(name, line_no, *n, *x); !st.ok()) return st;
    out.push_back({*n, *x, line_no});
  }
  if (!have_header) return error_at(name, std::max(line_no, 1), "no header and no data");
  return out;
}

// The line of each top-level array element that opens with '{', in order:
// a scan that skips strings, since the JSON library keeps no positions.
std::vector<int> element_lines(std::string_view text) {
  std::vector<int> lines;
  int line = 1, depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (c == '\n') ++line;
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '[' || c == '{') {
      if (c == '{' && depth == 1) lines.push_back(line);
      ++depth;
    }
    if (c == ']' || c == '}') --depth;
  }
  return lines;
}

int line_at(std::string_view text, std::size_t byte) {
  byte = std::min(byte, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n'));
}

result<std::vector<measurement>> parse_json(std::string_view text, std::string_view name) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based: the byte at which parsing stopped.
    const int line = line_at(text, e.byte > 0 ? e.byte - 1 : 0);
    return error_at(name, line, "not valid JSON");
  } catch (const nlohmann::json::out_of_range& e) {
    // A number past a double (1e400): the library names it, not its place.
    const std::string what = e.what();
    const auto quote = what.find("parsing '");
    std::string number = quote == std::string::npos ? "" : what.substr(quote + 9);
    number = number.substr(0, number.find('\''));
    const auto at = number.empty() ? std::string_view::npos : text.find(number);
    return error_at(name, at == std::string_view::npos ? 1 : line_at(text, at),
                    number.empty() ? "a number out of range" : "'" + number + "' is out of range");
  }
  if (!doc.is_array()) return error_at(name, 1, "expected an array of objects");
  const auto lines = element_lines(text);
  std::vector<measurement> out;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto& e = doc[i];
    const int line = i < lines.size() ? lines[i] : 1;
    if (!e.is_object()) return error_at(name, line, "element " + std::to_string(i + 1) + " is not an object");
    const nlohmann::json* nv = nullptr;
    const nlohmann::json* xv = nullptr;
    for (const auto& [k, v] : e.items()) {
      const auto c = column_of(k);
      if (c == column::n && !nv) nv = &v;
      if (c == column::x && !xv) xv = &v;
    }
    if (!nv || !xv)
      return error_at(name, line,
                      std::string("each object needs a concurrency (") + n_names + ") and a throughput (" + x_names +
                          ")");
    if (!nv->is_number()) return error_at(name, line, "concurrency is not a number");
    if (!xv->is_number()) return error_at(name, line, "throughput is not a number");
    const double n = nv->get<double>(), x = xv->get<double>();
    if (auto st = check_value(name, line, n, x); !st.ok()) return st;
    out.push_back({n, x, line});
  }
  return out;
}

}  // namespace

result<std::vector<measurement>> parse_measurements(std::string_view text, std::string_view name) {
  const auto first = text.find_first_not_of(" \t\r\n");
  auto parsed = first != std::string_view::npos && text[first] == '[' ? parse_json(text, name) : parse_csv(text, name);
  if (!parsed.ok()) return parsed;
  if (parsed->empty()) return error_at(name, line_at(text, text.size()), "no measurements");
  return parsed;
}

result<std::vector<measurement>> read_measurements(const std::string& path) {
  std::string text;
  if (path == "-") {
    // Bounded like a file: a stream that never ends must not fill memory.
    char buf[65536];
    while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
      text.append(buf, static_cast<std::size_t>(std::cin.gcount()));
      if (text.size() > max_input_bytes)
        return status::too_large("stdin is larger than " + std::to_string(max_input_bytes) + " bytes");
    }
    if (std::cin.bad()) return status::io_error("cannot read stdin");
    return parse_measurements(text, "stdin");
  }
  auto file = core::open_input(path);  // a FIFO, a device or a directory is refused here
  if (!file.ok()) return file.error();
  if (auto st = file->read_all(text, max_input_bytes); !st.ok()) return st;
  return parse_measurements(text, path);
}

}  // namespace scalekit::scale
