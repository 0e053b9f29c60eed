#include "scalekit/jobs/search/search.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <shared_mutex>

#include "scalekit/core/input_file.h"
#include "scalekit/core/wire.h"
#include "scalekit/jobs/find/find.h"

namespace scalekit::jobs::search {

namespace {

constexpr const char* load_task = "search.load";
constexpr const char* query_task = "search.query";
constexpr const char* unload_task = "search.unload";
constexpr const char* missing_share = "share not loaded in this worker";
constexpr std::size_t binary_probe = 8192;  // as grep: a NUL in the first 8 KiB means binary
constexpr std::uint32_t max_messages = 20;  // per load call; the rest are only counted
constexpr std::uint8_t flag_filename = 1, flag_line_number = 2;

// ---- worker side: the shares this process holds ----

struct share_corpus {
  std::string text;                     // every stripped line followed by '\n'
  std::vector<std::string> paths;       // file i
  std::vector<std::size_t> file_start;  // file i's lines start at text[file_start[i]]; one extra entry: the end
};

std::shared_mutex store_mutex;
std::map<std::uint64_t, std::shared_ptr<const share_corpus>>& store() {
  static std::map<std::uint64_t, std::shared_ptr<const share_corpus>> shares;
  return shares;
}

bool is_strip_space(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == ' ' || (u >= '\t' && u <= '\r') || (u >= 0x1c && u <= 0x1f);
}

// Append data's lines to `text`, each stripped and ended by '\n'. Returns the line count.
std::uint64_t append_stripped_lines(std::string_view data, std::string& text) {
  std::uint64_t lines = 0;
  while (!data.empty()) {
    const auto nl = data.find('\n');
    std::string_view line = data.substr(0, nl);
    data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
    while (!line.empty() && is_strip_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_strip_space(line.back())) line.remove_suffix(1);
    text.append(line);
    text.push_back('\n');
    ++lines;
  }
  return lines;
}

struct load_counts {
  std::uint64_t files = 0, bytes = 0, lines = 0, binary = 0, failed = 0;
  std::vector<std::string> messages;
  void fail(std::string msg) {
    ++failed;
    if (messages.size() < max_messages) messages.push_back(std::move(msg));
  }
};

// What the first block of a file says: a NUL there means binary (as grep),
// and a binary file is never read further. `size` gets the file's size.
enum class sniffed { text, binary, failed };
sniffed sniff(const std::string& path, std::uint64_t& size, load_counts& c) {
  auto f = core::open_input(path);
  if (!f.ok()) {
    c.fail(f.error().message());
    return sniffed::failed;
  }
  size = f->size();
  char block[binary_probe];
  std::size_t got = 0;
  while (got < sizeof block) {
    const ssize_t n = ::read(f->fd(), block + got, sizeof block - got);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      c.fail("cannot read '" + path + "': " + core::path_error_words(errno));
      return sniffed::failed;
    }
    got += static_cast<std::size_t>(n);
  }
  return std::memchr(block, 0, got) != nullptr ? sniffed::binary : sniffed::text;
}

// Read one file whole. false (with a message) when it cannot be read or is
// not a regular file (the walk lists regular files, but one may be swapped
// for a FIFO before it is read), or when it does not fit in memory.
bool read_file(const std::string& path, std::string& out, load_counts& c) {
  auto f = core::open_input(path);
  status s = f.ok() ? status() : f.error();
  try {
    if (s.ok()) s = f->read_all(out, std::numeric_limits<std::uint64_t>::max());
  } catch (const std::bad_alloc&) {
    out = std::string();
    s = status::io_error("cannot read '" + path + "': " + std::to_string(f->size()) +
                         " bytes do not fit in this process's memory");
  }
  if (!s.ok()) c.fail(s.message());
  return s.ok();
}

core::bytes load(std::string_view payload) {
  core::wire_reader in(payload);
  const auto id = in.get<std::uint64_t>();
  const auto count = in.get<std::uint32_t>();
  {
    std::shared_lock lock(store_mutex);
    if (store().count(id))
      return core::wire_writer().put<std::uint8_t>(0).take();  // a reload that raced: nothing to do
  }
  auto share = std::make_shared<share_corpus>();
  load_counts c;
  std::string data;
  std::vector<std::string> paths;
  paths.reserve(count);
  std::uint64_t expected = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string path(in.get_string());
    std::uint64_t size = 0;
    switch (sniff(path, size, c)) {
      case sniffed::text:
        paths.push_back(std::move(path));
        expected += size;
        break;
      case sniffed::binary: ++c.binary; break;
      case sniffed::failed: break;
    }
  }
  in.expect_end();
  // One allocation for the whole share: growing by doubling would peak at
  // twice the corpus. Files that are not text are not counted: they are
  // never held. Past this process's memory, the files say so one by one.
  try {
    share->text.reserve(expected + expected / 64);
  } catch (const std::bad_alloc&) {
  }
  for (auto& path : paths) {
    if (!read_file(path, data, c)) continue;
    if (std::memchr(data.data(), 0, std::min(data.size(), binary_probe)) != nullptr) {
      ++c.binary;
      continue;
    }
    const std::size_t start = share->text.size();
    try {
      c.lines += append_stripped_lines(data, share->text);
    } catch (const std::bad_alloc&) {  // the share outgrew memory: this file is left out, named
      share->text.resize(start);
      c.fail("cannot load '" + path + "': " + std::to_string(data.size()) +
             " more bytes do not fit in this process's memory");
      continue;
    }
    share->file_start.push_back(start);
    share->paths.push_back(std::move(path));
    c.bytes += data.size();
    ++c.files;
  }
  share->file_start.push_back(share->text.size());
  {
    std::unique_lock lock(store_mutex);
    store()[id] = std::move(share);
  }
  core::wire_writer out;
  out.put<std::uint8_t>(1).put(c.files).put(c.bytes).put(c.lines).put(c.binary).put(c.failed);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(c.messages.size()));
  for (const auto& m : c.messages) out.put_string(m);
  return out.take();
}

// Every line of `c` that contains `q`, in order, with the prefixes `flags` asks for.
void search_share(const share_corpus& c, std::string_view q, std::uint8_t flags, std::uint64_t& count,
                  std::string& out) {
  if (q.find('\n') != std::string_view::npos) return;  // no line holds a newline
  const char* base = c.text.data();
  const std::size_t n = c.text.size();
  std::size_t pos = 0;         // always at a line start
  std::size_t file = 0;        // the file holding `pos`
  std::size_t counted_to = 0;  // newlines counted up to here within `file`
  std::uint64_t line_no = 1;
  while (pos < n) {
    const void* hit = ::memmem(base + pos, n - pos, q.data(), q.size());
    if (hit == nullptr) break;
    const std::size_t h = static_cast<std::size_t>(static_cast<const char*>(hit) - base);
    const void* before = ::memrchr(base + pos, '\n', h - pos);
    const std::size_t start = before ? static_cast<std::size_t>(static_cast<const char*>(before) - base) + 1 : pos;
    const std::size_t end =
        static_cast<std::size_t>(static_cast<const char*>(std::memchr(base + h, '\n', n - h)) - base);
    if (flags) {
      if (c.file_start[file + 1] <= start) {
        while (c.file_start[file + 1] <= start) ++file;
        counted_to = c.file_start[file];
        line_no = 1;
      }
      line_no += static_cast<std::uint64_t>(std::count(base + counted_to, base + start, '\n'));
      counted_to = start;
      if (flags & flag_filename) out.append(c.paths[file]).push_back(':');
      if (flags & flag_line_number) out.append(std::to_string(line_no)).push_back(':');
    }
    out.append(base + start, end - start + 1);
    ++count;
    pos = end + 1;
  }
}

core::bytes query(std::string_view payload) {
  core::wire_reader in(payload);
  const auto id = in.get<std::uint64_t>();
  const auto flags = in.get<std::uint8_t>();
  const std::string_view q = in.get_string();
  in.expect_end();
  std::shared_ptr<const share_corpus> share;
  {
    std::shared_lock lock(store_mutex);
    auto it = store().find(id);
    if (it == store().end()) throw std::runtime_error(missing_share);
    share = it->second;
  }
  std::uint64_t count = 0;
  std::string text;
  search_share(*share, q, flags, count, text);
  core::wire_writer out;
  out.put(count).put_string(text);
  return out.take();
}

core::bytes unload(std::string_view payload) {
  core::wire_reader in(payload);
  const auto id = in.get<std::uint64_t>();
  std::unique_lock lock(store_mutex);
  store().erase(id);
  return {};
}

// ---- master side ----

struct file_entry {
  std::string path;
  std::uint64_t size;
};

std::uint64_t share_id(std::uint64_t nonce, std::size_t share) { return nonce << 16 | share; }

}  // namespace

void register_tasks() {
  auto& r = core::task_registry::global();
  r.add(load_task, load);
  r.add(query_task, query);
  r.add(unload_task, unload);
}

struct engine::query_state {
  std::string text;
  std::function<void(result<matches>)> done;
  std::chrono::steady_clock::time_point start;
  std::mutex mutex;
  // State below is protected by mutex.
  std::vector<matches> parts;
  std::size_t remaining;
  status error;
};

result<std::unique_ptr<engine>> engine::open(core::executor& ex, const std::string& dir, const engine_options& o,
                                             const std::function<void(const std::string&)>& on_error,
                                             std::stop_token stop) {
  std::unique_ptr<engine> e(new engine(ex, o));
  e->nonce_ = std::random_device{}() & 0xFFFFFFFFFFFFull;

  // 1. Every regular file under dir, sorted, with its size.
  std::vector<std::string> paths;
  find::walk_options wo;
  wo.threads = o.walk_threads;
  wo.regular_files_only = true;
  wo.stop = stop;
  std::uint64_t walk_errors = 0;
  auto walked = find::walk(
      dir, "", wo,
      [&](std::string_view batch) {
        while (!batch.empty()) {
          const auto nl = batch.find('\n');
          paths.emplace_back(batch.substr(0, nl));
          batch.remove_prefix(nl + 1);
        }
      },
      [&](const std::string& msg) {
        ++walk_errors;
        on_error(msg);
      });
  if (!walked.ok()) return walked.error();
  if (stop.stop_requested()) return status::cancelled("search stopped while walking '" + dir + "'");
  std::sort(paths.begin(), paths.end());
  std::vector<file_entry> files;
  files.reserve(paths.size());
  std::uint64_t total = 0, refused = 0;
  for (auto& p : paths) {
    struct stat st;
    const std::uint64_t size = ::stat(p.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    if (total + size > o.max_bytes) {
      ++refused;
      continue;
    }
    total += size;
    files.push_back({std::move(p), size});
  }
  if (refused > 0)
    on_error(std::to_string(refused) + " files not loaded: the corpus would pass the limit of " +
             std::to_string(o.max_bytes) + " bytes (--max-bytes)");

  // 2. One contiguous run of files per worker, balanced by bytes: file order
  // is share order, so concatenating the shares' answers keeps file order.
  const std::size_t shares =
      std::max<std::size_t>(1, std::min(ex.concurrency(), std::max<std::size_t>(1, files.size())));
  std::vector<core::task_call> calls;
  std::size_t next = 0;
  std::uint64_t cumulative = 0;
  for (std::size_t k = 0; k < shares; ++k) {
    const std::uint64_t goal = total * (k + 1) / shares;
    std::vector<std::string_view> mine;
    // Leave at least one file for each later share.
    while (next < files.size() && (k + 1 == shares || files.size() - next > shares - k - 1) &&
           (mine.empty() || cumulative + files[next].size <= goal || k + 1 == shares)) {
      cumulative += files[next].size;
      mine.push_back(files[next++].path);
    }
    core::wire_writer w;
    w.put<std::uint64_t>(share_id(e->nonce_, k)).put<std::uint32_t>(static_cast<std::uint32_t>(mine.size()));
    for (auto p : mine) w.put_string(p);
    e->load_calls_.push_back(w.take());
    calls.push_back(core::task_call{load_task, e->load_calls_.back(), k});
  }

  // 3. Load every share in its worker, and wait.
  e->report_.shares = shares;
  e->report_.failed = walk_errors + refused;
  auto loaded = ex.run_calls(std::move(calls));
  for (std::size_t k = 0; k < loaded.size(); ++k) {
    if (!loaded[k].ok())
      return status::io_error("loading share " + std::to_string(k) + ": " + loaded[k].error().message());
    core::wire_reader in(loaded[k].value());
    if (in.get<std::uint8_t>() == 0) continue;
    load_report& r = e->report_;
    r.files += in.get<std::uint64_t>();
    r.bytes += in.get<std::uint64_t>();
    r.lines += in.get<std::uint64_t>();
    r.binary += in.get<std::uint64_t>();
    const auto failed = in.get<std::uint64_t>();
    r.failed += failed;
    const auto messages = in.get<std::uint32_t>();
    for (std::uint32_t m = 0; m < messages; ++m) on_error(std::string(in.get_string()));
    if (failed > messages)
      on_error(std::to_string(failed - messages) + " more unreadable files in share " + std::to_string(k));
  }
  return e;
}

engine::~engine() {
  std::vector<core::task_call> calls;
  for (std::size_t k = 0; k < load_calls_.size(); ++k)
    calls.push_back(core::task_call{unload_task, core::wire_writer().put(share_id(nonce_, k)).take(), k});
  ex_.run_calls(std::move(calls));  // after every query: each share's calls run in order
}

void engine::submit(std::string text, std::function<void(result<matches>)> done) {
  auto q = std::make_shared<query_state>();
  q->text = std::move(text);
  q->done = std::move(done);
  q->start = std::chrono::steady_clock::now();
  q->parts.resize(load_calls_.size());
  q->remaining = load_calls_.size();
  for (std::size_t k = 0; k < load_calls_.size(); ++k) dispatch_part(q, k, false);
}

void engine::dispatch_part(const std::shared_ptr<query_state>& q, std::size_t share, bool reload) {
  std::vector<core::task_call> calls;
  if (reload) calls.push_back(core::task_call{load_task, load_calls_[share], share});
  const std::uint8_t flags = (o_.with_filename ? flag_filename : 0) | (o_.line_number ? flag_line_number : 0);
  calls.push_back(core::task_call{
      query_task, core::wire_writer().put(share_id(nonce_, share)).put(flags).put_string(q->text).take(), share});
  const std::size_t last = calls.size() - 1;
  ex_.dispatch(std::move(calls), [this, q, share, reload, last](std::size_t i, result<core::bytes> r) {
    if (i != last) return;  // the reload's own outcome shows in the query that follows it
    if (!r.ok() && !reload && r.error().message().find(missing_share) != std::string::npos) {
      dispatch_part(q, share, true);  // its worker was replaced: load the share again, then ask again
      return;
    }
    bool finished;
    {
      std::scoped_lock lock(q->mutex);
      if (!r.ok()) {
        if (q->error.ok()) q->error = r.error();
      } else {
        try {
          core::wire_reader in(r.value());
          q->parts[share].lines = in.get<std::uint64_t>();
          q->parts[share].text = std::string(in.get_string());
        } catch (const core::wire_error& e) {
          if (q->error.ok()) q->error = status::corruption(std::string("bad reply from a search worker: ") + e.what());
        }
      }
      finished = --q->remaining == 0;
    }
    if (!finished) return;
    if (!q->error.ok()) {
      q->done(q->error);
      return;
    }
    matches all;
    std::size_t size = 0;
    for (auto& p : q->parts) size += p.text.size();
    all.text.reserve(size);
    for (auto& p : q->parts) {
      all.lines += p.lines;
      all.text += p.text;
    }
    q->done(std::move(all));
  });
}

result<matches> engine::find(std::string text) {
  std::promise<result<matches>> p;
  auto f = p.get_future();
  submit(std::move(text), [&p](result<matches> r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace scalekit::jobs::search
