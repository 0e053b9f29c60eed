#pragma once
// A reading of /metrics for the integration tests of `scalekit serve`, as
// Prometheus reads the text format: every line a comment or a sample.

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace scalekit::testing {

// /metrics read as Prometheus reads it: every line a comment or a sample, each
// sample of a family typed before it. Its samples by "name{labels}" (as
// written), or a failure naming the first line that is neither.
struct prometheus_text {
  std::map<std::string, double> samples;
  std::vector<std::pair<std::string, double>> in_order;  // every sample, as written
  std::string error;

  explicit prometheus_text(const std::string& text) {
    static const std::regex comment(R"(# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
    static const std::regex sample(
        R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\\n])*")"
        R"((?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\\n])*")*\})? ([-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf)|NaN))");
    std::set<std::string> typed;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line) && error.empty();) {
      std::smatch m;
      if (std::regex_match(line, m, comment)) {
        if (m[1] == "TYPE") {
          static const std::set<std::string> types{"counter", "gauge", "histogram", "summary", "untyped"};
          if (!types.count(m[3])) error = "an unknown type: " + line;
          typed.insert(m[2]);
        }
      } else if (std::regex_match(line, m, sample)) {
        std::string family = m[1];
        for (const std::string suffix : {"_bucket", "_sum", "_count"})
          if (!typed.count(family) && family.ends_with(suffix)) family.resize(family.size() - suffix.size());
        if (!typed.count(family)) error = "a sample before its TYPE: " + line;
        in_order.emplace_back(std::string(m[1]) + std::string(m[2]), 0);
        in_order.back().second = samples[in_order.back().first] =
            m[3] == "NaN" ? 0 : std::stod(std::string(m[3]) == "+Inf" ? "inf" : std::string(m[3]));
      } else if (!line.empty()) {
        error = "neither a comment nor a sample: '" + line + "'";
      }
    }
  }
  /// The samples whose "name{labels}" starts with `prefix`.
  [[nodiscard]] std::map<std::string, double> starting(const std::string& prefix) const {
    std::map<std::string, double> out;
    for (auto it = samples.lower_bound(prefix); it != samples.end() && it->first.starts_with(prefix); ++it)
      out.insert(*it);
    return out;
  }
};

}  // namespace scalekit::testing
