#pragma once
// Base64 (RFC 4648, standard alphabet, with padding), as kombu encodes task
// bodies and heartbeat events, and as scalekit.run carries payloads.
//
// Thread safety: pure functions; call them from any thread.

#include <string>
#include <string_view>

#include "scalekit/core/status.h"

namespace scalekit::taskqueue::celery {

/// `data` (any bytes) as base64 text, padded to a multiple of 4 characters.
std::string base64_encode(std::string_view data);

/// The bytes that base64 `text` encodes.
/// @return corruption naming the problem when `text` is not padded base64 (a
/// length that is not a multiple of 4, a byte outside the alphabet, '=' other
/// than at the end); no partial output.
result<std::string> base64_decode(std::string_view text);

}  // namespace scalekit::taskqueue::celery
