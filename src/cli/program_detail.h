#pragma once
// Parts of run_program (program.cc) kept in files of their own.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace scalekit::cli {

/// The index in argv of the command: the first argument that is not a global
/// flag (argc when there is none).
int command_argument(int argc, char** argv);

/// When the command runs in another executable (scalekit-heavy,
/// scalekit-serve), replace this process with it, same arguments. Returns only
/// when it does not, or when the exec failed (the exit status). hand_over.cc
std::optional<int> hand_over_command(int argc, char** argv);

/// Keep the signal mask the process started with, for hand_over_to() to
/// restore. Before stop_signals are installed. hand_over.cc
void remember_signal_mask();

/// Every unsigned option of `app` and its subcommands first takes only
/// decimal digits that fit in 64 bits, before its own checks. option_checks.cc
void refuse_bad_unsigned(CLI::App& app);
/// Every FLOAT option of `app` and its subcommands refuses NaN. option_checks.cc
void refuse_nan(CLI::App& app);

/// A usage error found before any job ran: one line on stderr and, when
/// --json was asked for, {"lines":[],"error":...} on stdout (option_checks.cc).
void usage_error_line(int argc, char** argv, const std::string& message);

/// Whether the first argument that is not a global flag names a command (or
/// there is none); otherwise says so, listing the commands (option_checks.cc).
bool is_known_command(int argc, char** argv);

}  // namespace scalekit::cli
