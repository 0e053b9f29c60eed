#include "scalekit/core/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace scalekit::core {

namespace {

// What a file is, for "not a regular file (a FIFO)" or "not a directory (a
// regular file)".
const char* kind_of(mode_t m) {
  if (S_ISREG(m)) return "a regular file";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISLNK(m)) return "a symbolic link";
  return "not a file";
}

status cannot_read(const std::string& path, int err) {
  const std::string text = "cannot read '" + path + "': " + path_error_words(err);
  return err == ENOENT || err == ENOTDIR ? status::not_found(text) : status::io_error(text);
}

status not_regular(const std::string& path, mode_t m) {
  return status::io_error("cannot read '" + path + "': not a regular file (" + kind_of(m) + ")");
}

}  // namespace

std::optional<file_id> identify(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return file_id{st.st_dev, st.st_ino};
}

std::string path_error_words(int err) {
  switch (err) {
    case ENOENT: return "no such file or directory";
    case ENOTDIR: return "a part of the path is not a directory";
    case ELOOP: return "a symbolic link loop (too many levels of symbolic links)";
    case EACCES: return "permission denied";
    case EISDIR: return "it is a directory";
    case ENAMETOOLONG: return "the name is too long";
    default: {
      std::string words = std::strerror(err);
      if (!words.empty()) words[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(words[0])));
      return words;
    }
  }
}

status check_input(const std::string& path) {
  // Opened, not only examined: a file this process may not read says so
  // here, rather than as "not an image" from a library that could not open it.
  auto f = open_input(path);
  return f.ok() ? status{} : f.error();
}

input_file::input_file(input_file&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)), id_(o.id_), size_(o.size_) {}

input_file& input_file::operator=(input_file&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
    id_ = o.id_;
    size_ = o.size_;
  }
  return *this;
}

input_file::~input_file() {
  if (fd_ >= 0) ::close(fd_);
}

result<input_file> open_input(const std::string& path) {
  // Not blocking: opening a FIFO for reading would wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return cannot_read(path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return cannot_read(path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return not_regular(path, st.st_mode);
  }
  // A regular file: blocking reads from here on (O_NONBLOCK means nothing to
  // a regular file, but a descriptor handed on should look ordinary).
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return input_file(fd, path, file_id{st.st_dev, st.st_ino}, static_cast<std::uint64_t>(st.st_size));
}

status input_file::read_all(std::string& out, std::uint64_t max_bytes) {
  out.clear();
  if (size_ <= max_bytes) out.reserve(static_cast<std::size_t>(size_));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return cannot_read(path_, errno);
    }
    if (n == 0) return {};
    if (out.size() + static_cast<std::size_t>(n) > max_bytes)
      return status::too_large("'" + path_ + "' is larger than " + std::to_string(max_bytes) + " bytes");
    out.append(buf, static_cast<std::size_t>(n));
  }
}

status check_output(const std::string& output, std::span<const std::string> inputs) {
  struct stat st;
  if (::stat(output.c_str(), &st) != 0) return {};  // made afresh (or unwritable: the write says why)
  if (!S_ISREG(st.st_mode))
    return status::invalid_argument("'" + output + "' exists and is not a regular file (" + kind_of(st.st_mode) +
                                    "); choose a file to write");
  const file_id out{st.st_dev, st.st_ino};
  for (const auto& in : inputs) {
    if (identify(in) == out)
      return status::invalid_argument("'" + output + "' is the input '" + in +
                                      "' (the same file): writing it would destroy the input; choose another output");
  }
  return {};
}

status check_output_dir(const std::string& dir) {
  // The nearest part of the path that exists must be a directory: below it
  // everything is made afresh.
  std::string at = dir;
  while (at.size() > 1 && at.back() == '/') at.pop_back();
  while (!at.empty()) {
    struct stat st;
    if (::stat(at.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        // Writing in it (or making the rest below it) needs write and search
        // permission: asked here, with no side effect, so that a user who
        // cannot write gets one error before the work instead of one per output.
        if (::access(at.c_str(), W_OK | X_OK) == 0 || (errno != EACCES && errno != EROFS)) return {};
        const std::string why = errno == EROFS ? "a read-only file system" : "permission denied";
        if (at == dir) return status::invalid_argument("cannot write in '" + dir + "' (" + why + ")");
        return status::invalid_argument("cannot make '" + dir + "': '" + at + "' cannot be written in (" + why + ")");
      }
      std::string message = "'" + at + "' exists and is not a directory (" + kind_of(st.st_mode) + ")";
      if (at != dir) message += ", so '" + dir + "' cannot be made";
      return status::invalid_argument(message + "; choose a directory to write in");
    }
    if (errno != ENOENT && errno != ENOTDIR) return {};  // unreadable: making it says why
    const auto slash = at.rfind('/');
    if (slash == std::string::npos) break;
    at.resize(slash == 0 ? 1 : slash);
  }
  return {};
}

status make_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return status::io_error("cannot make '" + dir + "': " + ec.message());
  return {};
}

}  // namespace scalekit::core
