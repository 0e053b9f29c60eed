// thumbnail::run_urls: downloads on one event loop (net::fetch_all), images on
// the executor. The loop's completion callback hands each body to the
// executor as a thumbnail.buffer call; when 2 bodies per worker already wait
// there it blocks, which pauses the loop and so the downloads (backpressure).

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "naming.h"
#include "scalekit/core/executor.h"
#include "scalekit/net/fetch.h"
#include "tally.h"
#include "tasks.h"

namespace scalekit::jobs::thumbnail {

result<core::report> run_urls(const urls_options& o, core::executor& ex, core::observer& obs) {
  if (status s = detail::validate(o.image, o.out_dir); !s.ok()) return s;
  if (o.urls.empty()) return status::invalid_argument("no URLs given");
  if (o.max_parallel < 1) return status::invalid_argument("downloads at once must be at least 1");
  detail::tally t(obs);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> outs = detail::url_thumb_names(o.urls);
  for (auto& name : outs) name = (std::filesystem::path(o.out_dir) / name).string();
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);  // a failure shows in each item's "cannot write"
  const core::cancel_on_stop stop_guard(ex, obs);

  net::fetch_options fo;
  fo.timeout = o.timeout;
  fo.keep_body = true;
  fo.max_body = std::uint64_t{64} << 20;
  fo.max_parallel = o.max_parallel;
  fo.stop = obs.stop_token();  // downloads in flight are abandoned
  const std::size_t max_pending = 2 * ex.concurrency();
  std::mutex m;
  std::condition_variable_any cv;
  std::size_t pending = 0;  // guarded by m
  t.set_total(o.urls.size());
  net::fetch_all(o.urls, fo, [&](std::size_t i, net::fetch_result& r) {
    const std::string& url = o.urls[i];
    if (obs.stop_requested()) return;
    if (!r.error.ok()) return t.fail(url, r.error.message());
    if (r.status >= 400) return t.fail(url, "HTTP " + std::to_string(r.status));
    {
      std::unique_lock lock(m);
      if (!cv.wait(lock, obs.stop_token(), [&] { return pending < max_pending; })) return;  // stopped
      ++pending;
    }
    std::vector<core::task_call> calls;
    calls.push_back({detail::buffer_task, detail::encode_buffer_call(r.body, outs[i], o.image)});
    ex.dispatch(std::move(calls), [&, i](std::size_t, result<core::bytes> res) {
      if (res.ok() || res.error().code() != status_code::cancelled || !obs.stop_requested())
        t.add(o.urls[i], detail::report_of(res), outs[i]);
      std::scoped_lock lock(m);  // notified under the lock: the waiter below may end the job at once
      --pending;
      cv.notify_all();
    });
  });
  {
    // Every dispatched call completes, promptly after a stop (the executor is cancelled).
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return pending == 0; });
  }
  if (obs.stop_requested() && t.done() < o.urls.size())
    return status::cancelled("thumbnail: stopped, " + std::to_string(o.urls.size() - t.done()) + " of " +
                             std::to_string(o.urls.size()) + " URLs not done");

  core::report rep = t.job_report("urls", std::chrono::steady_clock::now() - t0);
  rep.add("downloads_at_once", static_cast<std::uint64_t>(o.max_parallel), "downloads {} at once");
  detail::add_image_executor_fields(rep, ex);
  return rep;
}

}  // namespace scalekit::jobs::thumbnail
