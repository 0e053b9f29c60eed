#include "common.h"

#include <cstdio>
#include <fmt/format.h>

namespace scalekit::cli {

void run_job(const std::string& job, const std::function<int()>& body) {
  try {
    globals().exit_code = body();
  } catch (const usage_error& e) {
    print_error(job, e.what());
    globals().exit_code = exit_usage;
  } catch (const std::exception& e) {
    print_error(job, e.what());
    globals().exit_code = exit_failed;
  }
}

void print_summary(const std::string& job, const std::string& work, std::chrono::nanoseconds elapsed, double items,
                   const char* unit, const std::string& details) {
  if (globals().quiet) return;
  const double secs = std::chrono::duration<double>(elapsed).count();
  const double rate = secs > 0 ? items / secs : 0;
  std::string line = fmt::format("{}: {} in {:.3f} s ({:.4g} {}/s)", job, work, secs, rate, unit);
  if (!details.empty()) line += " [" + details + "]";
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace scalekit::cli
