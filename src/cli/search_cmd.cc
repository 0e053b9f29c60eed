// scalekit search: the seed's multi-process search engine.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <deque>
#include <fmt/format.h>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common.h"
#include "scalekit/core/stats.h"
#include "scalekit/jobs/search/search.h"

namespace scalekit::cli {

namespace {

namespace search = jobs::search;

struct search_cli_options {
  std::string dir;
  std::vector<std::string> queries;
  search::options engine;
  std::size_t in_flight = 64;
  executor_flags exec;
};

int run(const search_cli_options& o) {
  auto ex = o.exec.make();
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t errors = 0;
  auto opened = search::engine::open(*ex, o.dir, o.engine, [&](const std::string& msg) {
    ++errors;
    print_error("search", msg);
  });
  if (!opened.ok()) throw std::runtime_error(opened.error().message());
  auto& engine = *opened.value();
  const auto loaded = std::chrono::steady_clock::now();
  const auto& rep = engine.report();
  const bool interactive = o.queries.empty() && ::isatty(0) != 0;
  if (!globals().quiet && (interactive || !globals().json))
    std::fprintf(stderr, "search: loaded %llu files (%llu lines, %.1f MiB) in %llu shares in %.3f s%s\n",
                 static_cast<unsigned long long>(rep.files), static_cast<unsigned long long>(rep.lines),
                 static_cast<double>(rep.bytes) / (1 << 20), static_cast<unsigned long long>(rep.shares),
                 std::chrono::duration<double>(loaded - t0).count(),
                 interactive ? "; type a query per line, Ctrl-D to end" : "");

  // Queries in flight, answered in the order they were asked.
  core::latency_histogram latency;
  std::uint64_t asked = 0, matched_lines = 0, failed = 0;
  std::deque<std::pair<std::string, std::future<result<search::matches>>>> window;
  auto print_oldest = [&] {
    auto [text, fut] = std::move(window.front());
    window.pop_front();
    auto r = fut.get();
    if (!r.ok()) {
      ++failed;
      print_error("search", "query '" + text + "': " + r.error().message());
      return;
    }
    matched_lines += r->lines;
    if (!globals().json) std::fwrite(r->text.data(), 1, r->text.size(), stdout);
    std::fflush(stdout);
    if (interactive) std::fprintf(stderr, "(%llu lines)\n", static_cast<unsigned long long>(r->lines));
  };
  auto ask = [&](std::string text) {
    ++asked;
    auto p = std::make_shared<std::promise<result<search::matches>>>();
    window.emplace_back(text, p->get_future());
    const auto start = std::chrono::steady_clock::now();
    engine.submit(std::move(text), [p, start, &latency](result<search::matches> r) {
      latency.record(std::chrono::steady_clock::now() - start);
      p->set_value(std::move(r));
    });
    const std::size_t limit = interactive ? 1 : o.in_flight;  // a person waits for each answer
    while (window.size() >= limit) print_oldest();
  };
  if (!o.queries.empty()) {
    for (const auto& q : o.queries) ask(q);
  } else {
    for (std::string line; std::getline(std::cin, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) ask(std::move(line));  // an empty line is no query (it would match every line)
    }
  }
  while (!window.empty()) print_oldest();
  const auto end = std::chrono::steady_clock::now();

  print_summary("search",
                fmt::format("{} files, {} lines, {} binary skipped, {} unreadable; {} queries, {} matching lines, "
                            "{} failed",
                            rep.files, rep.lines, rep.binary, rep.failed, asked, matched_lines, failed),
                end - t0, static_cast<double>(asked), "queries",
                fmt::format("{} -j {}, load {:.3f} s, query latency p50 {} p99 {}", o.exec.executor, ex->concurrency(),
                            std::chrono::duration<double>(loaded - t0).count(),
                            core::format_duration(latency.percentile(0.5)),
                            core::format_duration(latency.percentile(0.99))));
  if (globals().json) {
    std::printf("%s\n", nlohmann::json{{"job", "search"},
                                       {"files", rep.files},
                                       {"lines", rep.lines},
                                       {"bytes", rep.bytes},
                                       {"binary_skipped", rep.binary},
                                       {"unreadable", rep.failed},
                                       {"shares", rep.shares},
                                       {"queries", asked},
                                       {"matching_lines", matched_lines},
                                       {"failed_queries", failed},
                                       {"load_s", std::chrono::duration<double>(loaded - t0).count()},
                                       {"query_p50_us", latency.percentile(0.5).count() / 1e3},
                                       {"query_p99_us", latency.percentile(0.99).count() / 1e3},
                                       {"elapsed_s", std::chrono::duration<double>(end - t0).count()}}
                            .dump()
                            .c_str());
  }
  return failed > 0 || errors > 0 ? exit_failed : exit_ok;
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto o = std::make_shared<search_cli_options>();
  auto* cmd = &command;
  cmd->add_option("dir", o->dir, "directory to load (recursively; symbolic links not followed)")->required();
  cmd->add_option("queries", o->queries, "text to look for; none: read queries from stdin, one per line");
  cmd->add_flag("-H,--with-filename", o->engine.with_filename, "prefix each line with its file's path");
  cmd->add_flag("-n,--line-number", o->engine.line_number, "prefix each line with its line number");
  cmd->add_option("--max-bytes", o->engine.max_bytes, "largest corpus to load; files past it are refused")
      ->capture_default_str();
  cmd->add_option("--in-flight", o->in_flight, "queries from stdin answered at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
      ->capture_default_str();
  o->exec.add_to(*cmd, "processes,threads,serial", "processes");
  cmd->footer(
      "Lines are printed stripped of surrounding whitespace, as the seed prints them, in file order. Files "
      "with a NUL byte in their first 8 KiB are binary and skipped. Exit status 1 when a file could not be "
      "read or a query failed.");
  cmd->callback([o] { run_job("search", [&] { return run(*o); }); });
}

const command_registration registered{{"search", add_command, jobs::search::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
