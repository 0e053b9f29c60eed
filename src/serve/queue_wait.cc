#include "queue_wait.h"

namespace scalekit::serve {

std::shared_ptr<queue_wait::ticket> queue_wait::enter(clock::time_point now) {
  // Empty until now: a standing queue is counted from here.
  if (waiting_.fetch_add(1) == 0) last_empty_.store(now.time_since_epoch().count());
  return std::make_shared<ticket>(now);
}

void queue_wait::leave(clock::time_point now) noexcept {
  if (waiting_.fetch_sub(1) == 1) last_empty_.store(now.time_since_epoch().count());
}

bool queue_wait::start(ticket& t, clock::time_point now) noexcept {
  auto expected = outcome::waiting;
  if (!t.state.compare_exchange_strong(expected, outcome::started)) return false;
  leave(now);
  return true;
}

bool queue_wait::standing(clock::time_point now) const noexcept {
  return waiting_.load() > 0 && now - clock::time_point(clock::duration(last_empty_.load())) >= bound_;
}

queue_wait::verdict queue_wait::look(ticket& t, clock::time_point now) noexcept {
  if (const outcome now_state = t.state.load(); now_state != outcome::waiting) return {now_state};
  const auto waited = now - t.at;
  if (waited >= (standing(now) ? target_ : bound_)) {
    auto expected = outcome::waiting;
    if (!t.state.compare_exchange_strong(expected, outcome::shed)) return {expected};
    leave(now);
    return {outcome::shed};
  }
  return {outcome::waiting, t.at + (waited < target_ ? target_ : bound_)};
}

}  // namespace scalekit::serve
