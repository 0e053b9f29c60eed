// What `ps` shows of serve's processes: every worker is an exec of the same
// binary (through /proc/self/exe, so its name was "exe"), and a user could
// not tell the master from its workers.
#include <sys/prctl.h>

#include <string>

#include "serve_detail.h"

namespace scalekit::serve {

std::string worker_process_title(std::uint32_t slot) { return "scalekit serve: worker " + std::to_string(slot); }

std::string worker_process_name(std::uint32_t slot) {
  // The kernel keeps 15 bytes: "serve worker 99" fits; slots past 99 (over 40 workers) are shorter.
  const std::string n = std::to_string(slot);
  return (slot < 100 ? "serve worker " : "serve wkr ") + n;
}

void name_this_process(std::string_view name) noexcept {
  char buf[16]{};
  name.copy(buf, sizeof buf - 1);
  ::prctl(PR_SET_NAME, buf, 0, 0, 0);
}

}  // namespace scalekit::serve
