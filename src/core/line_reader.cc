#include "scalekit/core/line_reader.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "scalekit/core/input_file.h"
#include "utf8.h"

namespace scalekit::core {

line_reader::line_reader(int fd, std::string name, std::size_t max_line)
    : fd_(fd), name_(std::move(name)), max_line_(max_line < 1 ? 1 : max_line) {}

void line_reader::fail(status s) {
  error_ = std::move(s);
  eof_ = true;
  buf_.clear();
  pos_ = 0;
}

line_reader::event line_reader::take(std::string& line) {
  if (!error_.ok()) return event::end;
  const char* begin = buf_.data() + pos_;
  const std::size_t avail = buf_.size() - pos_;
  const void* nl = std::memchr(begin, '\n', avail);
  const std::size_t length = nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - begin) : avail;
  // The line without its "\r\n" (or "\n"): a CRLF line of exactly max_line
  // characters is within the bound.
  const std::size_t content = length > 0 && begin[length - 1] == '\r' ? length - 1 : length;
  if (content > max_line_) {
    fail(status::too_large(name_ + ":" + std::to_string(line_number_ + 1) + ": a line longer than " +
                           std::to_string(max_line_) + " bytes"));
    return event::end;
  }
  if (nl == nullptr && !eof_) return event::need_input;
  if (nl == nullptr && avail == 0) return event::end;  // the end, after the last line
  line.assign(begin, content);
  pos_ += nl != nullptr ? length + 1 : length;
  ++line_number_;
  return event::line;
}

void line_reader::read_some() {
  if (eof_) return;
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[1 << 16];
  const ssize_t n = ::read(fd_, chunk, sizeof chunk);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    fail(status::io_error("cannot read '" + name_ + "': " + path_error_words(errno)));
    return;
  }
  if (n == 0) {
    eof_ = true;
    return;
  }
  buf_.append(chunk, static_cast<std::size_t>(n));
}

result<bool> line_reader::next(std::string& line) {
  for (;;) {
    switch (take(line)) {
      case event::line: return true;
      case event::end:
        if (!error_.ok()) return error_;
        return false;
      case event::need_input: read_some(); break;
    }
  }
}

namespace {

// Code points that print as nothing, or as a space that is not one.
bool invisible(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0xA0) || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF;
}

}  // namespace

std::string printable(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::size_t shown = 0, i = 0;
  char buf[16];
  while (i < text.size() && shown < max_chars) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::uint32_t cp = 0;
    const std::size_t n = detail::utf8_at(text, i, cp);
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
      i += 1;
    } else if (n == 1) {
      switch (c) {
        case '\r': out += "\\r"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\0': out += "\\0"; break;
        case '\\': out += "\\\\"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      i += 1;
    } else {
      if (invisible(cp)) {
        std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
        out += buf;
      } else {
        out.append(text.substr(i, n));
      }
      i += n;
    }
    ++shown;
  }
  if (i < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

}  // namespace scalekit::core
