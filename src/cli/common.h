#pragma once
// What command files share: the runner (run_job, the observer, exit statuses),
// the executor flags, and the command table.
//
// Commands not yet converted to the job shape still use the legacy pieces
// below (run_job with an int body, print_summary); they go when the last one
// is converted.

#include <chrono>
#include <functional>
#include <string>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"

namespace scalekit::cli {

/// Legacy: run a command body that prints its own results and returns the
/// exit status; usage_error gives 2, any other exception 1.
void run_job(const std::string& job, const std::function<int()>& body);

/// Legacy: "<job>: <work> in <elapsed> (<rate>) [<details>]" on stderr.
void print_summary(const std::string& job, const std::string& work, std::chrono::nanoseconds elapsed, double items,
                   const char* unit, const std::string& details);

}  // namespace scalekit::cli
