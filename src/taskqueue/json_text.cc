#include "scalekit/taskqueue/json_text.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace scalekit::taskqueue::json_text {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Bytes a string may hold without a closer look: printable ASCII other than
// the quote and the backslash.
constexpr std::array<bool, 256> plain_table() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}
constexpr auto plain = plain_table();

// One pass over JSON text. Every function leaves `i` after what it read, or
// returns false with `error` set.
struct scanner {
  explicit scanner(std::string_view text) : s(text) {}
  std::string_view s;
  std::size_t i = 0;
  std::string error;

  bool fail(const char* what) {
    if (error.empty()) error = std::string(what) + " at byte " + std::to_string(i);
    return false;
  }
  void ws() {
    while (i < s.size() && is_ws(s[i])) ++i;
  }
  bool at(char c) const { return i < s.size() && s[i] == c; }

  bool literal(std::string_view word) {
    if (s.substr(i, word.size()) != word) return fail("unexpected character");
    i += word.size();
    return true;
  }

  // A UTF-8 sequence starting at s[i] (a byte >= 0x80).
  bool utf8() {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t min = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2;
      min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3;
      min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4;
      min = 0x10000;
    } else {
      return fail("invalid UTF-8");
    }
    if (i + len > s.size()) return fail("invalid UTF-8");
    std::uint32_t cp = b0 & (0x7f >> len);
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return fail("invalid UTF-8");
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff) return fail("invalid UTF-8");
    i += len;
    return true;
  }

  bool string() {
    ++i;  // the opening quote
    for (;;) {
      while (i < s.size() && plain[static_cast<unsigned char>(s[i])]) ++i;
      if (i >= s.size()) return fail("unterminated string");
      const char c = s[i];
      if (c == '"') {
        ++i;
        return true;
      }
      if (c == '\\') {
        if (i + 1 >= s.size()) return fail("unterminated string");
        const char e = s[i + 1];
        if (e == 'u') {
          if (i + 6 > s.size() || !is_hex(s[i + 2]) || !is_hex(s[i + 3]) || !is_hex(s[i + 4]) || !is_hex(s[i + 5]))
            return fail("bad \\u escape");
          i += 6;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
          i += 2;
        } else {
          return fail("bad escape");
        }
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return fail("control character in a string");
      } else if (c == 0x7f) {
        ++i;
      } else if (!utf8()) {
        return false;
      }
    }
  }

  bool digits() {
    if (i >= s.size() || !is_digit(s[i])) return fail("bad number");
    while (i < s.size() && is_digit(s[i])) ++i;
    return true;
  }

  bool number() {
    if (at('-')) {
      ++i;
      if (at('I')) return literal("Infinity");
    }
    if (at('0')) {
      ++i;
    } else if (!digits()) {
      return false;
    }
    if (at('.')) {
      ++i;
      if (!digits()) return false;
    }
    if (at('e') || at('E')) {
      ++i;
      if (at('+') || at('-')) ++i;
      if (!digits()) return false;
    }
    return true;
  }

  // A scalar at s[i] (not an array or object).
  bool scalar() {
    if (i >= s.size()) return fail("unexpected end");
    switch (s[i]) {
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      case 'N': return literal("NaN");
      case 'I': return literal("Infinity");
      default: return is_digit(s[i]) || s[i] == '-' ? number() : fail("unexpected character");
    }
  }

  // An object member's key and colon, at s[i] after whitespace.
  bool key() {
    ws();
    if (!at('"')) return fail("expected a string key");
    if (!string()) return false;
    ws();
    if (!at(':')) return fail("expected ':'");
    ++i;
    return true;
  }

  // One value of any kind, at s[i] after whitespace. Iterative: the
  // containers open are kept in `closers`, never on the call stack.
  bool value() {
    std::array<char, max_depth> closers{};
    std::size_t depth = 0;
    for (;;) {
      ws();
      if (i >= s.size()) return fail("unexpected end");
      bool done = false;  // a value was completed: look for ',' or a closer
      if (s[i] == '[' || s[i] == '{') {
        if (depth == max_depth) return fail("nested too deeply");
        const bool object = s[i] == '{';
        closers[depth++] = object ? '}' : ']';
        ++i;
        ws();
        if (at(closers[depth - 1])) {
          ++i;
          --depth;
          done = true;
        } else if (object && !key()) {
          return false;
        }
      } else {
        if (!scalar()) return false;
        done = true;
      }
      while (done) {
        if (depth == 0) return true;
        ws();
        if (at(',')) {
          ++i;
          if (closers[depth - 1] == '}' && !key()) return false;
          done = false;
        } else if (at(closers[depth - 1])) {
          ++i;
          --depth;
        } else {
          return fail(closers[depth - 1] == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
        }
      }
    }
  }

  bool end() {
    ws();
    return i == s.size() || fail("text after the value");
  }
};

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::uint32_t hex4(std::string_view s) {
  std::uint32_t v = 0;
  std::from_chars(s.data(), s.data() + 4, v, 16);
  return v;
}

// Re-emit a valid value with its whitespace removed, and `comma` / `colon`
// after each separator outside strings.
std::string respace(std::string_view v, std::string_view comma, std::string_view colon) {
  std::string out;
  out.reserve(v.size());
  bool in_string = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (in_string) {
      out += c;
      if (c == '\\') {
        out += v[++i];
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out += c;
    } else if (c == ',') {
      out += comma;
    } else if (c == ':') {
      out += colon;
    } else if (!is_ws(c)) {
      out += c;
    }
  }
  return out;
}

constexpr std::size_t repr_depth = 64;  // deeper values are shown as JSON

void repr_into(std::string& out, std::string_view v, std::size_t depth) {
  switch (kind_of(v)) {
    case kind::null: out += "None"; return;
    case kind::boolean: out += v == "true" ? "True" : "False"; return;
    case kind::string: out += py_str_repr(*string_value(v)); return;
    case kind::number: {
      if (is_integer(v)) {
        out += v;
      } else if (v == "NaN") {
        out += "nan";
      } else if (v == "Infinity" || v == "-Infinity") {
        out += v[0] == '-' ? "-inf" : "inf";
      } else {
        out += py_float_repr(std::strtod(std::string(v).c_str(), nullptr));
      }
      return;
    }
    case kind::array: {
      if (depth >= repr_depth) {
        out += minify(v);
        return;
      }
      out += '[';
      bool first = true;
      const auto items = elements(v);
      for (std::string_view e : items.value()) {
        if (!first) out += ", ";
        first = false;
        repr_into(out, e, depth + 1);
      }
      out += ']';
      return;
    }
    case kind::object: {
      if (depth >= repr_depth) {
        out += minify(v);
        return;
      }
      out += '{';
      bool first = true;
      const auto fields = members(v);
      for (const member& m : fields.value()) {
        if (!first) out += ", ";
        first = false;
        out += py_str_repr(m.key);
        out += ": ";
        repr_into(out, m.value, depth + 1);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

status validate(std::string_view text) {
  scanner sc(text);
  sc.ws();
  if (!sc.value() || !sc.end()) return status::corruption(sc.error);
  return {};
}

kind kind_of(std::string_view value) {
  if (value.empty()) return kind::null;
  switch (value[0]) {
    case '"': return kind::string;
    case '[': return kind::array;
    case '{': return kind::object;
    case 't':
    case 'f': return kind::boolean;
    case 'n': return kind::null;
    default: return kind::number;
  }
}

result<std::vector<std::string_view>> elements(std::string_view array) {
  scanner sc(array);
  sc.ws();
  if (!sc.at('[')) return status::corruption("not a JSON array");
  ++sc.i;
  std::vector<std::string_view> out;
  sc.ws();
  if (sc.at(']')) {
    ++sc.i;
  } else {
    for (;;) {
      sc.ws();
      const std::size_t start = sc.i;
      if (!sc.value()) return status::corruption(sc.error);
      out.push_back(array.substr(start, sc.i - start));
      sc.ws();
      if (sc.at(']')) {
        ++sc.i;
        break;
      }
      if (!sc.at(',')) return status::corruption("expected ',' or ']' at byte " + std::to_string(sc.i));
      ++sc.i;
    }
  }
  if (!sc.end()) return status::corruption(sc.error);
  return out;
}

result<std::vector<member>> members(std::string_view object) {
  scanner sc(object);
  sc.ws();
  if (!sc.at('{')) return status::corruption("not a JSON object");
  ++sc.i;
  std::vector<member> out;
  sc.ws();
  if (sc.at('}')) {
    ++sc.i;
  } else {
    for (;;) {
      sc.ws();
      if (!sc.at('"')) return status::corruption("expected a string key at byte " + std::to_string(sc.i));
      const std::size_t key_start = sc.i;
      if (!sc.string()) return status::corruption(sc.error);
      const std::string_view key_text = object.substr(key_start, sc.i - key_start);
      sc.ws();
      if (!sc.at(':')) return status::corruption("expected ':' at byte " + std::to_string(sc.i));
      ++sc.i;
      sc.ws();
      const std::size_t start = sc.i;
      if (!sc.value()) return status::corruption(sc.error);
      out.push_back({*string_value(key_text), object.substr(start, sc.i - start)});
      sc.ws();
      if (sc.at('}')) {
        ++sc.i;
        break;
      }
      if (!sc.at(',')) return status::corruption("expected ',' or '}' at byte " + std::to_string(sc.i));
      ++sc.i;
    }
  }
  if (!sc.end()) return status::corruption(sc.error);
  return out;
}

std::optional<std::string_view> find(const std::vector<member>& members, std::string_view key) {
  for (auto it = members.rbegin(); it != members.rend(); ++it)
    if (it->key == key) return it->value;
  return std::nullopt;
}

std::optional<std::string> string_value(std::string_view value) {
  if (value.size() < 2 || value.front() != '"') return std::nullopt;
  std::string out;
  out.reserve(value.size() - 2);
  for (std::size_t i = 1; i + 1 < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    const char e = value[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        std::uint32_t cp = hex4(value.substr(i + 1, 4));
        i += 4;
        // A surrogate pair is one code point; a lone surrogate is kept as Python keeps it.
        if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < value.size() && value[i + 1] == '\\' && value[i + 2] == 'u') {
          const std::uint32_t low = hex4(value.substr(i + 3, 4));
          if (low >= 0xdc00 && low < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            i += 6;
          }
        }
        append_utf8(out, cp);
        break;
      }
      default: out += e; break;  // " \ /
    }
  }
  return out;
}

namespace {

// The bytes `c` takes inside a quoted string.
std::size_t quoted_width(char c) {
  switch (c) {
    case '"':
    case '\\':
    case '\n':
    case '\r':
    case '\t':
    case '\b':
    case '\f': return 2;
    default: return static_cast<unsigned char>(c) < 0x20 ? 6 : 1;
  }
}

}  // namespace

std::size_t quoted_size(std::string_view text) {
  std::size_t size = 2;
  for (const char c : text) size += quoted_width(c);
  return size;
}

void append_quoted(std::string& out, std::string_view text) {
  static const char* const hex = "0123456789abcdef";
  out.reserve(out.size() + quoted_size(text));
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += hex[(c >> 4) & 0xf];
          out += hex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string quote(std::string_view text) {
  std::string out;
  append_quoted(out, text);
  return out;
}

std::string minify(std::string_view value) { return respace(value, ",", ":"); }

std::string python_dumps(std::string_view value) { return respace(value, ", ", ": "); }

std::string py_repr(std::string_view value) {
  std::string out;
  repr_into(out, value, 0);
  return out;
}

std::string py_str_repr(std::string_view text) {
  static const char* const hex = "0123456789abcdef";
  const bool has_single = text.find('\'') != std::string_view::npos;
  const char q = has_single && text.find('"') == std::string_view::npos ? '"' : '\'';
  std::string out;
  out.reserve(text.size() + 2);
  out += q;
  for (const char c : text) {
    if (c == q || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
    } else {
      out += c;
    }
  }
  out += q;
  return out;
}

std::string py_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  // The shortest digits that read back as v, then Python's layout: fixed
  // notation for exponents -4..15, scientific otherwise.
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
  const std::size_t e_at = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_at))
    if (c != '.') digits += c;
  int exp = 0;
  std::from_chars(sci.data() + e_at + (sci[e_at + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exp);
  std::string out = std::signbit(v) ? "-" : "";
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      const auto int_len = static_cast<std::size_t>(exp) + 1;
      if (digits.size() <= int_len) {
        out += digits + std::string(int_len - digits.size(), '0') + ".0";
      } else {
        out += digits.substr(0, int_len) + "." + digits.substr(int_len);
      }
    } else {
      out += "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exp < 0 ? "e-" : "e+";
    const std::string e = std::to_string(exp < 0 ? -exp : exp);
    out += (e.size() < 2 ? "0" : "") + e;
  }
  return out;
}

bool is_integer(std::string_view value) {
  std::size_t i = !value.empty() && value[0] == '-' ? 1 : 0;
  if (i >= value.size()) return false;
  for (; i < value.size(); ++i)
    if (!is_digit(value[i])) return false;
  return true;
}

}  // namespace scalekit::taskqueue::json_text
