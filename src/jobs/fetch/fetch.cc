// fetch::run: the seed's aiohttp fetcher on net::fetch_all, from options to
// output lines and a report.

#include "scalekit/jobs/fetch/fetch.h"

#include <chrono>
#include <cstdint>

#include "scalekit/net/fetch.h"

namespace scalekit::jobs::fetch {

result<core::report> run(const options& o, core::observer& obs) {
  if (o.timeout.count() <= 0)
    return status::invalid_argument("timeout must be positive, not " + std::to_string(o.timeout.count()) + " ms");
  if (o.max_parallel < 1) return status::invalid_argument("at least one transfer at once");

  net::fetch_options fo;
  fo.timeout = o.timeout;
  fo.max_parallel = o.max_parallel;
  fo.stop = obs.stop_token();
  std::uint64_t responses = 0, failed = 0, http_errors = 0, bytes = 0;
  std::vector<core::report_record> results;
  results.reserve(o.urls.size());
  const auto t0 = std::chrono::steady_clock::now();
  net::fetch_all(o.urls, fo, [&](std::size_t, net::fetch_result& r) {
    core::report_record rec{{"url", r.url, ""}, {"elapsed_s", r.elapsed, ""}};
    if (!r.error.ok()) {
      ++failed;
      obs.message(r.url + ": " + r.error.message());
      rec.push_back({"error", r.error.message(), ""});
    } else {
      ++responses;
      bytes += r.length;
      if (r.status >= 400) ++http_errors;
      obs.output("Response for URL " + r.url + " => " + std::to_string(r.status) + " " + std::to_string(r.length) +
                 "\n");
      rec.push_back({"status", std::int64_t{r.status}, ""});
      rec.push_back({"length", r.length, ""});
      rec.push_back({"final_url", r.final_url, ""});
    }
    results.push_back(std::move(rec));
    obs.progress(responses + failed, o.urls.size(), "URLs");
  });
  if (responses + failed < o.urls.size()) return status::cancelled("stopped before every URL was fetched");

  core::report rep("fetch");
  rep.work = std::to_string(responses) + " responses (" + std::to_string(http_errors) + " with HTTP status >= 400), " +
             std::to_string(failed) + " failed, " + std::to_string(bytes) + " bytes";
  rep.elapsed = std::chrono::steady_clock::now() - t0;
  rep.items = static_cast<double>(o.urls.size());
  rep.unit = "URLs";
  rep.failures = failed + (o.fail_on_http_error ? http_errors : 0);
  // The head says these.
  rep.add("responses", responses, "");
  rep.add("failed", failed, "");
  rep.add("http_errors", http_errors, "");
  rep.add("bytes", bytes, "");
  rep.add("max_parallel", std::uint64_t{o.max_parallel}, "{} at once");
  rep.add("results", std::move(results), "");  // one record per URL: JSON only
  return rep;
}

}  // namespace scalekit::jobs::fetch
