#include "scalekit/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <utility>

namespace scalekit::core {

namespace {

// The temporaries alive in this process, so that a signal that ends it at once
// can remove them (die_of_signal). Never destroyed: signals may come late.
struct temporaries {
  std::mutex mutex;
  std::set<std::string> paths;      // guarded by mutex
  bool closed = false;              // guarded by mutex: removed for good, the process is dying
  int creating = 0;                 // guarded by mutex: create() calls between their check and their insert
  std::condition_variable created;  // creating dropped to 0
};
temporaries& live_temporaries() {
  static auto* t = new temporaries;
  return *t;
}
void untrack(const std::string& temp) {
  auto& t = live_temporaries();
  std::scoped_lock lock(t.mutex);
  t.paths.erase(temp);
}

// Read once, from /proc: umask() can only be read by setting it, and another
// thread creating a file in that moment would get the wrong permissions.
mode_t process_umask() {
  static const mode_t m = [] {
    std::FILE* f = std::fopen("/proc/self/status", "re");
    unsigned value = 0;
    bool found = false;
    char line[256];
    while (f != nullptr && !found && std::fgets(line, sizeof line, f) != nullptr)
      found = std::sscanf(line, "Umask: %o", &value) == 1;
    if (f != nullptr) std::fclose(f);
    if (found) return static_cast<mode_t>(value);
    const mode_t old = ::umask(0);  // kernels before 4.7 do not show it
    ::umask(old);
    return old;
  }();
  return m;
}
}  // namespace

status atomic_file::write_whole(const std::string& path, std::string_view text) {
  auto f = create(path);
  if (!f.ok()) return f.error();
  if (auto st = f->write(text.data(), text.size()); !st.ok()) return st;
  return f->commit();
}

result<atomic_file> atomic_file::create(const std::string& path, mode m) {
  namespace fs = std::filesystem;
  std::string temp = path;
  if (m == mode::replace) {
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    temp = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  }
  // Made and tracked as one step that remove_temporary_files(), run by a
  // thread about to end the process, waits for or refuses: so no temporary
  // outlives a process that dies of a signal whatever its other threads were
  // doing. mkstemp runs outside the lock, so threads create files in parallel.
  auto& t = live_temporaries();
  {
    std::scoped_lock lock(t.mutex);
    if (t.closed) return status::cancelled("cannot write '" + path + "': the process is ending");
    ++t.creating;
  }
  int fd = -1;
  if (m == mode::in_place) {
    // The target itself, when it is a regular file or nothing: not through a
    // symbolic link, and neither waiting for a FIFO's reader nor writing into
    // a device. Anything else at that name is replaced as mode::replace does.
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0666);
    struct stat st;
    const bool regular = fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (!regular && (fd >= 0 || errno == ELOOP || errno == ENXIO)) {
      if (fd >= 0) ::close(fd);
      m = mode::replace;
      const fs::path target(path);
      const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
      temp = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
    }
  }
  if (m == mode::replace) fd = ::mkostemp(temp.data(), O_CLOEXEC);
  const int err = errno;
  {
    std::scoped_lock lock(t.mutex);
    if (fd >= 0) t.paths.insert(temp);
    if (--t.creating == 0 && t.closed) t.created.notify_all();
  }
  if (fd < 0) return status::io_error("cannot write '" + path + "': " + std::strerror(err));
  return atomic_file(path, std::move(temp), fd, m);
}

void remove_temporary_files() noexcept {
  auto& t = live_temporaries();
  std::unique_lock lock(t.mutex);
  t.closed = true;                                        // refuse new ones, then
  t.created.wait(lock, [&] { return t.creating == 0; });  // let those halfway be tracked
  for (const auto& p : t.paths) ::unlink(p.c_str());
  t.paths.clear();
}

atomic_file::atomic_file(atomic_file&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::exchange(other.temp_, {})),
      fd_(std::exchange(other.fd_, -1)),
      file_(std::exchange(other.file_, nullptr)),
      mode_(other.mode_),
      committed_(other.committed_) {}

atomic_file::~atomic_file() {
  if (file_ != nullptr) {
    std::fclose(file_);
  } else if (fd_ >= 0) {
    ::close(fd_);
  }
  if (!committed_ && !temp_.empty()) {
    ::unlink(temp_.c_str());
    untrack(temp_);
  }
}

status atomic_file::error(const std::string& what) const {
  return status::io_error("cannot write '" + path_ + "': " + what);
}

std::FILE* atomic_file::stream() noexcept {
  if (file_ == nullptr && fd_ >= 0) file_ = ::fdopen(fd_, "wb");
  return file_;
}

status atomic_file::write(const void* data, std::size_t n) {
  if (file_ != nullptr) {
    if (std::fwrite(data, 1, n, file_) != n) return error(std::strerror(errno));
    return {};
  }
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return error(std::strerror(errno));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

status atomic_file::commit() {
  // mkstemp makes 0600 files; give the output the permissions a plain create would.
  if (file_ != nullptr && std::fflush(file_) != 0) return error(std::strerror(errno));
  if (mode_ == mode::replace && ::fchmod(fd_, 0666 & ~process_umask()) != 0) return error(std::strerror(errno));
  const int closed = file_ != nullptr ? std::fclose(file_) : ::close(fd_);
  file_ = nullptr;
  fd_ = -1;
  if (closed != 0) return error(std::strerror(errno));
  if (mode_ == mode::replace && ::rename(temp_.c_str(), path_.c_str()) != 0) return error(std::strerror(errno));
  committed_ = true;
  untrack(temp_);
  return {};
}

}  // namespace scalekit::core
