#include "serve_checks.h"

#include <algorithm>
#include <filesystem>
#include <string>

#include "scalekit/taskqueue/redis.h"

namespace scalekit::cli {

CLI::Validator existing_directories() {
  return CLI::Validator(
      [](std::string& list) -> std::string {
        for (std::size_t at = 0; at <= list.size();) {
          const std::size_t end = std::min(list.find(':', at), list.size());
          const std::string part = list.substr(at, end - at);
          if (!part.empty() && !std::filesystem::is_directory(part)) return "Directory does not exist: " + part;
          at = end + 1;
        }
        return "";
      },
      "DIR[:DIR...]");
}

CLI::Validator redis_url() {
  return CLI::Validator(
      [](std::string& url) -> std::string {
        auto ep = taskqueue::redis_endpoint::parse(url);
        return ep.ok() ? "" : ep.error().message();
      },
      "URL");
}

}  // namespace scalekit::cli
