// Checks every command's options get before their own, and the one-line
// usage errors found before any job ran.

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "program_detail.h"
#include "scalekit/core/job.h"

namespace scalekit::cli {

// CLI11 reads "-1" into an unsigned option as 2^64-1 (strtoull), and a number
// past 2^64-1 as 2^64-1: `factorial -1 5` said "FROM (18446744073709551615)".
// Every unsigned option of every command first takes only decimal digits
// that fit: this check runs before the option's own (a range, say).
namespace {

const CLI::Validator unsigned_number(
    [](std::string& text) -> std::string {
      static const std::string largest = "18446744073709551615";
      const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
      if (digits && (text.size() < largest.size() || (text.size() == largest.size() && text <= largest))) return {};
      if (!text.empty() && text[0] == '-') return "'" + text + "' is negative";  // the option's range: --help
      return "'" + text + "' is not a whole number from 0 to " + largest;
    },
    "", "unsigned number");

// CLI11 reads "nan" into a FLOAT option, and NaN passes every CLI::Range
// (no comparison holds): `serve --grace nan` stopped with "grace
// -9.22337e+15 s". No option means anything by it.
const CLI::Validator not_nan(
    [](std::string& text) -> std::string {
      const double v = std::strtod(text.c_str(), nullptr);
      if (std::isnan(v)) return "'" + text + "' is not a number";
      return {};
    },
    "", "not NaN");

}  // namespace

void refuse_nan(CLI::App& app) {
  for (CLI::Option* opt : app.get_options())
    if (opt->get_type_name().rfind("FLOAT", 0) == 0) opt->check(not_nan);
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) refuse_nan(*sub);
}

void refuse_bad_unsigned(CLI::App& app) {
  for (CLI::Option* opt : app.get_options()) {
    if (opt->get_type_name().rfind("UINT", 0) != 0) continue;
    // The option's own validators run after this one: copies of them go
    // behind it, the originals stay (for --help) but no longer run.
    std::vector<CLI::Validator> own;
    for (int i = 0;; ++i) {
      CLI::Validator* v = nullptr;
      try {
        v = opt->get_validator(i);
      } catch (const CLI::OptionNotFound&) {
        break;
      }
      own.push_back(*v);
      own.back().description("");
      v->active(false);
    }
    opt->check(unsigned_number);
    for (auto& v : own) opt->check(v);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) refuse_bad_unsigned(*sub);
}

// A usage error found before any job ran: one line on stderr and, when
// --json was asked for (before or after the command), the document a job's
// error gives, so that a script reading stdout always gets JSON.
void usage_error_line(int argc, char** argv, const std::string& message) {
  std::fprintf(stderr, "scalekit: %s\n", message.c_str());
  bool json = false;
  for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i)
    json = json || std::string_view(argv[i]) == "--json";
  if (!json) return;
  std::string doc = "{\"lines\":[],\"error\":";
  core::append_json_string(doc, message);
  std::printf("%s}\n", doc.c_str());
  std::fflush(stdout);
}

// The first argument that is not a global flag names the command: one that
// does not exist is said so (CLI11 would say "A subcommand is required").
bool is_known_command(int argc, char** argv) {
  const int i = command_argument(argc, argv);
  if (i == argc) return true;  // none: CLI11 says one is required
  if (find_command(argv[i]) != nullptr) return true;
  std::string names;
  for (const auto& c : command_table) names += (names.empty() ? "" : ", ") + std::string(c.name);
  usage_error_line(argc, argv,
                   "'" + std::string(argv[i]) + "' is not a command; the commands are " + names +
                       " (see scalekit --help)");
  return false;
}

}  // namespace scalekit::cli
