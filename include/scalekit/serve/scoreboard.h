#pragma once
// The scoreboard: what serve's master and its workers share, in one block of
// shared memory (a memfd the master makes and every worker maps).
//
//   master ── creates, maps ──┐           ┌── worker k maps it, writes slot k:
//     reads every slot:       │  memfd    │     heartbeat, state, counters, the
//     heartbeats, requests,   └─ (fd) ────┘     requests running now
//     what to recycle; writes its own counters (restarts by cause)
//   any worker reads every slot for /metrics and /status (the whole server's view)
//
// Every field is a lock-free atomic of its own: a reader may see a slot
// half-updated (a request's counter before its latency), never a torn value.
// Request texts (method, path) are guarded by a per-record sequence number
// (a seqlock): a reader retries until it reads the same even number before and
// after. /status lists the workers as they were at one instant (their
// generations and states read before and after the list, and equal).
// Times are CLOCK_MONOTONIC nanoseconds, the same in every process.
//
// Thread safety: any thread of any process that maps it may read any slot;
// one worker process writes each slot (its loop thread the heartbeat, any of
// its threads the counters and request records).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "scalekit/core/status.h"

namespace scalekit::serve {

/// Now, in CLOCK_MONOTONIC nanoseconds (comparable across processes).
std::int64_t monotonic_ns() noexcept;

enum class worker_state : std::uint32_t {
  empty,     ///< no process in this slot
  starting,  ///< spawned, not accepting yet
  ready,     ///< accepting connections
  stopping,  ///< asked to finish its requests and leave
};
std::string_view to_string(worker_state s) noexcept;

/// A request's id: its worker's slot in the top 16 bits, the worker's count
/// of requests below them.
inline constexpr int request_id_slot_shift = 48;
/// How a request id is spelled everywhere (the worker's log, the master's,
/// /status): "SLOT-N", the N-th request of the worker in SLOT, e.g. "1-42".
std::string request_id_text(std::uint64_t id);

/// One request a worker is running now.
struct request_record {
  std::atomic<std::uint32_t> seq{0};  ///< odd while being written
  std::atomic<std::uint64_t> id{0};   ///< 0: this record is free
  std::atomic<std::int64_t> start_ns{0};
  char method[8]{};
  char path[112]{};
};

/// The latency histogram of a worker's responses: bucket b counts latencies
/// below 2^b microseconds (the last one: all above).
inline constexpr int latency_buckets = 24;
/// WSGI apps whose counters a slot keeps apart (--wsgi's order; any later ones in the last).
inline constexpr int apps_shown = 8;

/// One WSGI app's calls in a worker slot (wsgi.h: app_stats): added to by
/// each process the slot has had, like the slot's other counters.
struct app_counters {
  std::atomic<std::uint64_t> calls{0};        ///< calls ended, whatever their outcome
  std::atomic<std::uint64_t> app_errors{0};   ///< failed before any header was sent: a 500
  std::atomic<std::uint64_t> cut{0};          ///< failed, or sent too little, after the head: connection cut
  std::atomic<std::uint64_t> client_gone{0};  ///< the client went away before the response ended
  std::atomic<std::uint64_t> gil_wait_ns{0};  ///< application threads waiting for Python's GIL
};

struct alignas(64) worker_slot {
  static constexpr int max_requests_shown = 16;

  std::atomic<std::int32_t> pid{0};
  std::atomic<std::uint32_t> state{0};       ///< worker_state
  std::atomic<std::uint64_t> generation{0};  ///< which process has had this slot (master's count)
  std::atomic<std::int64_t> started_ns{0};
  std::atomic<std::int64_t> heartbeat_ns{0};     ///< the worker's loop, every 100 ms
  std::atomic<std::uint64_t> requests{0};        ///< answered
  std::atomic<std::uint32_t> in_flight{0};       ///< read, not yet answered
  std::atomic<std::uint32_t> queued{0};          ///< waiting for an application thread
  std::atomic<std::uint32_t> connections{0};     ///< open, idle keep-alive ones included (accept_pause)
  std::atomic<std::uint64_t> status_class[6]{};  ///< responses by status / 100 (index 1..5)
  std::atomic<std::uint64_t> shed{0};            ///< refused with 503: the queue was full, or a wait too long
  std::atomic<std::uint64_t> shed_waited{0};     ///< waited past --queue-wait: 503 (in shed) or degraded
  std::atomic<std::uint64_t> timeouts{0};        ///< answered 504: the request overran --timeout
  std::atomic<std::uint64_t> cache_hits{0}, cache_misses{0};
  /// --cache: lookups in the shared (Redis) cache; errors: failed, or skipped while it was unreachable.
  std::atomic<std::uint64_t> shared_hits{0}, shared_misses{0}, shared_errors{0};
  std::atomic<std::uint64_t> degraded{0};   ///< --degrade: answered cached or coarser instead of 503
  std::atomic<std::uint64_t> bytes_out{0};  ///< response body bytes written (streamed ones as they go)
  app_counters apps[apps_shown];            ///< WSGI, by app (apps_shown)
  /// WSGI: bytes of wsgi.errors dropped (wsgi.h: errors_stats): cut off long lines, over the rate.
  std::atomic<std::uint64_t> errors_cut_bytes{0}, errors_rate_dropped_bytes{0};
  std::atomic<std::uint32_t> on_threads{0};   ///< requests running on an application thread now (busy)
  std::atomic<std::uint64_t> run_on_loop{0};  ///< WSGI calls run on the loop's thread (quick apps: loop_relay.h)
  std::atomic<std::uint64_t> loop_rescues{
      0};  ///< of those, calls slow enough that the relay's other thread took the loop
  std::atomic<std::uint64_t> latency[latency_buckets]{};
  std::atomic<std::uint64_t> latency_sum_us{0};
  request_record running[max_requests_shown];

  /// Record a request starting (id > 0); returns its record index, or -1 when
  /// more than max_requests_shown run at once (it is then not shown).
  int begin_request(std::uint64_t id, std::string_view method, std::string_view path) noexcept;
  void end_request(int record) noexcept;
  /// A consistent copy of a record; false when it is free.
  bool read_request(int record, std::uint64_t& id, std::int64_t& start_ns, std::string& method,
                    std::string& path) const noexcept;
  /// Count one response: its status and how long it took.
  void count_response(int status, std::int64_t latency_ns, std::uint64_t bytes) noexcept;
};

/// Counts a request on an application thread (worker_slot::on_threads) for its lifetime.
class on_thread_mark {
 public:
  explicit on_thread_mark(worker_slot& s) noexcept : s_(s) { s_.on_threads.fetch_add(1); }
  ~on_thread_mark() { s_.on_threads.fetch_sub(1); }
  on_thread_mark(const on_thread_mark&) = delete;
  on_thread_mark& operator=(const on_thread_mark&) = delete;

 private:
  worker_slot& s_;
};

/// Why the master replaced a worker (counted per cause in the header).
enum class restart_cause : std::uint32_t {
  crash,
  timeout,
  heartbeat,
  max_requests,
  max_rss,
  max_lifetime,
  reload,
  count
};
std::string_view to_string(restart_cause c) noexcept;

struct scoreboard_header {
  std::uint64_t magic = 0;
  std::uint32_t capacity = 0;
  std::atomic<std::int32_t> master_pid{0};
  std::atomic<std::int64_t> started_ns{0};
  std::atomic<std::uint32_t> workers_wanted{0};
  std::atomic<std::uint64_t> restarts[static_cast<int>(restart_cause::count)]{};
  std::atomic<std::uint64_t> accept_queue{0};  ///< connections waiting in the listening socket (master's reading)
  /// Connections each worker serves at once: the master's fit_descriptor_limit(), set before any worker starts.
  std::atomic<std::uint32_t> worker_connections{0};
};

/// The restarts by cause as a JSON object: {"crash": 0, "timeout": 0, ...}.
std::string restarts_json(const scoreboard_header& h);

/// A mapping of the scoreboard. Move-only; unmaps on destruction.
class scoreboard {
 public:
  /// Make a new one for `capacity` worker slots (a sealed-size memfd).
  static result<scoreboard> create(std::uint32_t capacity);
  /// Map the one behind `fd` (inherited from the master).
  static result<scoreboard> attach(int fd);

  scoreboard(scoreboard&& other) noexcept;
  scoreboard& operator=(scoreboard&& other) noexcept;
  scoreboard(const scoreboard&) = delete;
  scoreboard& operator=(const scoreboard&) = delete;
  ~scoreboard();

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return header().capacity; }
  [[nodiscard]] scoreboard_header& header() const noexcept { return *static_cast<scoreboard_header*>(base_); }
  /// REQUIRES: i < capacity().
  [[nodiscard]] worker_slot& slot(std::uint32_t i) const noexcept;

 private:
  scoreboard(int fd, void* base, std::size_t size) noexcept : fd_(fd), base_(base), size_(size) {}
  int fd_ = -1;
  void* base_ = nullptr;
  std::size_t size_ = 0;
};

/// The accept balance of the workers sharing a listening socket: how long the
/// worker of slot `mine`, holding `open` connections, should put its next
/// accept off. While it holds more than one connection over the mean of the
/// ready workers whose loops beat (a heartbeat within 250 ms; `mine`
/// included), 2 ms, so that the others take the connections waiting; else 0,
/// and 0 when no other worker is ready. The worker holding the fewest never
/// waits, so some worker always accepts. Without it, whichever loop wakes
/// first takes a whole burst (wrk's 64 connections went 64 to 0, 59 to 5).
/// Thread-safe (reads atomics).
std::chrono::microseconds accept_pause(const scoreboard& board, std::uint32_t mine, std::size_t open,
                                       std::int64_t now_ns) noexcept;

}  // namespace scalekit::serve
