#pragma once
// Reading input a line at a time with a bound on the line's length, and
// showing a piece of input in a message: what every command that reads lines
// (numbers from a file or stdin, a zone file, queries on stdin) shares.
//
// Without a bound a line reader holds whatever comes before the next '\n':
// `primes check --file /dev/zero` grew to 7 GB. line_reader keeps at most
// max_line bytes plus one read's chunk; a longer line is an error that names
// the input and the line ("stdin:1: a line longer than 65536 bytes").
//
//   core::line_reader in(fd, "numbers.txt");
//   std::string line;
//   while (true) {
//     auto r = in.next(line);
//     if (!r.ok()) return r.error();  // read error, or a line too long
//     if (!*r) break;                 // the end of the input
//     use(line, in.line_number());
//   }

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "scalekit/core/status.h"

namespace scalekit::core {

/// Lines from a descriptor, each at most max_line bytes. A line ends at '\n';
/// a '\r' before it is dropped too (CRLF text); a last line without '\n'
/// counts. Not thread-safe: one thread reads.
class line_reader {
 public:
  /// 64 KiB: far past any line the commands take (a number, a zone entry, a query).
  static constexpr std::size_t default_max_line = 64 * 1024;

  /// Reads `fd` (not owned, not closed), named `name` in messages (a path, "stdin").
  /// REQUIRES max_line >= 1.
  line_reader(int fd, std::string name, std::size_t max_line = default_max_line);

  /// The next line into `line`, blocking for input: true with a line, false at
  /// the end of the input. Errors: too_large "<name>:<n>: a line longer than
  /// <max_line> bytes", io_error "cannot read '<name>': <reason>". After an
  /// error, later calls return the same error.
  result<bool> next(std::string& line);

  /// For a caller that waits for input itself (poll(2) on fd and something else):
  enum class event {
    line,        ///< `line` holds the next line
    end,         ///< no more lines: the end of the input, or an error (error() says)
    need_input,  ///< no whole line is buffered: call read_some() (it blocks unless fd is readable)
  };
  event take(std::string& line);
  /// One read(2) into the buffer (EINTR and EAGAIN are no error).
  void read_some();

  /// What ended the input early (OK when nothing did).
  [[nodiscard]] const status& error() const noexcept { return error_; }
  /// The number of the last line returned (1-based; 0 before the first).
  [[nodiscard]] std::uint64_t line_number() const noexcept { return line_number_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] std::size_t max_line() const noexcept { return max_line_; }

 private:
  void fail(status s);
  int fd_;
  std::string name_;
  std::size_t max_line_;
  std::string buf_;
  std::size_t pos_ = 0;  // the start of the next line in buf_
  std::uint64_t line_number_ = 0;
  bool eof_ = false;
  status error_;
};

/// `text` as a message shows it, for "'<text>': not a number": characters a
/// reader cannot see are escaped (\r, \t, \n, \0, other control bytes as
/// \xHH, a byte that is not UTF-8 as \xHH, a byte-order mark or a zero-width
/// or non-breaking space as \uFEFF ...), a backslash doubled; and at most
/// `max_chars` characters are shown: a longer text is cut and ends with
/// "... (<n> bytes)".
std::string printable(std::string_view text, std::size_t max_chars = 40);

}  // namespace scalekit::core
