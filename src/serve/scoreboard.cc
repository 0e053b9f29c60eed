#include "scalekit/serve/scoreboard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <new>
#include <utility>

namespace scalekit::serve {

namespace {

// "SCALEKB3": changed with the layout (KB3: worker_slot::apps), so a worker of a newer
// binary under an older master refuses the board instead of misreading it (the reload then fails
// and the old workers keep serving).
constexpr std::uint64_t board_magic = 0x5343414c454b4233ULL;

static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::int64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the scoreboard's atomics must work across processes: lock-free");

std::size_t slots_offset() { return (sizeof(scoreboard_header) + 63) / 64 * 64; }
std::size_t board_size(std::uint32_t capacity) { return slots_offset() + std::size_t{capacity} * sizeof(worker_slot); }

void copy_text(char* dst, std::size_t cap, std::string_view src) {
  const std::size_t n = std::min(cap - 1, src.size());
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

}  // namespace

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string_view to_string(worker_state s) noexcept {
  switch (s) {
    case worker_state::empty: return "empty";
    case worker_state::starting: return "starting";
    case worker_state::ready: return "ready";
    case worker_state::stopping: return "stopping";
  }
  return "?";
}

std::string_view to_string(restart_cause c) noexcept {
  switch (c) {
    case restart_cause::crash: return "crash";
    case restart_cause::timeout: return "timeout";
    case restart_cause::heartbeat: return "heartbeat";
    case restart_cause::max_requests: return "max_requests";
    case restart_cause::max_rss: return "max_rss";
    case restart_cause::max_lifetime: return "max_lifetime";
    case restart_cause::reload: return "reload";
    case restart_cause::count: break;
  }
  return "?";
}

std::string restarts_json(const scoreboard_header& h) {
  std::string out = "{";
  for (int c = 0; c < static_cast<int>(restart_cause::count); ++c)
    out += std::string(c ? ", " : "") + "\"" + std::string(to_string(static_cast<restart_cause>(c))) +
           "\": " + std::to_string(h.restarts[c].load());
  return out + "}";
}

std::string request_id_text(std::uint64_t id) {
  constexpr std::uint64_t n_mask = (std::uint64_t{1} << request_id_slot_shift) - 1;
  return std::to_string(id >> request_id_slot_shift) + "-" + std::to_string(id & n_mask);
}

int worker_slot::begin_request(std::uint64_t id, std::string_view method, std::string_view path) noexcept {
  for (int i = 0; i < max_requests_shown; ++i) {
    request_record& r = running[i];
    std::uint64_t free = 0;
    // Claim a free record: only this worker's threads write its slot.
    if (!r.id.compare_exchange_strong(free, id, std::memory_order_acq_rel)) continue;
    r.seq.fetch_add(1, std::memory_order_acq_rel);  // odd: being written
    r.start_ns.store(monotonic_ns(), std::memory_order_relaxed);
    copy_text(r.method, sizeof r.method, method);
    copy_text(r.path, sizeof r.path, path);
    r.seq.fetch_add(1, std::memory_order_release);  // even: whole
    return i;
  }
  return -1;
}

void worker_slot::end_request(int record) noexcept {
  if (record < 0 || record >= max_requests_shown) return;
  running[record].id.store(0, std::memory_order_release);
}

bool worker_slot::read_request(int record, std::uint64_t& id, std::int64_t& start_ns, std::string& method,
                               std::string& path) const noexcept {
  const request_record& r = running[record];
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::uint32_t before = r.seq.load(std::memory_order_acquire);
    if (before % 2 != 0) continue;
    id = r.id.load(std::memory_order_acquire);
    if (id == 0) return false;
    start_ns = r.start_ns.load(std::memory_order_relaxed);
    char m[sizeof r.method], p[sizeof r.path];
    std::memcpy(m, r.method, sizeof m);
    std::memcpy(p, r.path, sizeof p);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (r.seq.load(std::memory_order_relaxed) != before) continue;
    m[sizeof m - 1] = p[sizeof p - 1] = '\0';
    method = m;
    path = p;
    return true;
  }
  return false;
}

void worker_slot::count_response(int status, std::int64_t latency_ns, std::uint64_t bytes) noexcept {
  requests.fetch_add(1, std::memory_order_relaxed);
  const int cls = status / 100;
  if (cls >= 1 && cls <= 5) status_class[cls].fetch_add(1, std::memory_order_relaxed);
  const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, latency_ns / 1000));
  const int b = std::min<int>(latency_buckets - 1, static_cast<int>(std::bit_width(us)));
  latency[b].fetch_add(1, std::memory_order_relaxed);
  latency_sum_us.fetch_add(us, std::memory_order_relaxed);
  bytes_out.fetch_add(bytes, std::memory_order_relaxed);
}

result<scoreboard> scoreboard::create(std::uint32_t capacity) {
  const int low = ::memfd_create("scalekit-serve-scoreboard", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (low < 0) return status::io_error(std::string("memfd_create: ") + std::strerror(errno));
  // High, like the listening sockets: the workers' descriptors 3, 4, ... are
  // filled by dup2, which must not overwrite a source still to be copied.
  const int fd = ::fcntl(low, F_DUPFD_CLOEXEC, 64);  // 64: as sockets.cc (128 failed under `ulimit -n 128`)
  ::close(low);
  if (fd < 0) return status::io_error(std::string("scoreboard descriptor: ") + std::strerror(errno));
  const std::size_t size = board_size(capacity);
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0 ||
      ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    const int err = errno;
    ::close(fd);
    return status::io_error(std::string("cannot size the scoreboard: ") + std::strerror(err));
  }
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    return status::io_error(std::string("cannot map the scoreboard: ") + std::strerror(err));
  }
  auto* head = new (base) scoreboard_header;
  head->capacity = capacity;
  for (std::uint32_t i = 0; i < capacity; ++i)
    new (static_cast<char*>(base) + slots_offset() + i * sizeof(worker_slot)) worker_slot;
  head->started_ns.store(monotonic_ns());
  head->master_pid.store(::getpid());
  std::atomic_thread_fence(std::memory_order_release);
  head->magic = board_magic;
  return scoreboard(fd, base, size);
}

result<scoreboard> scoreboard::attach(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return status::io_error(std::string("scoreboard: ") + std::strerror(errno));
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < sizeof(scoreboard_header)) return status::corruption("scoreboard: too small");
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return status::io_error(std::string("cannot map the scoreboard: ") + std::strerror(errno));
  const auto* head = static_cast<const scoreboard_header*>(base);
  if (head->magic != board_magic || board_size(head->capacity) != size) {
    ::munmap(base, size);
    return status::corruption("scoreboard: not one of ours");
  }
  return scoreboard(fd, base, size);
}

scoreboard::scoreboard(scoreboard&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), base_(std::exchange(other.base_, nullptr)), size_(other.size_) {}

scoreboard& scoreboard::operator=(scoreboard&& other) noexcept {
  if (this != &other) {
    this->~scoreboard();
    new (this) scoreboard(std::move(other));
  }
  return *this;
}

scoreboard::~scoreboard() {
  if (base_ != nullptr) ::munmap(base_, size_);
  if (fd_ >= 0) ::close(fd_);
}

worker_slot& scoreboard::slot(std::uint32_t i) const noexcept {
  return *reinterpret_cast<worker_slot*>(static_cast<char*>(base_) + slots_offset() +
                                         std::size_t{i} * sizeof(worker_slot));
}

std::chrono::microseconds accept_pause(const scoreboard& board, std::uint32_t mine, std::size_t open,
                                       std::int64_t now_ns) noexcept {
  constexpr std::int64_t beating_ns = 250'000'000;  // 2.5 heartbeats: a stalled loop's share goes to the others
  std::uint64_t others = 0, workers = 1;
  for (std::uint32_t i = 0; i < board.capacity(); ++i) {
    if (i == mine) continue;
    const worker_slot& s = board.slot(i);
    if (s.state.load(std::memory_order_relaxed) != static_cast<std::uint32_t>(worker_state::ready)) continue;
    if (now_ns - s.heartbeat_ns.load(std::memory_order_relaxed) > beating_ns) continue;
    others += s.connections.load(std::memory_order_relaxed);
    ++workers;
  }
  // open > mean + 1, in integers: open * workers > open + others + workers.
  if (workers == 1 || open * workers <= open + others + workers) return std::chrono::microseconds(0);
  return std::chrono::microseconds(2000);
}

}  // namespace scalekit::serve
