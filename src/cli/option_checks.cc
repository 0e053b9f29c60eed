// Checks every command's options get before their own.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "program_detail.h"

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
      if (!text.empty() && text[0] == '-') return "'" + text + "' is negative: give a number from 0 up";
      return "'" + text + "' is not a whole number from 0 to " + largest;
    },
    "", "unsigned number");

}  // namespace

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

}  // namespace scalekit::cli
