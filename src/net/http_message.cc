// HTTP/1.1 requests and responses: bytes in, text out. The parser reads the
// head line by line (each line bounded before it is stored) and the body as
// it comes; it never allocates for what a client only announced.

#include <algorithm>
#include <limits>

#include "scalekit/net/http.h"

namespace scalekit::net {

namespace {

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

// A byte of a field value (RFC 9110 5.5): visible characters, obs-text, space
// and tab; no NUL, no other control character, no DEL.
bool is_value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

bool is_ows(char c) { return c == ' ' || c == '\t'; }

bool is_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A Host field value (RFC 9110 7.2, RFC 3986 3.2.2): uri-host [ ":" port ], the
// host a reg-name (unreserved, sub-delims, %XX) or a bracketed IP literal;
// empty is allowed. RFC 9112 3.2 asks for a 400 when it is anything else.
bool is_host_value(std::string_view v) {
  std::string_view host = v, port;
  if (!v.empty() && v.front() == '[') {
    const auto close = v.find(']');
    if (close == std::string_view::npos) return false;
    host = v.substr(1, close - 1);
    const std::string_view rest = v.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    port = rest.empty() ? rest : rest.substr(1);
    const auto literal = [](char c) { return is_hex(c) || c == ':' || c == '.' || c == 'v' || c == 'V'; };
    if (host.empty() || !std::all_of(host.begin(), host.end(), literal)) return false;
    return is_digits(port);
  }
  if (const auto colon = v.find(':'); colon != std::string_view::npos) {
    host = v.substr(0, colon);
    port = v.substr(colon + 1);
  }
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    if (c == '%') {
      if (i + 2 >= host.size() || !is_hex(host[i + 1]) || !is_hex(host[i + 2])) return false;
      i += 2;
    } else if (!(is_alnum(c) || std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos)) {
      return false;
    }
  }
  return is_digits(port);
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

// For messages: at most 40 bytes of what a client sent, control characters shown as '?'.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  if (s.size() > 40) out += "...";
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::size_t max_chunk_line = 1024;  // a size and its extensions

}  // namespace

const std::string* http_request::header(std::string_view lower_name) const {
  for (const auto& h : headers)
    if (h.name == lower_name) return &h.value;
  return nullptr;
}

http_request_parser::http_request_parser(const http_limits& limits) : limits_(limits) {}

void http_request_parser::reset() {
  request_ = http_request{};
  error_ = http_error{};
  phase_ = http_parse_phase::head;
  line_.clear();
  cr_ = false;
  started_ = false;
  authority_.clear();
  leading_ = 0;
  field_bytes_ = 0;
  fields_ = 0;
  body_ = body_kind::none;
  chunk_ = chunk_step::size;
  remaining_ = 0;
}

http_request http_request_parser::take() {
  http_request r = std::move(request_);
  reset();
  return r;
}

void http_request_parser::fail(int status, std::string message) {
  phase_ = http_parse_phase::failed;
  error_ = {status, std::move(message)};
}

// Append to line_ up to the end of a line: `ready` when a whole line (its
// CRLF used, not stored) is in line_. A LF without its CR, or a CR followed by
// anything but LF, fails at once (no waiting for more); so does a line longer
// than `limit`, with `over_status`.
std::size_t http_request_parser::take_line(std::string_view in, std::size_t limit, int over_status, const char* what,
                                           bool& ready) {
  ready = false;
  if (in.empty()) return 0;
  if (cr_) {
    if (in[0] != '\n') {
      fail(400, "bare CR in the request: lines end with CRLF");
      return 0;
    }
    cr_ = false;
    ready = true;
    return 1;
  }
  const std::size_t stop = in.find_first_of("\r\n");
  const std::size_t run = stop == std::string_view::npos ? in.size() : stop;
  if (run > limit - std::min(limit, line_.size())) {
    fail(over_status, std::string(what) + " too long");
    return 0;
  }
  line_.append(in.data(), run);
  if (stop == std::string_view::npos) return run;
  if (in[stop] == '\n') {
    fail(400, "bare LF in the request: lines end with CRLF");
    return 0;
  }
  if (stop + 1 == in.size()) {
    cr_ = true;  // the LF is in the next piece
    return stop + 1;
  }
  if (in[stop + 1] != '\n') {
    fail(400, "bare CR in the request: lines end with CRLF");
    return 0;
  }
  ready = true;
  return stop + 2;
}

void http_request_parser::request_line(std::string_view line) {
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return fail(400, "malformed request line");
  const std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                         version = line.substr(sp2 + 1);
  if (!is_token(method)) return fail(400, "malformed method");
  if (target.empty() || !std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
    return fail(400, "malformed request target");
  // No fragment (RFC 9112 3.2: no '#' in any form): a client keeps it to itself,
  // and a server that passed it on would hand apps a path its links never name.
  if (target.find('#') != std::string_view::npos) return fail(400, "a '#' in the request target");
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return fail(400, "malformed protocol version");
  if (version[5] != '1' || version[7] > '1') return fail(505, "unsupported protocol version " + std::string(version));
  std::string_view path = target;
  if (target[0] != '/' && !(target == "*" && method == "OPTIONS")) {
    // absolute-form (RFC 9112 3.2.2), which a server MUST accept: the path and
    // query are the target, the authority replaces Host (finish_head).
    const auto scheme_end = target.find("://");
    const std::string scheme = lower(target.substr(0, scheme_end));
    if (scheme_end == std::string_view::npos || (scheme != "http" && scheme != "https"))
      return fail(400, "unsupported request target: a path starting with '/', or an http(s) URI");
    const std::string_view rest = target.substr(scheme_end + 3);
    const auto end = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, end);
    // No userinfo ('@' is no host character), and a host (RFC 9110 4.2.1: an empty one is invalid).
    if (authority.empty() || authority.front() == ':' || !is_host_value(authority))
      return fail(400, "bad authority in the request target '" + shown(target) + "'");
    authority_ = std::string(authority);
    path = end == std::string_view::npos ? std::string_view("/") : rest.substr(end);
  }
  request_.method = std::string(method);
  request_.target = path.front() == '?' ? "/" + std::string(path) : std::string(path);
  request_.minor_version = version[7] - '0';
}

bool http_request_parser::field_line(std::string_view line, bool trailer) {
  if (is_ows(line[0])) {
    fail(400, "obsolete line folding in a header field");
    return false;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    fail(400, "malformed header line");
    return false;
  }
  const std::string_view name = line.substr(0, colon);
  if (is_ows(name.back())) {
    fail(400, "whitespace between the header name '" + shown(trim_ows(name)) + "' and its colon");
    return false;
  }
  if (!is_token(name)) {
    fail(400, "malformed header name '" + shown(name) + "'");
    return false;
  }
  const std::string_view value = trim_ows(line.substr(colon + 1));
  for (char c : value) {
    if (!is_value_char(static_cast<unsigned char>(c))) {
      fail(400, "control character in the value of header '" + shown(name) + "'");
      return false;
    }
  }
  field_bytes_ += line.size() + 2;
  if (++fields_ > limits_.max_headers) {
    fail(431, "more than " + std::to_string(limits_.max_headers) + " header fields");
    return false;
  }
  if (!trailer) request_.headers.push_back({lower(name), std::string(value)});
  return true;
}

void http_request_parser::finish_head() {
  const bool v11 = request_.minor_version == 1;
  int hosts = 0, lengths = 0, encodings = 0, expects = 0;
  std::string* host = nullptr;  // an absolute-form target's authority replaces it
  const std::string *length = nullptr, *encoding = nullptr, *expect = nullptr;
  bool close = false, keep = false;
  for (auto& h : request_.headers) {
    if (h.name == "host") {
      ++hosts;
      host = &h.value;
    } else if (h.name == "content-length") {
      ++lengths;
      length = &h.value;
    } else if (h.name == "transfer-encoding") {
      ++encodings;
      encoding = &h.value;
    } else if (h.name == "expect") {
      ++expects;
      expect = &h.value;
    } else if (h.name == "connection") {
      std::string_view list = h.value;
      while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string option = lower(trim_ows(list.substr(0, comma)));
        if (option == "close") close = true;
        if (option == "keep-alive") keep = true;
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      }
    }
  }
  if (hosts > 1) return fail(400, "more than one Host header");
  if (v11 && hosts == 0) return fail(400, "an HTTP/1.1 request without a Host header");
  if (host != nullptr && !is_host_value(*host)) return fail(400, "bad Host '" + shown(*host) + "'");
  // An absolute-form target's authority is the host (RFC 9112 3.2.2): it
  // replaces the Host field here, or becomes one at the end (adding a field now
  // could move the others, whose values are read below).
  if (!authority_.empty() && host != nullptr) {
    *host = std::move(authority_);
    authority_.clear();
  }
  if (lengths > 0 && encodings > 0) return fail(400, "both Content-Length and Transfer-Encoding");
  if (lengths > 1) return fail(400, "more than one Content-Length");
  if (encodings > 1) return fail(400, "more than one Transfer-Encoding");
  if (encodings == 1) {
    if (!v11) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (lower(*encoding) != "chunked")
      return fail(400, "unsupported transfer coding '" + shown(*encoding) + "': only chunked");
    request_.chunked = true;
  }
  if (lengths == 1) {
    if (length->empty()) return fail(400, "empty Content-Length");
    std::uint64_t n = 0;
    bool huge = false;
    for (char c : *length) {
      if (c < '0' || c > '9') return fail(400, "bad Content-Length '" + shown(*length) + "'");
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) huge = true;
      if (!huge) n = n * 10 + d;
    }
    if (huge || n > limits_.max_body)
      return fail(413, "a body of " + shown(*length) + " bytes, over the limit of " + std::to_string(limits_.max_body));
    request_.content_length = n;
  }
  if (v11 && expects > 0) {
    if (expects > 1 || lower(*expect) != "100-continue")
      return fail(417, "unsupported expectation '" + shown(*expect) + "'");
    request_.expect_continue = true;
  }
  request_.keep_alive = !close && (v11 || keep);
  if (!authority_.empty()) {  // no Host field (HTTP/1.0): the authority is one
    request_.headers.push_back(http_header{"host", std::move(authority_)});
    authority_.clear();
  }
  if (request_.chunked) {
    body_ = body_kind::chunked;
    chunk_ = chunk_step::size;
    phase_ = http_parse_phase::body;
  } else if (request_.content_length.value_or(0) > 0) {
    body_ = body_kind::length;
    remaining_ = *request_.content_length;
    phase_ = http_parse_phase::body;
  } else {
    phase_ = http_parse_phase::complete;
  }
}

// chunk-size [ BWS ";" chunk-ext ] (RFC 9112 7.1): 1 to 16 hex digits; the
// extensions are ignored, but must be free of control characters.
void http_request_parser::chunk_size_line(std::string_view line) {
  std::size_t i = 0;
  std::uint64_t size = 0;
  for (; i < line.size() && hex_digit(line[i]) >= 0; ++i) {
    if (i == 16) return fail(400, "bad chunk size: more than 16 hex digits");
    size = size * 16 + static_cast<std::uint64_t>(hex_digit(line[i]));
  }
  if (i == 0) return fail(400, "bad chunk size '" + shown(line) + "'");
  std::string_view ext = line.substr(i);
  while (!ext.empty() && is_ows(ext.front())) ext.remove_prefix(1);
  if (i < line.size() && (ext.empty() || ext[0] != ';')) return fail(400, "bad chunk size '" + shown(line) + "'");
  for (char c : ext)
    if (!is_value_char(static_cast<unsigned char>(c))) return fail(400, "control character in a chunk extension");
  if (size > limits_.max_body - request_.body.size())
    return fail(413, "a body over the limit of " + std::to_string(limits_.max_body) + " bytes");
  if (size == 0) {
    chunk_ = chunk_step::trailer;
  } else {
    chunk_ = chunk_step::data;
    remaining_ = size;
  }
}

std::size_t http_request_parser::feed(std::string_view in) {
  std::size_t used = 0;
  const auto field_room = [this] {
    return limits_.max_header_bytes > field_bytes_ + 2 ? limits_.max_header_bytes - field_bytes_ - 2 : 0;
  };
  while (used < in.size()) {
    const std::string_view rest = in.substr(used);
    bool ready = false;
    if (phase_ == http_parse_phase::head) {
      if (!started_) {
        used += take_line(rest, limits_.max_request_line, 414, "request line", ready);
      } else {
        used += take_line(rest, field_room(), 431, "header fields", ready);
      }
      if (phase_ == http_parse_phase::failed || !ready) continue;
      if (!started_) {
        if (line_.empty()) {  // empty lines before a request are ignored (RFC 9112 2.2), within bounds
          leading_ += 2;
          if (leading_ > limits_.max_request_line) fail(400, "too many empty lines before the request");
          continue;
        }
        request_line(line_);
        line_.clear();
        started_ = true;
        continue;
      }
      if (line_.empty()) {
        finish_head();
        return used;  // the caller may act on the head before the body
      }
      field_line(line_, false);
      line_.clear();
      continue;
    }
    if (phase_ != http_parse_phase::body) return used;  // complete or failed
    if (body_ == body_kind::length) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
      request_.body.append(rest.data(), n);
      used += n;
      remaining_ -= n;
      if (remaining_ == 0) phase_ = http_parse_phase::complete;
      continue;
    }
    switch (chunk_) {
      case chunk_step::size:
        used += take_line(rest, max_chunk_line, 400, "chunk size line", ready);
        if (ready) {
          chunk_size_line(line_);
          line_.clear();
        }
        break;
      case chunk_step::data: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
        request_.body.append(rest.data(), n);
        used += n;
        remaining_ -= n;
        if (remaining_ == 0) chunk_ = chunk_step::data_cr;
        break;
      }
      case chunk_step::data_cr:
      case chunk_step::data_lf:
        if (rest[0] != (chunk_ == chunk_step::data_cr ? '\r' : '\n')) {
          fail(400, "chunk data not followed by CRLF");
          break;
        }
        ++used;
        chunk_ = chunk_ == chunk_step::data_cr ? chunk_step::data_lf : chunk_step::size;
        break;
      case chunk_step::trailer:
        used += take_line(rest, field_room(), 431, "trailer fields", ready);
        if (!ready) break;
        if (line_.empty()) {
          phase_ = http_parse_phase::complete;
        } else {
          field_line(line_, true);
          line_.clear();
        }
        break;
    }
  }
  return used;
}

http_parse_result parse_request(std::string_view bytes, const http_limits& limits, std::size_t* used) {
  http_request_parser p(limits);
  std::size_t at = 0;
  for (;;) {
    const std::size_t n = p.feed(bytes.substr(at));
    at += n;
    if (p.phase() == http_parse_phase::complete || p.phase() == http_parse_phase::failed || n == 0 ||
        at == bytes.size())
      break;
  }
  if (used != nullptr) *used = at;
  http_parse_result r;
  if (p.phase() == http_parse_phase::complete) {
    r.request = p.take();
  } else if (p.phase() == http_parse_phase::failed) {
    r.error = p.error();
  } else {
    r.error = {400, "incomplete request"};
  }
  return r;
}

bool valid_header_field(const http_header& h) {
  if (!is_token(h.name)) return false;
  const std::string name = lower(h.name);
  if (name == "content-length" || name == "transfer-encoding" || name == "connection") return false;
  return std::all_of(h.value.begin(), h.value.end(),
                     [](char c) { return is_value_char(static_cast<unsigned char>(c)); });
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string format_response_head(const http_response& r, http_framing framing, std::uint64_t length, bool keep_alive) {
  const bool body = status_has_body(r.status);
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
  if (body && !r.content_type.empty()) out += "Content-Type: " + r.content_type + "\r\n";
  if (body && framing == http_framing::length) out += "Content-Length: " + std::to_string(length) + "\r\n";
  if (body && framing == http_framing::chunked) out += "Transfer-Encoding: chunked\r\n";
  out += keep_alive && framing != http_framing::close ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& h : r.headers) out += h.name + ": " + h.value + "\r\n";
  out += "Server: scalekit\r\n\r\n";
  return out;
}

std::string format_response(const http_response& r, bool keep_alive, bool head_only) {
  std::string out = format_response_head(r, http_framing::length, r.body.size(), keep_alive);
  if (!head_only && status_has_body(r.status)) out += r.body;
  return out;
}

std::string format_chunk(std::string_view piece) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string size;
  for (std::size_t n = piece.size(); n > 0; n /= 16) size.insert(size.begin(), digits[n % 16]);
  std::string out;
  out.reserve(size.size() + piece.size() + 4);
  out += size;
  out += "\r\n";
  out += piece;
  out += "\r\n";
  return out;
}

}  // namespace scalekit::net
