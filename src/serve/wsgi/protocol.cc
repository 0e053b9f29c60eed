#include "protocol.h"

#include <array>

namespace scalekit::serve::wsgi::protocol {
namespace {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// A visible character, obs-text, space or tab.
constexpr bool is_text(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<int> parse_status(std::string_view status, std::string& why) {
  if (status.size() < 4 || !is_digit(status[0]) || !is_digit(status[1]) || !is_digit(status[2]) || status[3] != ' ') {
    why = "must be three digits, a space and a reason phrase, like '200 OK'";
    return std::nullopt;
  }
  for (const char c : status.substr(4)) {
    if (!is_text(c)) {
      why = "has a control character in its reason phrase";
      return std::nullopt;
    }
  }
  const int code = (status[0] - '0') * 100 + (status[1] - '0') * 10 + (status[2] - '0');
  if (code < 200 || code > 599) {
    why = "is not a final HTTP status (200..599)";
    return std::nullopt;
  }
  return code;
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool is_field_value(std::string_view s) noexcept {
  for (const char c : s)
    if (!is_text(c)) return false;
  return true;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool is_hop_by_hop(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 9> names = {
      "connection",        "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
      "transfer-encoding", "upgrade"};
  for (const auto n : names)
    if (iequals(name, n)) return true;
  return false;
}

std::optional<std::uint64_t> parse_content_length(std::string_view s) noexcept {
  if (s.empty() || s.size() > 18) return std::nullopt;  // 18 digits < 2^63
  std::uint64_t v = 0;
  for (const char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::string cgi_name(std::string_view header_name) {
  std::string out = "HTTP_";
  out.reserve(5 + header_name.size());
  for (const char c : header_name)
    out += c == '-' ? '_' : (c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::optional<std::string> normalise_mount(std::string_view mount, std::string& why) {
  if (mount.empty()) return std::string();
  if (mount.front() != '/') {
    why = "must start with '/'";
    return std::nullopt;
  }
  while (!mount.empty() && mount.back() == '/') mount.remove_suffix(1);
  return std::string(mount);
}

bool under_mount(std::string_view path, std::string_view mount) noexcept {
  if (mount.empty()) return true;
  if (path.substr(0, mount.size()) != mount) return false;
  return path.size() == mount.size() || path[mount.size()] == '/';
}

}  // namespace scalekit::serve::wsgi::protocol
