#include "scalekit/jobs/find/find.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>

#include "scalekit/core/input_file.h"
#include "scalekit/core/line_reader.h"
#include "scalekit/core/thread_pool.h"

namespace scalekit::jobs::find {

namespace {

// opendir(), also of a path longer than PATH_MAX (ENAMETOOLONG), which is
// opened a component at a time with openat(): a deep tree is walked whole.
DIR* open_directory(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str()); d != nullptr || errno != ENAMETOOLONG) return d;
  int fd = ::open(dir.front() == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (std::size_t at = 0; fd >= 0 && at < dir.size();) {
    const std::size_t slash = std::min(dir.find('/', at), dir.size());
    if (slash > at) {
      const int next = ::openat(fd, dir.substr(at, slash - at).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      const int err = errno;
      ::close(fd);
      errno = err;
      fd = next;
    }
    at = slash + 1;
  }
  if (fd < 0) return nullptr;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    const int err = errno;
    ::close(fd);
    errno = err;
  }
  return d;
}

// A path in a message: escaped, and cut when long (a deep tree's paths run
// to thousands of bytes).
constexpr std::size_t shown_path_chars = 300;

struct walker {
  std::string query;
  bool files_only = false;
  std::stop_token stop;
  std::function<void(std::string_view)> on_matches;
  std::function<void(const std::string&)> on_error;
  core::thread_pool* pool = nullptr;

  std::mutex out_mutex;  // one on_matches / on_error call at a time
  std::atomic<std::uint64_t> directories{0}, entries{0}, matches{0}, errors{0};

  // Directories queued or being listed; the walk ends when it drops to 0.
  std::mutex done_mutex;
  std::condition_variable done_cv;
  std::size_t pending = 0;

  void enqueue(std::string dir) {
    {
      std::scoped_lock lock(done_mutex);
      ++pending;
    }
    pool->detach([this, d = std::move(dir)]() mutable {
      list(d);
      std::scoped_lock lock(done_mutex);
      if (--pending == 0) done_cv.notify_all();
    });
  }

  void list(const std::string& dir) {
    if (stop.stop_requested()) return;  // the walk ends: the listings queued drain at once
    DIR* d = open_directory(dir);
    if (d == nullptr) {
      errors.fetch_add(1, std::memory_order_relaxed);
      const std::string msg =
          "cannot read '" + core::printable(dir, shown_path_chars) + "': " + core::path_error_words(errno);
      std::scoped_lock lock(out_mutex);
      on_error(msg);
      return;
    }
    directories.fetch_add(1, std::memory_order_relaxed);
    std::string found;  // this listing's matches, handed over in one call
    std::string path = dir;
    if (path.back() != '/') path += '/';
    const std::size_t base = path.size();
    std::uint64_t seen = 0;
    while (dirent* e = ::readdir(d)) {
      if ((seen & 1023) == 1023 && stop.stop_requested()) break;  // a huge directory stops too
      const char* name = e->d_name;
      if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
      ++seen;
      path.resize(base);
      path += name;
      bool is_dir = e->d_type == DT_DIR, is_file = e->d_type == DT_REG;
      if (e->d_type == DT_UNKNOWN) {  // some filesystems do not say: ask, without following links
        struct stat st;
        const bool known = ::fstatat(::dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0;
        is_dir = known && S_ISDIR(st.st_mode);
        is_file = known && S_ISREG(st.st_mode);
      }
      if ((is_file || !files_only) && path.find(query) != std::string::npos) {
        found += path;
        found += '\n';
        matches.fetch_add(1, std::memory_order_relaxed);
      }
      if (is_dir) enqueue(path);
      if (found.size() >= (1 << 16)) flush(found);
    }
    ::closedir(d);
    entries.fetch_add(seen, std::memory_order_relaxed);
    flush(found);
  }

  void flush(std::string& found) {
    if (found.empty()) return;
    std::scoped_lock lock(out_mutex);
    on_matches(found);
    found.clear();
  }
};

}  // namespace

result<walk_stats> walk(const std::string& root, std::string_view query, const walk_options& options,
                        const std::function<void(std::string_view)>& on_matches,
                        const std::function<void(const std::string&)>& on_error) {
  std::error_code ec;
  std::string start = std::filesystem::absolute(root, ec).lexically_normal().string();
  if (ec) return status::io_error("cannot resolve '" + root + "': " + ec.message());
  if (start.size() > 1 && start.back() == '/') start.pop_back();
  struct stat st;
  if (::stat(start.c_str(), &st) != 0)
    return status::not_found("cannot read '" + root + "': " + core::path_error_words(errno));
  if (!S_ISDIR(st.st_mode)) return status::invalid_argument("'" + root + "' is not a directory");

  core::thread_pool pool(options.threads);
  auto w = std::make_unique<walker>();
  w->query = std::string(query);
  w->files_only = options.regular_files_only;
  w->on_matches = on_matches;
  w->on_error = on_error;
  w->pool = &pool;
  w->stop = options.stop;
  w->enqueue(start);
  {
    std::unique_lock lock(w->done_mutex);
    w->done_cv.wait(lock, [&] { return w->pending == 0; });
  }
  pool.close();
  walk_stats s;
  s.directories = w->directories;
  s.entries = w->entries;
  s.matches = w->matches;
  s.errors = w->errors;
  return s;
}

}  // namespace scalekit::jobs::find
