#pragma once
// HTTP/1.1 messages (RFC 9112), as scalekit's servers need them: an
// incremental request parser with bounds on everything a client sends, and
// response formatting. Pure code, no sockets: the fuzzer links only this.
//
//   http_request_parser p(limits);
//   for each piece of bytes received:
//     consumed = p.feed(piece)       // stops at the end of the head, of the request, or at an error
//     p.head_done()                  // the head is parsed: 100-continue, early refusals
//     p.phase() == complete          // p.take() is the request; the rest of `piece` is the next one
//     p.phase() == failed            // p.error(): the status to answer, then close the connection
//
// What the parser refuses, with the status to answer (and the connection to
// close after it, since the framing of what follows is unknown):
// - 400: a malformed request line or header line; a bare CR or a bare LF where
//   CRLF belongs; obsolete line folding; whitespace between a field name and
//   its colon; NUL or other control characters in a field value; a request
//   with both Content-Length and Transfer-Encoding; Content-Length repeated
//   (even with equal values), a list, or not a number; a Transfer-Encoding
//   other than exactly "chunked" (codings are not decoded), or in HTTP/1.0;
//   a bad chunk size or chunk framing; an HTTP/1.1 request without exactly
//   one Host; a request target other than a path, "*" (OPTIONS) or an
//   http(s) URI with a host (absolute-form: its path is the target, its
//   authority the Host);
// - 413: a body larger than limits.max_body (declared, or as chunks arrive);
// - 414: a request line longer than limits.max_request_line;
// - 417: an Expect other than 100-continue;
// - 431: more than limits.max_headers fields, or more than
//   limits.max_header_bytes of them (trailers count with the headers);
// - 505: an HTTP version other than 1.0 and 1.1.
//
// Thread safety: none inside; one parser per connection.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scalekit::net {

/// Bounds on a request. Each has its trade-off: bigger admits bigger
/// requests and costs that much memory per connection in the worst case.
struct http_limits {
  std::size_t max_request_line = 8192;   ///< bytes, without CRLF (longer: 414)
  std::size_t max_header_bytes = 16384;  ///< all field lines with their CRLFs (more: 431)
  std::size_t max_headers = 100;         ///< field lines (more: 431)
  std::uint64_t max_body = 1 << 20;      ///< bytes of the decoded body (more: 413)
};

struct http_header {
  std::string name;   ///< lower-case
  std::string value;  ///< without the surrounding whitespace
  bool operator==(const http_header&) const = default;
};

struct http_request {
  std::string method;                           ///< a token, as sent ("GET")
  std::string target;                           ///< origin-form ("/a?b"), or "*" for OPTIONS (an
                                                ///< absolute-form target arrives as its path and query,
                                                ///< its authority as the Host field)
  int minor_version = 1;                        ///< HTTP/1.<minor>: 0 or 1
  bool keep_alive = true;                       ///< the connection may carry another request after this one
  bool expect_continue = false;                 ///< HTTP/1.1 with "Expect: 100-continue"
  bool chunked = false;                         ///< the body came with Transfer-Encoding: chunked
  std::optional<std::uint64_t> content_length;  ///< as declared
  std::vector<http_header> headers;             ///< in order (trailers are not kept)
  std::string body;                             ///< decoded
  std::string remote_address;                   ///< the client's IP address (set by the server, not parsed)
  std::uint16_t remote_port = 0;                ///< the client's port (set by the server)

  /// The value of the first field named `lower_name`, or nullptr.
  [[nodiscard]] const std::string* header(std::string_view lower_name) const;
  bool operator==(const http_request&) const = default;
};

/// Why a request was refused: the status to answer with, and a message fit
/// for the reply's body.
struct http_error {
  int status = 400;
  std::string message;
  bool operator==(const http_error&) const = default;
};

enum class http_parse_phase { head, body, complete, failed };

class http_request_parser {
 public:
  explicit http_request_parser(const http_limits& limits = {});

  /// Parse the next bytes of the stream. Returns how many it used: all of
  /// `data`, or fewer when it stopped at the end of the head (once per
  /// request, so the caller can act on the head before the body comes), at
  /// the end of the request (the rest is the next request's: pipelining), or
  /// at an error. Bytes used need not be kept. Does nothing once complete or
  /// failed, until take() or reset().
  std::size_t feed(std::string_view data);

  [[nodiscard]] http_parse_phase phase() const noexcept { return phase_; }
  /// The head has been parsed: request() has every field but the body.
  [[nodiscard]] bool head_done() const noexcept {
    return phase_ == http_parse_phase::body || phase_ == http_parse_phase::complete;
  }
  /// Whether a body follows the head (Content-Length > 0, or chunked).
  [[nodiscard]] bool body_expected() const noexcept { return body_ != body_kind::none; }
  /// The request so far. REQUIRES: head_done().
  [[nodiscard]] const http_request& request() const noexcept { return request_; }
  /// REQUIRES: phase() == failed.
  [[nodiscard]] const http_error& error() const noexcept { return error_; }
  /// Bytes the parser holds (the line being read, the body so far): what a
  /// connection accounts for it.
  [[nodiscard]] std::size_t buffered() const noexcept { return line_.capacity() + request_.body.capacity(); }

  /// The complete request; the parser is then ready for the next one.
  /// REQUIRES: phase() == complete.
  http_request take();
  /// Forget everything: ready for a new request.
  void reset();

 private:
  enum class body_kind { none, length, chunked };
  enum class chunk_step { size, data, data_cr, data_lf, trailer };

  std::size_t take_line(std::string_view in, std::size_t limit, int over_status, const char* what, bool& ready);
  void fail(int status, std::string message);
  void request_line(std::string_view line);
  bool field_line(std::string_view line, bool trailer);
  void finish_head();
  void chunk_size_line(std::string_view line);

  http_limits limits_;
  http_parse_phase phase_ = http_parse_phase::head;
  http_request request_;
  http_error error_;
  std::string line_;             // the line being read, without its CRLF
  bool cr_ = false;              // the last byte was the CR of a CRLF
  bool started_ = false;         // the request line has been read
  std::string authority_;        // an absolute-form target's, for Host
  std::size_t leading_ = 0;      // bytes of empty lines before the request line
  std::size_t field_bytes_ = 0;  // field lines so far, with their CRLFs
  std::size_t fields_ = 0;       // field lines so far
  body_kind body_ = body_kind::none;
  chunk_step chunk_ = chunk_step::size;
  std::uint64_t remaining_ = 0;  // bytes left of the body or of the chunk
};

/// What parse_request found: a request, or (request empty) the error to answer.
struct http_parse_result {
  std::optional<http_request> request;
  http_error error;
};
/// Parse the first request of `bytes` (for tests and tools): the request, or
/// the error to answer; an incomplete request is a 400 "incomplete request".
/// `*used`, when given, gets the bytes the parser used.
http_parse_result parse_request(std::string_view bytes, const http_limits& limits = {}, std::size_t* used = nullptr);

class http_body_source;  // http_server.h: a body made piece by piece

struct http_response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  /// More fields, sent as given. Names are tokens, values have no control
  /// characters (valid_header_field); Content-Length, Transfer-Encoding and
  /// Connection are the server's to write (use `content_length` below).
  std::vector<http_header> headers;
  /// A body produced piece by piece, instead of `body` (http_server.h): sent
  /// with `content_length` when set, else chunked (HTTP/1.1) or until the
  /// close (HTTP/1.0).
  std::shared_ptr<http_body_source> stream;
  std::optional<std::uint64_t> content_length;
};

/// A header field a response may carry: a token name other than the framing
/// fields above, a value of visible characters, spaces and tabs.
bool valid_header_field(const http_header& h);

/// The standard reason phrase of a status ("Not Found"), "Unknown" otherwise.
const char* reason_phrase(int status);

/// Whether a response with this status has a body (not 1xx, 204, 304).
constexpr bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

/// "HTTP/1.1 404 Not Found\r\n..." with Content-Type, Content-Length,
/// Connection and r.headers; the body unless `head_only` (a HEAD request:
/// the head says the length the body would have). Statuses without a body
/// get neither body nor Content-Length. Ignores r.stream.
std::string format_response(const http_response& r, bool keep_alive, bool head_only);

/// How a streamed body is delimited.
enum class http_framing { length, chunked, close };
/// The head alone, for a body sent after it: Content-Length `length`
/// (framing length), Transfer-Encoding: chunked, or neither (the body ends
/// with the connection; Connection: close).
std::string format_response_head(const http_response& r, http_framing framing, std::uint64_t length, bool keep_alive);
/// One chunk of a chunked body ("1a\r\n...\r\n"); REQUIRES: !piece.empty().
std::string format_chunk(std::string_view piece);
/// The end of a chunked body.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";
/// The interim response to "Expect: 100-continue".
inline constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace scalekit::net
