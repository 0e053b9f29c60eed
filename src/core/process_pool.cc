#include "scalekit/core/process_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <system_error>

#include "scalekit/core/signals.h"
#include "scalekit/core/spawn.h"
#include "scalekit/core/wire.h"

extern char** environ;

namespace scalekit::core {

namespace {

constexpr const char* worker_flag = "--scalekit-worker";
constexpr int worker_fd = 3;                                 // the socket, as the worker sees it
constexpr std::uint64_t max_frame = std::uint64_t{1} << 30;  // 1 GiB: a bigger frame is a broken peer
constexpr char frame_hello = 'H', frame_batch = 'B', frame_results = 'R';
constexpr double target_batch_ns = 2e6;  // aim for ~2 ms of work per batch
constexpr std::size_t auto_max_batch = 65536;

std::string errno_text(int err) { return std::strerror(err); }

std::string describe_wait_status(int st) {
  if (WIFSIGNALED(st)) {
    const int sig = WTERMSIG(st);
    const char* name = strsignal(sig);
    return "killed by signal " + std::to_string(sig) + (name ? std::string(" (") + name + ")" : "");
  }
  if (WIFEXITED(st)) return "exited with status " + std::to_string(WEXITSTATUS(st));
  return "ended (wait status " + std::to_string(st) + ")";
}

// Frames: u64 length, then `length` bytes: a type byte and its body.
std::string make_frame(char type, std::string_view body) {
  wire_writer w;
  w.put<std::uint64_t>(body.size() + 1);
  w.put<char>(type);
  w.str().append(body);
  return w.take();
}

// ---- worker side: blocking I/O on fd 3 ----

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool read_all(int fd, char* out, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::recv(fd, out, n, 0);
    if (r == 0) return false;
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

int worker_main(int fd, pid_t master) {
  // Never act on the terminal's Ctrl-C ourselves: the master decides. SIGTERM
  // (the master's cancel(), or the master's death) ends us at once, but first
  // removes the temporary output files of the task that was running.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  static const std::stop_callback die_on_term(stop_signals::install().token(), [] { die_of_signal(SIGTERM); });
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != master) return 0;

  if (!write_all(fd, make_frame(frame_hello, {}))) return 0;
  std::string body;
  for (;;) {
    std::uint64_t len = 0;
    if (!read_all(fd, reinterpret_cast<char*>(&len), sizeof len)) return 0;  // master gone: done
    if (len == 0 || len > max_frame) return 3;
    body.resize(len);
    if (!read_all(fd, body.data(), len)) return 0;
    if (body[0] != frame_batch) return 3;
    wire_reader in(std::string_view(body).substr(1));
    wire_writer out;
    const auto count = in.get<std::uint32_t>();
    out.put<std::uint32_t>(count);
    bytes result_bytes;
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::string_view name = in.get_string();
      const std::string_view payload = in.get_string();
      const auto t0 = std::chrono::steady_clock::now();
      const bool ok = run_task_inline(name, payload, result_bytes);
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
      out.put<std::uint8_t>(ok ? 1 : 0).put<std::uint64_t>(static_cast<std::uint64_t>(ns.count()));
      out.put_string(result_bytes);
    }
    if (!write_all(fd, make_frame(frame_results, out.str()))) return 0;
  }
}

}  // namespace

std::optional<int> run_worker_if_requested(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[1], worker_flag) != 0) return std::nullopt;
  const int fd = std::atoi(argv[2]);
  const auto master = static_cast<pid_t>(std::atol(argv[3]));
  try {
    return worker_main(fd, master);
  } catch (const std::exception&) {
    return 3;  // a malformed frame from the master: exit, the master sees us die
  }
}

// ---- master side ----

struct process_pool::call_group {
  std::vector<task_call> calls;
  completion_fn done;
};

bool process_pool::stopped_call(const item& it) {
  const auto& stop = it.group->calls[it.index].stop;
  return stop && stop->signal.load() != 0;
}

struct process_pool::worker {
  pid_t pid = -1;
  int fd = -1;
  bool ready = false;  // said hello: the exec worked and the registry is loaded
  std::vector<item> batch;
  std::string wbuf;
  std::size_t woff = 0;
  std::string rbuf;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::string kill_reason;
};

process_pool::process_pool(process_pool_options options) : options_(std::move(options)) {
  if (options_.workers == 0) options_.workers = default_jobs();
  if (options_.max_attempts < 1) options_.max_attempts = 1;
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  for (std::size_t i = 0; i < options_.workers; ++i) workers_.push_back(std::make_unique<worker>());
  pinned_.resize(options_.workers);
  // Workers are spawned by the supervisor thread itself: PR_SET_PDEATHSIG fires
  // when the *thread* that created a child exits, and this one lives as long as
  // the pool.
  supervisor_ = std::thread([this] { supervise(); });
}

process_pool::~process_pool() {
  close();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void process_pool::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

bool process_pool::nothing_queued() const {
  return pending_.empty() && std::all_of(pinned_.begin(), pinned_.end(), [](const auto& q) { return q.empty(); });
}

std::deque<process_pool::item>& process_pool::queue_of(const item& it) {
  const std::size_t affinity = it.group->calls[it.index].affinity;
  return affinity == no_affinity ? pending_ : pinned_[affinity % pinned_.size()];
}

void process_pool::dispatch(std::vector<task_call> calls, completion_fn done) {
  if (calls.empty()) return;
  auto group = std::make_shared<call_group>(call_group{std::move(calls), std::move(done)});
  std::string refused;
  {
    std::scoped_lock lock(mutex_);
    if (broken_) {
      refused = broken_reason_;
    } else if (closing_) {
      refused = "executor closed";
    } else {
      for (std::size_t i = 0; i < group->calls.size(); ++i) {
        item it{group, i};
        queue_of(it).push_back(std::move(it));
      }
    }
  }
  if (!refused.empty()) {
    for (std::size_t i = 0; i < group->calls.size(); ++i)
      group->done(i, status::cancelled("task '" + group->calls[i].name + "' not run: " + refused));
    return;
  }
  wake();
}

void process_pool::close() {
  {
    std::unique_lock lock(mutex_);
    closing_ = true;
    idle_cv_.wait(lock, [&] { return (nothing_queued() || broken_) && in_flight_ == 0; });
    stopping_ = true;
  }
  wake();
  if (supervisor_.joinable() && supervisor_.get_id() != std::this_thread::get_id()) supervisor_.join();
}

void process_pool::terminate() {
  std::deque<item> dropped;
  {
    std::scoped_lock lock(mutex_);
    closing_ = true;
    dropped.swap(pending_);
    for (auto& q : pinned_) {
      std::move(q.begin(), q.end(), std::back_inserter(dropped));
      q.clear();
    }
  }
  for (auto& it : dropped) {
    const auto& call = it.group->calls[it.index];
    it.group->done(it.index, status::cancelled("task '" + call.name + "' not run: executor terminated"));
  }
  close();
}

void process_pool::cancel() noexcept {
  std::deque<item> dropped;
  {
    std::scoped_lock lock(mutex_);
    closing_ = true;
    cancelled_ = true;
    stopping_ = true;  // the supervisor exits once the running calls have ended
    dropped.swap(pending_);
    for (auto& q : pinned_) {
      std::move(q.begin(), q.end(), std::back_inserter(dropped));
      q.clear();
    }
  }
  for (auto& it : dropped) {
    const auto& call = it.group->calls[it.index];
    it.group->done(it.index, status::cancelled("task '" + call.name + "' not run: cancelled"));
  }
  idle_cv_.notify_all();
  wake();  // the supervisor ends the workers that run calls
}

void process_pool::wait_ready() {
  std::unique_lock lock(mutex_);
  idle_cv_.wait(lock, [&] { return broken_ || ready_workers_ >= options_.workers; });
}

std::vector<int> process_pool::get_worker_pids() const {
  std::scoped_lock lock(mutex_);
  return pids_;
}

void process_pool::spawn_worker(worker& w) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    handle_death(w, "socketpair failed: " + errno_text(errno));
    return;
  }
  if (sv[1] == worker_fd) {  // dup2(3, 3) would keep close-on-exec: move it out of the way
    const int moved = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    ::close(sv[1]);
    sv[1] = moved;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, sv[1], worker_fd);  // dup2 clears close-on-exec
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  // Nothing else of ours reaches a worker, close-on-exec or not (Asio's
  // sockets are not): a worker holding a client's connection or a listening
  // socket would keep them open after the master closed them.
  posix_spawn_file_actions_addclosefrom_np(&fa, worker_fd + 1);
  posix_spawn_file_actions_adddup2(&fa, 2, 1);  // a task's stray prints must not reach our stdout
  const spawn_attributes attr;                  // no signal blocked, each one's default action

  const std::string fd_arg = std::to_string(worker_fd), master_arg = std::to_string(::getpid());
  std::string exe = options_.executable;
  char* argv[] = {exe.data(), const_cast<char*>(worker_flag), const_cast<char*>(fd_arg.c_str()),
                  const_cast<char*>(master_arg.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &fa, attr.get(), argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(sv[1]);
  if (rc != 0) {
    ::close(sv[0]);
    w = worker{};
    if (++consecutive_start_failures_ >= 3)
      fail_everything("cannot start worker process '" + options_.executable + "': " + errno_text(rc));
    return;
  }
  ::fcntl(sv[0], F_SETFL, ::fcntl(sv[0], F_GETFL) | O_NONBLOCK);
  w = worker{};
  w.pid = pid;
  w.fd = sv[0];
  std::scoped_lock lock(mutex_);
  pids_.push_back(pid);
}

void process_pool::fail_everything(const std::string& why) {
  std::deque<item> dropped;
  {
    std::scoped_lock lock(mutex_);
    broken_ = true;
    broken_reason_ = why;
    dropped.swap(pending_);
    for (auto& q : pinned_) {
      std::move(q.begin(), q.end(), std::back_inserter(dropped));
      q.clear();
    }
  }
  for (auto& it : dropped) {
    const auto& call = it.group->calls[it.index];
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    it.group->done(it.index, status::task_failed("task '" + call.name + "' failed: " + why));
  }
  idle_cv_.notify_all();
}

void process_pool::assign_batches() {
  std::vector<item> stopped;
  for (std::size_t slot = 0; slot < workers_.size(); ++slot) {
    worker& w = *workers_[slot];
    if (w.fd < 0 || !w.ready || !w.batch.empty()) continue;
    {
      std::scoped_lock lock(mutex_);
      if (broken_) break;
      for (auto* q : {&pinned_[slot], &pending_})
        while (!q->empty() && stopped_call(q->front())) {
          stopped.push_back(std::move(q->front()));
          q->pop_front();
        }
      // The slot's pinned calls first: only this worker can run them.
      std::deque<item>& queue = pinned_[slot].empty() ? pending_ : pinned_[slot];
      if (queue.empty()) continue;
      const bool solo = queue.front().solo;
      std::size_t k = 1;
      if (!solo) {
        const auto& name = queue.front().group->calls[queue.front().index].name;
        auto it = avg_service_ns_.find(name);
        const std::size_t by_time =
            it == avg_service_ns_.end()
                ? 1
                : static_cast<std::size_t>(std::max(1.0, target_batch_ns / std::max(it->second, 1.0)));
        // Shared calls: a fair share, so the tail stays balanced. Pinned calls
        // have nowhere else to go.
        const std::size_t fair =
            &queue == &pending_ ? std::max<std::size_t>(1, queue.size() / (workers_.size() * 2)) : queue.size();
        const std::size_t cap = options_.max_batch ? options_.max_batch : auto_max_batch;
        k = std::min({by_time, fair, cap, queue.size()});
      }
      std::size_t bytes_in_batch = 0;
      while (w.batch.size() < k && !queue.empty() && !(queue.front().solo && !w.batch.empty()) &&
             bytes_in_batch < (std::size_t{16} << 20)) {
        bytes_in_batch += queue.front().group->calls[queue.front().index].payload.size();
        w.batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      in_flight_ += w.batch.size();
    }
    wire_writer body;
    body.put<std::uint32_t>(static_cast<std::uint32_t>(w.batch.size()));
    for (const auto& it : w.batch) {
      const auto& call = it.group->calls[it.index];
      body.put_string(call.name).put_string(call.payload);
    }
    w.wbuf = make_frame(frame_batch, body.str());
    w.woff = 0;
    w.deadline = options_.task_timeout.count() > 0
                     ? std::chrono::steady_clock::now() + options_.task_timeout * static_cast<long>(w.batch.size())
                     : std::chrono::steady_clock::time_point::max();
  }
  for (auto& it : stopped) {
    const auto& call = it.group->calls[it.index];
    it.group->done(it.index, status::cancelled("task '" + call.name + "' not run: stopped"));
  }
  if (!stopped.empty()) idle_cv_.notify_all();
}

bool process_pool::handle_readable(worker& w) {
  char buf[65536];
  bool hung_up = false;
  for (;;) {
    const ssize_t n = ::recv(w.fd, buf, sizeof buf, 0);
    if (n > 0) {
      w.rbuf.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    hung_up = true;  // EOF or error: the worker is gone, but first use what it sent
    break;
  }
  // Parse whole frames.
  std::size_t off = 0;
  while (w.rbuf.size() - off >= 8) {
    std::uint64_t len;
    std::memcpy(&len, w.rbuf.data() + off, 8);
    if (len == 0 || len > max_frame) {
      ::kill(w.pid, SIGKILL);
      w.kill_reason = "sent a malformed frame";
      handle_death(w, "");
      return false;
    }
    if (w.rbuf.size() - off - 8 < len) break;
    const std::string_view frame(w.rbuf.data() + off + 8, len);
    off += 8 + len;
    if (frame[0] == frame_hello) {
      w.ready = true;
      consecutive_start_failures_ = 0;
      {
        std::scoped_lock lock(mutex_);
        ++ready_workers_;
      }
      idle_cv_.notify_all();
      continue;
    }
    // Results for the whole batch.
    std::vector<item> batch = std::move(w.batch);
    w.batch.clear();
    w.deadline = std::chrono::steady_clock::time_point::max();
    try {
      wire_reader in(frame.substr(1));
      const auto count = in.get<std::uint32_t>();
      if (frame[0] != frame_results || count != batch.size()) throw wire_error("result count mismatch");
      for (auto& it : batch) {
        const bool ok = in.get<std::uint8_t>() != 0;
        const auto ns = in.get<std::uint64_t>();
        const std::string_view out = in.get_string();
        const auto& call = it.group->calls[it.index];
        stats_.service_time.record(std::chrono::nanoseconds(ns));
        auto [avg, fresh] = avg_service_ns_.try_emplace(call.name, static_cast<double>(ns));
        if (!fresh) avg->second = 0.8 * avg->second + 0.2 * static_cast<double>(ns);
        if (ok) {
          stats_.completed.fetch_add(1, std::memory_order_relaxed);
          it.group->done(it.index, result<bytes>(bytes(out)));
        } else {
          stats_.failed.fetch_add(1, std::memory_order_relaxed);
          it.group->done(it.index, status::task_failed("task '" + call.name + "' failed: " + std::string(out)));
        }
      }
    } catch (const wire_error&) {
      w.batch = std::move(batch);  // unanswered: treat as a crash, the calls run again
      ::kill(w.pid, SIGKILL);
      w.kill_reason = "sent a malformed result";
      w.rbuf.erase(0, off);
      handle_death(w, "");
      return false;
    }
    {
      std::scoped_lock lock(mutex_);
      in_flight_ -= batch.size();
    }
    idle_cv_.notify_all();
  }
  w.rbuf.erase(0, off);
  if (hung_up) {
    handle_death(w, "");
    return false;
  }
  return true;
}

void process_pool::handle_death(worker& w, const std::string& why) {
  if (w.fd >= 0) ::close(w.fd);
  std::string reason = why;
  if (w.pid > 0) {
    int st = 0;
    while (::waitpid(w.pid, &st, 0) < 0 && errno == EINTR) {
    }
    reason = "worker process " + std::to_string(w.pid) + " " +
             (w.kill_reason.empty() ? describe_wait_status(st) : w.kill_reason);
    std::scoped_lock lock(mutex_);
    std::erase(pids_, w.pid);
  }
  const bool never_started = !w.ready;
  if (!never_started) {
    std::scoped_lock lock(mutex_);
    --ready_workers_;
  }
  std::vector<item> batch = std::move(w.batch);
  // Ended to stop one of its calls: the others in its batch did nothing wrong.
  const bool ended_for_a_stop = w.kill_reason.rfind("ended by signal", 0) == 0;
  w = worker{};
  bool cancelled;
  {
    std::scoped_lock lock(mutex_);
    cancelled = cancelled_;
  }

  std::vector<item> retry;
  std::size_t failed = 0;
  for (auto& it : batch) {
    if (cancelled || stopped_call(it)) {
      const auto& call = it.group->calls[it.index];
      ++failed;  // not a failure of the task, but it wakes close() the same way
      it.group->done(it.index, status::cancelled("task '" + call.name +
                                                 "' stopped: " + (cancelled ? "cancelled" : "its worker was ended")));
    } else if (ended_for_a_stop) {
      it.solo = true;
      retry.push_back(std::move(it));
    } else if (++it.attempts >= options_.max_attempts) {
      const auto& call = it.group->calls[it.index];
      stats_.failed.fetch_add(1, std::memory_order_relaxed);
      ++failed;
      it.group->done(it.index, status::task_failed("task '" + call.name + "' failed: " + reason + " (ran " +
                                                   std::to_string(it.attempts) + " times)"));
    } else {
      it.solo = true;
      stats_.retried.fetch_add(1, std::memory_order_relaxed);
      retry.push_back(std::move(it));
    }
  }
  {
    std::scoped_lock lock(mutex_);
    in_flight_ -= batch.size();
    for (auto r = retry.rbegin(); r != retry.rend(); ++r) {
      auto& queue = queue_of(*r);
      queue.push_front(std::move(*r));
    }
  }
  if (failed > 0) idle_cv_.notify_all();
  if (never_started && ++consecutive_start_failures_ >= 3)
    fail_everything("cannot start worker process '" + options_.executable + "': " + reason);
}

void process_pool::supervise() {
  for (auto& w : workers_) spawn_worker(*w);
  std::vector<pollfd> fds;
  std::vector<worker*> polled;
  for (;;) {
    bool need_workers;
    {
      std::scoped_lock lock(mutex_);
      if (stopping_ && in_flight_ == 0 && (nothing_queued() || broken_)) break;
      need_workers = !broken_ && !stopping_;
    }
    // Replace dead workers.
    if (need_workers) {
      for (auto& w : workers_) {
        if (w->fd < 0) {
          spawn_worker(*w);
          stats_.workers_replaced.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    assign_batches();

    fds.clear();
    polled.clear();
    fds.push_back(pollfd{wake_fd_, POLLIN, 0});
    auto now = std::chrono::steady_clock::now();
    auto next_deadline = now + std::chrono::milliseconds(500);
    for (auto& w : workers_) {
      if (w->fd < 0) continue;
      const short ev = static_cast<short>(POLLIN | (w->woff < w->wbuf.size() ? POLLOUT : 0));
      fds.push_back(pollfd{w->fd, ev, 0});
      polled.push_back(w.get());
      next_deadline = std::min(next_deadline, w->deadline);
    }
    const auto wait_ms =
        std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - now).count() + 1);
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(wait_ms));
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      std::uint64_t v;
      [[maybe_unused]] ssize_t r = ::read(wake_fd_, &v, sizeof v);
    }
    for (std::size_t i = 0; i < polled.size(); ++i) {
      worker& w = *polled[i];
      const short re = fds[i + 1].revents;
      if (w.fd < 0) continue;
      if ((re & POLLOUT) && w.woff < w.wbuf.size()) {
        const ssize_t s = ::send(w.fd, w.wbuf.data() + w.woff, w.wbuf.size() - w.woff, MSG_NOSIGNAL);
        if (s > 0) {
          w.woff += static_cast<std::size_t>(s);
          if (w.woff == w.wbuf.size()) {
            w.wbuf.clear();
            w.woff = 0;
          }
        }
        // On error, the read side below sees the hang-up.
      }
      if (re & (POLLIN | POLLHUP | POLLERR)) handle_readable(w);
    }
    // Calls that overran their time: kill the worker; its death retries or fails them.
    now = std::chrono::steady_clock::now();
    bool cancelled;
    {
      std::scoped_lock lock(mutex_);
      cancelled = cancelled_;
    }
    for (auto& w : workers_) {
      if (cancelled && w->fd >= 0 && !w->batch.empty()) {
        if (w->kill_reason.empty()) {  // ask first: SIGTERM lets it remove its temporary files
          w->kill_reason = "ended by cancel()";
          w->deadline = now + std::chrono::seconds(1);
          ::kill(w->pid, SIGTERM);
        } else if (now >= w->deadline) {
          ::kill(w->pid, SIGKILL);
          w->deadline = std::chrono::steady_clock::time_point::max();
        }
        continue;
      }
      const auto stopped = std::find_if(w->batch.begin(), w->batch.end(), stopped_call);
      if (w->fd >= 0 && stopped != w->batch.end() && w->kill_reason.empty()) {
        const int sig = stopped->group->calls[stopped->index].stop->signal.load();
        w->kill_reason = "ended by signal " + std::to_string(sig) + ": its call was stopped";
        w->deadline = sig == SIGKILL ? std::chrono::steady_clock::time_point::max() : now + std::chrono::seconds(1);
        ::kill(w->pid, sig);
        continue;
      }
      if (w->fd >= 0 && stopped != w->batch.end() && now >= w->deadline) {
        ::kill(w->pid, SIGKILL);  // it outlived the signal it was stopped with
        w->deadline = std::chrono::steady_clock::time_point::max();
        continue;
      }
      if (w->fd >= 0 && !w->batch.empty() && now >= w->deadline && w->kill_reason.empty()) {
        w->kill_reason = "killed after the task timeout of " + std::to_string(options_.task_timeout.count()) + " ms";
        ::kill(w->pid, SIGKILL);
      }
    }
  }
  // Shut down: closing our end makes each worker read EOF and exit.
  for (auto& w : workers_) {
    if (w->fd >= 0) ::close(w->fd);
    w->fd = -1;
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (auto& w : workers_) {
    if (w->pid <= 0) continue;
    int st;
    while (::waitpid(w->pid, &st, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= give_up) {
        ::kill(w->pid, SIGKILL);
        ::waitpid(w->pid, &st, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    w->pid = -1;
  }
  {
    std::scoped_lock lock(mutex_);
    pids_.clear();
  }
  idle_cv_.notify_all();
}

}  // namespace scalekit::core
