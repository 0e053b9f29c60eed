// counted_body (counted_body.h).

#include "counted_body.h"

#include <utility>

namespace scalekit::serve {

counted_body::~counted_body() {
  inner_.reset();  // first: a WSGI app's thread learns now that nobody reads
  if (in_flight_) slot_.in_flight.fetch_sub(1);
}

// The server asks again only after the last piece went out.
void counted_body::count_handed() {
  if (handed_ > 0) slot_.bytes_out.fetch_add(std::exchange(handed_, 0), std::memory_order_relaxed);
}

core::task<std::optional<std::string>> counted_body::next() {
  count_handed();
  auto bytes = co_await inner_->next();
  if (bytes) handed_ = bytes->size();
  co_return bytes;
}

core::task<std::optional<net::http_body_piece>> counted_body::next_piece() {
  count_handed();
  auto piece = co_await inner_->next_piece();
  if (piece) handed_ = piece->size();
  co_return piece;
}

}  // namespace scalekit::serve
