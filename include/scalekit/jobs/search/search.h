#pragma once
// The search job: the seed's multiprocessing search engine (chapter 14) done
// right. The corpus (every text file under a directory) is split into one
// share per worker; each worker loads its share into memory once, and every
// query goes to every worker, whose matching lines come back tagged by query,
// so many queries can be in flight.
//
//   master ── walk, split by bytes ──> search.load(share k)   pinned to worker k
//          ── search.query(share k, q) for k = 0..N-1 ──────> worker k: memmem over its share
//          <── matches of q, share by share ── concatenated in file order
//
// Shares are pinned with task_call::affinity, so on the process pool each
// worker process holds only its own share (the seed's layout: N processes, N
// shares); on threads the shares live in one process. A worker that dies and
// is replaced lost its share: the query part that finds it missing loads it
// again, then answers, so a crash costs time, not answers.
//
// Lines are stripped of surrounding whitespace, as the seed does (ASCII
// whitespace and \x1c-\x1f, what Python's str.strip() removes from ASCII
// text), and a line matches when it contains the query byte for byte. A file
// with a NUL byte in its first 8 KiB is binary and skipped, as grep does.
// Output is in file order (paths sorted), then line order, whatever the
// number of workers.

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"

namespace scalekit::jobs::search {

/// How the engine loads the corpus and prints its lines.
struct engine_options {
  bool with_filename = false;                        ///< prefix each line with "PATH:"
  bool line_number = false;                          ///< prefix each line with "N:" (1-based, in its file)
  std::uint64_t max_bytes = std::uint64_t{8} << 30;  ///< corpus bound; files past it are refused (reported)
  std::size_t walk_threads = 0;                      ///< 0: one per core
};

struct load_report {
  std::uint64_t files = 0, bytes = 0, lines = 0;  ///< loaded
  std::uint64_t binary = 0;                       ///< skipped: binary
  std::uint64_t failed = 0;                       ///< unreadable files and directories, and files over max_bytes
  std::size_t shares = 0;
};

/// The lines matching one query.
struct matches {
  std::uint64_t lines = 0;
  std::string text;  ///< each matching line (with its prefixes) and '\n'
};

class engine {
 public:
  /// Walk `dir` and load every regular file into the executor's workers.
  /// Each unreadable file or directory (and a refusal over max_bytes) is one
  /// message through on_error; loading goes on. Fails when `dir` is not a
  /// readable directory or a worker cannot load at all. A stop request ends
  /// the walk early (cancelled); the load calls stop when whoever owns the
  /// executor cancels it.
  /// REQUIRES: register_tasks() ran in this program (and so in its workers).
  static result<std::unique_ptr<engine>> open(core::executor& ex, const std::string& dir, const engine_options& o,
                                              const std::function<void(const std::string&)>& on_error,
                                              std::stop_token stop = {});
  /// Drops the shares from the workers. REQUIRES: no query in flight (every
  /// done callback has been called).
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  [[nodiscard]] const load_report& report() const noexcept { return report_; }

  /// Search every share for `query`; done(r) is called once, from any thread,
  /// when all shares have answered (or one failed). Many queries may be in
  /// flight at once. Thread-safe.
  void submit(std::string query, std::function<void(result<matches>)> done);

  /// submit() and wait.
  result<matches> find(std::string query);

 private:
  struct query_state;
  engine(core::executor& ex, const engine_options& o) : ex_(ex), o_(o) {}
  void dispatch_part(const std::shared_ptr<query_state>& q, std::size_t share, bool reload);

  core::executor& ex_;
  engine_options o_;
  std::uint64_t nonce_ = 0;              // names this engine's shares in the workers
  std::vector<core::bytes> load_calls_;  // each share's load payload, kept for reloads
  load_report report_;
};

/// The job: what `scalekit search` does.
struct options {
  std::string dir{};  ///< the corpus: every regular file under it
  engine_options engine{};
  /// The queries, answered in this order. Empty: read them from query_fd.
  std::vector<std::string> queries{};
  /// When `queries` is empty: one query per line from this descriptor (a
  /// final '\r' dropped, empty lines skipped: they would match every line),
  /// each sent as soon as it is read, until the end of the input; -1: none.
  /// Not closed by the job.
  int query_fd = -1;
  /// Queries sent and not yet answered, at most. Answers are output in the
  /// order the queries came, each as soon as it and those before it are done.
  std::size_t in_flight = 64;
  /// A person types the queries: one at a time, and messages say when the
  /// corpus is loaded and how many lines each answer has.
  bool interactive = false;
};

/// Load o.dir into the executor's workers, then answer every query: each
/// query's matching lines are one output() (in file order; none when no line
/// matches), in the order the queries came. No progress: it would run into the
/// answers on a terminal. Each unreadable file or directory, and each failed
/// query, is a message and a failure; the rest go on. Returns an error when
/// o.dir is not a readable directory or a share cannot be loaded, cancelled
/// after a stop request (which also ends a wait for input on query_fd).
/// The report: files, text_lines, bytes, binary_skipped, unreadable, shares,
/// queries, matching_lines, failed_queries, load_s, the query latency (p50 and
/// p99, as query_p50_s and, for scripts, query_p50_us) and the executor.
/// After a stop `ex` is cancelled for good (executor::cancel()).
/// REQUIRES: register_tasks() ran in this program (and so in its workers).
/// Thread safety: one call per observer at a time.
result<core::report> run(const options& o, core::executor& ex, core::observer& obs);

/// Register search.load, search.query and search.unload.
void register_tasks();

}  // namespace scalekit::jobs::search
