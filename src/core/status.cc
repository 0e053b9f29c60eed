#include "scalekit/core/status.h"

namespace scalekit {

namespace {
const char* code_name(status_code c) {
  switch (c) {
    case status_code::ok: return "OK";
    case status_code::invalid_argument: return "invalid argument";
    case status_code::io_error: return "I/O error";
    case status_code::not_found: return "not found";
    case status_code::corruption: return "corrupt";
    case status_code::too_large: return "too large";
    case status_code::cancelled: return "cancelled";
    case status_code::timeout: return "timed out";
    case status_code::task_failed: return "task failed";
    case status_code::internal: return "internal error";
  }
  return "unknown";
}
}  // namespace

std::string status::to_string() const {
  if (ok()) return "OK";
  return std::string(code_name(state_->code)) + ": " + state_->message;
}

}  // namespace scalekit
