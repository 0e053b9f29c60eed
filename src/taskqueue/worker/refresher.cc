#include "refresher.h"

#include <algorithm>

#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"

namespace scalekit::taskqueue::detail {

using namespace std::chrono_literals;

core::task<void> refresher::run() {
  const auto every = std::clamp<std::chrono::milliseconds>(w_.options.visibility_timeout / 4, 250ms, 60s);
  while (!w_.stopping()) {
    co_await w_.nap(every);
    if (w_.stopping()) break;
    std::vector<std::string> zadd{"ZADD", celery::unacked_index_key, "XX"};
    const std::string now = seconds_text(celery::unix_now());
    for (const auto& [tag, r] : w_.running) {
      if (r.finished) continue;
      zadd.push_back(now);
      zadd.push_back(tag);
    }
    if (zadd.size() > 3) co_await w_.cmd.command(std::move(zadd));
  }
}

}  // namespace scalekit::taskqueue::detail
