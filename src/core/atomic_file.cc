#include "scalekit/core/atomic_file.h"

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

mode_t current_umask() {
  const mode_t m = ::umask(0);
  ::umask(m);
  return m;
}
}  // namespace

result<atomic_file> atomic_file::create(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string temp = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
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
  const int fd = ::mkstemp(temp.data());
  const int err = errno;
  {
    std::scoped_lock lock(t.mutex);
    if (fd >= 0) t.paths.insert(temp);
    if (--t.creating == 0 && t.closed) t.created.notify_all();
  }
  if (fd < 0) return status::io_error("cannot write '" + path + "': " + std::strerror(err));
  std::FILE* file = ::fdopen(fd, "wb");
  if (file == nullptr) {
    const int fdopen_err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    untrack(temp);
    return status::io_error("cannot write '" + path + "': " + std::strerror(fdopen_err));
  }
  return atomic_file(path, std::move(temp), file);
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
      file_(std::exchange(other.file_, nullptr)),
      committed_(other.committed_) {}

atomic_file::~atomic_file() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_ && !temp_.empty()) {
    ::unlink(temp_.c_str());
    untrack(temp_);
  }
}

status atomic_file::error(const std::string& what) const {
  return status::io_error("cannot write '" + path_ + "': " + what);
}

status atomic_file::write(const void* data, std::size_t n) {
  if (std::fwrite(data, 1, n, file_) != n) return error(std::strerror(errno));
  return {};
}

status atomic_file::commit() {
  // mkstemp makes 0600 files; give the output the permissions a plain create would.
  if (std::fflush(file_) != 0 || ::fchmod(::fileno(file_), 0666 & ~current_umask()) != 0)
    return error(std::strerror(errno));
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) return error(std::strerror(errno));
  if (::rename(temp_.c_str(), path_.c_str()) != 0) return error(std::strerror(errno));
  committed_ = true;
  untrack(temp_);
  return {};
}

}  // namespace scalekit::core
