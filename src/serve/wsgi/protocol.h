#pragma once
// The text rules of PEP 3333 and HTTP that the WSGI host applies, apart from
// Python: what a status line and a response header may be, CGI names of
// request headers, percent-decoding of PATH_INFO, mount prefixes. Pure
// functions, thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scalekit::serve::wsgi::protocol {

/// The code of a WSGI status: three digits, one space, a reason phrase of
/// visible characters, spaces and tabs (PEP 3333: "200 OK"). Only final
/// statuses, 200..599, are allowed (a 1xx would leave the client waiting for
/// another response). On failure `why` says what is wrong.
std::optional<int> parse_status(std::string_view status, std::string& why);

/// An HTTP token (RFC 9110 tchar+): what a header name must be.
bool is_token(std::string_view s) noexcept;
/// A header value: visible characters, obs-text (0x80-0xFF), spaces and tabs;
/// no CR, LF, NUL or other control character (they would split the response).
bool is_field_value(std::string_view s) noexcept;
/// Connection, Keep-Alive, Proxy-Authenticate, Proxy-Authorization, TE,
/// Trailer(s), Transfer-Encoding, Upgrade: headers PEP 3333 forbids an
/// application (the server owns the connection). Case-insensitive.
bool is_hop_by_hop(std::string_view name) noexcept;
/// Decimal digits only, no sign or space, fits in 63 bits.
std::optional<std::uint64_t> parse_content_length(std::string_view s) noexcept;

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// "X-Forwarded-For" -> "HTTP_X_FORWARDED_FOR".
std::string cgi_name(std::string_view header_name);

/// %XX sequences decoded to their bytes; a '%' not followed by two hex digits
/// stays as it is ('+' is not a space in a path).
std::string percent_decode(std::string_view s);

/// "" for the root ("" or "/"), else "/prefix" without its trailing slashes.
/// nullopt (with `why`) when it does not start with '/'.
std::optional<std::string> normalise_mount(std::string_view mount, std::string& why);
/// `path` is `mount` or lies under it on a segment boundary.
bool under_mount(std::string_view path, std::string_view mount) noexcept;

}  // namespace scalekit::serve::wsgi::protocol
