#pragma once
// A streamed response counted as it goes out: its body bytes reach the
// scoreboard (bytes_out: /metrics, /status) as the server writes them, and
// the request stays in flight until its body has ended, sent or not.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "scalekit/net/http_server.h"
#include "scalekit/serve/scoreboard.h"

namespace scalekit::serve {

/// Wraps `inner` (used on the loop's thread, as every body source). Counted:
/// the body's bytes the server wrote (a piece counts once the server asks for
/// the next one, which it does only after the piece went out), not the head
/// nor the chunked framing. `in_flight`: the slot's in_flight is decremented
/// when the body is done (the caller incremented it).
class counted_body final : public net::http_body_source {
 public:
  counted_body(std::shared_ptr<net::http_body_source> inner, worker_slot& slot, bool in_flight) noexcept
      : inner_(std::move(inner)), slot_(slot), in_flight_(in_flight) {}
  ~counted_body() override;
  counted_body(const counted_body&) = delete;
  counted_body& operator=(const counted_body&) = delete;

  core::task<std::optional<std::string>> next() override;
  core::task<std::optional<net::http_body_piece>> next_piece() override;

 private:
  void count_handed();

  std::shared_ptr<net::http_body_source> inner_;
  worker_slot& slot_;
  bool in_flight_;
  std::uint64_t handed_ = 0;  // the last piece given to the server, not yet known to be sent
};

}  // namespace scalekit::serve
