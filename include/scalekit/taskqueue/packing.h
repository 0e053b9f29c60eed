#pragma once
// Packed bytes: how scalekit.run returns a core task's output (bytes) inside
// Celery's JSON result (spec section 7.1). One JSON string holding base64 of
// a frame:
//
//   'r' + the bytes                                      raw
//   'z' + 8-byte length (little-endian) + zlib stream    when that is smaller
//
// zlib (level 1) is tried only from 1024 bytes up; Mandelbrot bands and other
// images shrink a lot, noise stays raw.
//
// Thread safety: pure functions; call them from any thread.

#include <string>
#include <string_view>

#include "scalekit/core/status.h"

namespace scalekit::taskqueue::celery {

/// `data` packed as a JSON string literal, quotes included: "\"cmhp\"" for "hi".
std::string pack_bytes(std::string_view data);

/// The bytes back out of pack_bytes()'s JSON string (any JSON string spelling).
/// @return corruption when it is not a JSON string, not base64, of an unknown
/// frame kind or does not inflate to its stated length; too_large when a 'z'
/// frame claims more than 2^32 bytes.
result<std::string> unpack_bytes(std::string_view json_string);

}  // namespace scalekit::taskqueue::celery
