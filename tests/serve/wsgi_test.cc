#include "scalekit/serve/wsgi.h"

// The tests embed the interpreter the host starts: they hold its GIL on purpose
// (the GIL-wait and traceback tests) and check that no sink call holds it.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "protocol.h"  // src/serve/wsgi: the text rules, tested apart from Python

namespace wsgi = scalekit::serve::wsgi;
namespace protocol = scalekit::serve::wsgi::protocol;
using nlohmann::json;
using namespace std::chrono_literals;

// LeakSanitizer (the asan preset): the embedded interpreter is never finalised
// (docs/DESIGN.md), so its objects live until the process exits, and those
// referenced only from pymalloc's mmap'd arenas, which LSan does not scan, look
// unreachable; the same for what its extension modules load and keep (OpenSSL
// for _hashlib and _ssl: this binary links no OpenSSL of its own). A hook
// rather than LSAN_OPTIONS, which CTest's environment here does not carry.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libpython3.11.so\n"
         "leak:cpython-311-x86_64-linux-gnu.so\n"
         "leak:libcrypto.so\n";
}

namespace {

// --- the log ---------------------------------------------------------------------

struct log_entry {
  std::string line;
  std::string traceback;
};

std::mutex log_mutex;
std::vector<log_entry> log_entries;  // guarded by log_mutex

void capture(std::string_view line, std::string_view traceback) {
  std::lock_guard lock(log_mutex);
  log_entries.push_back({std::string(line), std::string(traceback)});
}

std::size_t log_size() {
  std::lock_guard lock(log_mutex);
  return log_entries.size();
}

std::vector<log_entry> log_since(std::size_t from) {
  std::lock_guard lock(log_mutex);
  return {log_entries.begin() + static_cast<std::ptrdiff_t>(from), log_entries.end()};
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// A parameterised case's name from its text ("/bad-head?case=x" -> "bad_head_case_x"), so
// that CTest's test names stay the same from one build to the next.
std::string case_name(std::string_view text, std::size_t index) {
  std::string name;
  for (const char c : text) {
    const bool word = std::isalnum(static_cast<unsigned char>(c)) != 0;
    if (word)
      name += c;
    else if (!name.empty() && name.back() != '_')
      name += '_';
  }
  return name + "_" + std::to_string(index);
}

// --- a sink that records ------------------------------------------------------------

class recording_sink : public wsgi::response_sink {
 public:
  bool start(const wsgi::response_head& h) override {
    note("start");
    ++starts;
    status_code = h.status_code;
    status = std::string(h.status);
    headers.clear();
    for (const auto& f : h.headers) headers.emplace_back(f.name, f.value);
    content_length = h.content_length;
    return true;
  }
  bool write(std::string_view chunk) override {
    note("write");
    if (fail_at_write >= 0 && writes++ == fail_at_write) return false;
    if (throw_at_write) throw std::runtime_error("the sink broke");
    body += chunk;
    return true;
  }
  bool sendfile(int fd, std::uint64_t offset, std::uint64_t length) override {
    note("sendfile");
    sendfiles.emplace_back(offset, length);
    return response_sink::sendfile(fd, offset, length);  // pread + write()
  }
  void end() override { note("end"); }
  void abort() override { note("abort"); }

  [[nodiscard]] std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (protocol::iequals(n, name)) return v;
    return {};
  }
  [[nodiscard]] std::string event_list() const {
    std::string out;
    for (const auto& e : events) out += (out.empty() ? "" : " ") + e;
    return out;
  }

  // What to simulate.
  int fail_at_write = -1;  ///< this write (0-based) returns false: the client went away
  bool throw_at_write = false;

  // What happened.
  std::vector<std::string> events;
  int starts = 0;
  int status_code = 0;
  std::string status;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::uint64_t> content_length;
  std::string body;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> sendfiles;
  bool gil_held = false;  ///< a sink call ran with the GIL held (it never should)

 private:
  void note(const char* event) {
    events.emplace_back(event);
    if (PyGILState_Check()) gil_held = true;
  }
  int writes = 0;
};

// --- the shared host -------------------------------------------------------------------

const std::vector<wsgi::app_spec>& mounted_apps() {
  static const std::vector<wsgi::app_spec> apps = {
      {"apps:whoami", ""},
      {"apps:echo_environ", "/env"},
      {"apps:echo_environ", "/env/deeper/"},
      {"apps:sys_info", "/sys"},
      {"flask_app:app", "/flask"},
      {"apps:validated", "/valid"},
      {"simple_app:simple_app", "/seed"},
      {"apps:hello", "/hello"},
      {"apps:input_ops", "/input"},
      {"apps:keep_input", "/input-keep"},
      {"apps:read_kept_input", "/input-kept"},
      {"apps:boom_before_start", "/boom/before"},
      {"apps:boom_after_start", "/boom/after-start"},
      {"apps:boom_in_iteration", "/boom/iteration"},
      {"apps:no_start_response", "/no-start"},
      {"apps:system_exit", "/exit"},
      {"apps:not_iterable", "/not-iterable"},
      {"apps:str_from_generator", "/str-late"},
      {"apps:bad_head", "/bad-head"},
      {"apps:exc_info_before_send", "/exc/before"},
      {"apps:exc_info_after_send", "/exc/after"},
      {"apps:exc_info_after_send_caught", "/exc/after-caught"},
      {"apps:second_start_without_exc_info", "/exc/second"},
      {"apps:write_app", "/write"},
      {"apps:write_str", "/write/str"},
      {"apps:write_until_gone", "/write/gone"},
      {"apps:last_write_error", "/write/last-error"},
      {"apps:closing", "/close"},
      {"apps:was_closed", "/close/check"},
      {"apps:close_raises", "/close/raises"},
      {"apps:content_length", "/length"},
      {"apps:head_like", "/head-like"},
      {"apps:empty_body", "/empty"},
      {"apps:lazy_generator", "/lazy"},
      {"apps:only_empty", "/only-empty"},
      {"apps:empty_then_raise", "/empty-then-raise"},
      {"apps:file_app", "/file"},
      {"apps:last_file_closed", "/file/closed"},
      {"apps:meet", "/meet"},
      {"apps:start_thread", "/thread/start"},
      {"apps:thread_result", "/thread/result"},
      {"apps:stuck_in_here", "/stuck"},
      {"apps:release_stuck", "/stuck/release"},
  };
  return apps;
}

wsgi::host_options shared_options() {
  wsgi::host_options o;
  o.apps = mounted_apps();
  o.chdir = SCALEKIT_WSGI_FIXTURES;
  o.pythonpath = {SCALEKIT_SEEDS_DIR};
  o.threads = 4;
  o.multiprocess = true;
  o.log = capture;
  return o;
}

// Started once per process and never destroyed: apps' own threads may outlive any test.
wsgi::host& shared_host() {
  static wsgi::host* const h = [] {
    // This environment may set it; the host must make stdout unbuffered by itself.
    ::unsetenv("PYTHONUNBUFFERED");
    auto r = wsgi::host::start(shared_options());
    if (!r.ok()) {
      std::fprintf(stderr, "cannot start the shared host: %s\n", r.error().to_string().c_str());
      std::abort();
    }
    return std::move(r).value().release();
  }();
  return *h;
}

wsgi::app_id app_at(std::string_view path) {
  const auto id = shared_host().find_app(path);
  if (!id) throw std::runtime_error("no app at " + std::string(path));
  return *id;
}

// A request that owns its bytes.
struct owned_request {
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<wsgi::header_field> fields;
  std::string path, query;

  wsgi::request view() {
    const auto q = target.find('?');
    path = target.substr(0, q);
    query = q == std::string::npos ? "" : target.substr(q + 1);
    fields.clear();
    for (const auto& [n, v] : headers) fields.push_back({n, v});
    wsgi::request r;
    r.method = method;
    r.target = target;
    r.path = path;
    r.query = query;
    r.version = "HTTP/1.1";
    r.headers = fields;
    r.body = body;
    r.remote_addr = "192.0.2.7";
    r.remote_port = 54321;
    r.server_name = "localhost";
    r.server_port = 8000;
    return r;
  }
};

struct reply {
  wsgi::call_result result;
  recording_sink sink;
  std::vector<log_entry> log;
  [[nodiscard]] json body_json() const { return json::parse(sink.body); }
};

reply serve(std::string method, std::string target, std::string body = {},
            std::vector<std::pair<std::string, std::string>> headers = {}, recording_sink sink = {}) {
  owned_request req{std::move(method), std::move(target), std::move(body), std::move(headers), {}, {}, {}};
  const wsgi::request view = req.view();
  const wsgi::app_id app = app_at(view.path);
  const std::size_t before = log_size();
  reply r;
  r.sink = std::move(sink);
  r.result = shared_host().call(app, view, r.sink);
  r.log = log_since(before);
  EXPECT_FALSE(r.sink.gil_held) << "a sink call ran with the GIL held";
  return r;
}

reply get(std::string target) { return serve("GET", std::move(target)); }

std::string to_hex(std::string_view s) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace

// ===== the text rules ========================================================================

TEST(WsgiProtocol, StatusLinesAreThreeDigitsASpaceAndAReason) {
  std::string why;
  EXPECT_EQ(protocol::parse_status("200 OK", why), 200);
  EXPECT_EQ(protocol::parse_status("404 Not Found", why), 404);
  EXPECT_EQ(protocol::parse_status("599 ", why), 599);
  for (const char* bad : {"OK", "200", "200OK", " 200 OK", "20 OK", "2000 OK", "099 Low", "101 Switching Protocols",
                          "600 Beyond", "200 OK\r\nX: y", "200 O\nK"})
    EXPECT_FALSE(protocol::parse_status(bad, why)) << bad;
}

TEST(WsgiProtocol, HeaderNamesValuesAndHopByHop) {
  EXPECT_TRUE(protocol::is_token("X-Custom_1.a"));
  EXPECT_FALSE(protocol::is_token(""));
  EXPECT_FALSE(protocol::is_token("Bad Name"));
  EXPECT_FALSE(protocol::is_token("Bad:Name"));
  EXPECT_TRUE(protocol::is_field_value("text/plain; charset=\"utf-8\"\t\xe9"));
  EXPECT_FALSE(protocol::is_field_value("a\r\nInjected: yes"));
  EXPECT_FALSE(protocol::is_field_value(std::string("a\0b", 3)));
  EXPECT_FALSE(protocol::is_field_value("a\x7f"));
  for (const char* h :
       {"Connection", "keep-alive", "TRANSFER-ENCODING", "Upgrade", "TE", "Trailer", "Proxy-Authorization"})
    EXPECT_TRUE(protocol::is_hop_by_hop(h)) << h;
  EXPECT_FALSE(protocol::is_hop_by_hop("Content-Length"));
  EXPECT_EQ(protocol::parse_content_length("0"), 0u);
  EXPECT_EQ(protocol::parse_content_length("123456"), 123456u);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "0x10", "1234567890123456789"})
    EXPECT_FALSE(protocol::parse_content_length(bad)) << bad;
  EXPECT_EQ(protocol::cgi_name("x-forwarded-for"), "HTTP_X_FORWARDED_FOR");
}

TEST(WsgiProtocol, PercentDecodingAndMounts) {
  EXPECT_EQ(protocol::percent_decode("/a%20b/%C3%A9%2f"), "/a b/\xc3\xa9/");
  EXPECT_EQ(protocol::percent_decode("/100%/%zz/%4"), "/100%/%zz/%4");
  EXPECT_EQ(protocol::percent_decode("/a+b"), "/a+b");
  std::string why;
  EXPECT_EQ(protocol::normalise_mount("", why), "");
  EXPECT_EQ(protocol::normalise_mount("/", why), "");
  EXPECT_EQ(protocol::normalise_mount("/api//", why), "/api");
  EXPECT_FALSE(protocol::normalise_mount("api", why));
  EXPECT_TRUE(protocol::under_mount("/api", "/api"));
  EXPECT_TRUE(protocol::under_mount("/api/x", "/api"));
  EXPECT_FALSE(protocol::under_mount("/apix", "/api"));
  EXPECT_TRUE(protocol::under_mount("/anything", ""));
}

// ===== start() ===============================================================================

TEST(WsgiStart, DebiansPythonWithItsDistPackagesAndOurPathsFirst) {
  const reply r = get("/sys");
  ASSERT_EQ(r.sink.status_code, 200) << r.sink.body;
  json info = r.body_json();
  EXPECT_EQ(info["executable"], "/usr/bin/python3");
  EXPECT_EQ(info["version"], json::array({3, 11}));
  EXPECT_EQ(info["flask"], true) << "Debian's dist-packages are not on sys.path";
  EXPECT_EQ(info["argv"], json::array({"scalekit-serve"}));
  const auto path = info["path"].get<std::vector<std::string>>();
  ASSERT_GE(path.size(), 2u);
  EXPECT_EQ(path[0], std::filesystem::path(SCALEKIT_SEEDS_DIR).lexically_normal().string());  // --pythonpath
  EXPECT_EQ(path[1], std::filesystem::canonical(SCALEKIT_WSGI_FIXTURES).string());            // --chdir
  EXPECT_EQ(info["cwd"], std::filesystem::canonical(SCALEKIT_WSGI_FIXTURES).string());
  EXPECT_NE(std::find(path.begin(), path.end(), "/usr/lib/python3/dist-packages"), path.end());
  EXPECT_EQ(info["stdout_line_buffered_or_raw"], true) << "stdout is buffered: an app's prints would be lost";
}

std::atomic<int> sigints_caught{0};
void count_sigint(int) { sigints_caught.fetch_add(1); }

TEST(WsgiStart, PythonInstallsNoSignalHandlers) {
  // When this process has no interpreter yet (ctest runs each case alone), the
  // server's own SIGINT handler, set before the start, must survive it.
  const bool fresh = !wsgi::dump_tracebacks().ok();
  struct sigaction mine {
  }, old{};
  mine.sa_handler = count_sigint;
  if (fresh) {
    ASSERT_EQ(sigaction(SIGINT, &mine, &old), 0);
  }
  shared_host();
  for (const int sig : {SIGINT, SIGPIPE, SIGXFSZ}) {
    struct sigaction sa {};
    ASSERT_EQ(sigaction(sig, nullptr, &sa), 0);
    const auto expected = fresh && sig == SIGINT ? &count_sigint : SIG_DFL;
    EXPECT_EQ(sa.sa_handler, expected) << "signal " << sig << " was taken over by Python";
  }
  if (!fresh) return;
  ASSERT_EQ(::raise(SIGINT), 0);
  EXPECT_EQ(sigints_caught.load(), 1);
  EXPECT_EQ(get("/hello").sink.body, "Hello, world!");  // no KeyboardInterrupt pending in Python either
  ASSERT_EQ(sigaction(SIGINT, &old, nullptr), 0);
}

struct import_case {
  const char* target;
  const char* summary;    // the status line ends with it
  const char* traceback;  // what the logged traceback holds ("": not checked)
  bool frames = true;     // it has Python frames ("Traceback (most recent call last):")
};

void PrintTo(const import_case& c, std::ostream* os) { *os << c.target; }

class WsgiStartErrors : public ::testing::TestWithParam<import_case> {};

TEST_P(WsgiStartErrors, AreOneLineAndATraceback) {
  shared_host();  // the interpreter is up: a failed start must leave it serving
  wsgi::host_options o = shared_options();
  o.apps = {{"apps:hello", "/ok"}, {GetParam().target, "/bad"}};
  const std::size_t before = log_size();
  auto h = wsgi::host::start(o);
  ASSERT_FALSE(h.ok());
  const std::string message = h.error().message();
  EXPECT_EQ(h.error().code(), scalekit::status_code::not_found);
  EXPECT_EQ(message, std::string("cannot load wsgi app '") + GetParam().target + "': " + GetParam().summary);
  EXPECT_FALSE(contains(message, "\n"));
  const auto logged = log_since(before);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].line, message);
  if (*GetParam().traceback != '\0') {
    EXPECT_EQ(contains(logged[0].traceback, "Traceback (most recent call last):"), GetParam().frames)
        << logged[0].traceback;
    EXPECT_TRUE(contains(logged[0].traceback, GetParam().traceback)) << logged[0].traceback;
  }
  EXPECT_EQ(get("/hello").sink.body, "Hello, world!");
}

INSTANTIATE_TEST_SUITE_P(
    Imports, WsgiStartErrors,
    ::testing::Values(
        import_case{"no_such_module:app", "ModuleNotFoundError: No module named 'no_such_module'", "no_such_module"},
        import_case{"broken_import:app", "RuntimeError: broken on purpose", "broken_import.py\", line 5, in _fail"},
        // getattr() fails in C, outside any Python frame: the traceback is the error alone.
        import_case{"apps:missing", "AttributeError: module 'apps' has no attribute 'missing'",
                    "AttributeError: module 'apps' has no attribute 'missing'", false},
        import_case{"apps:NOT_CALLABLE", "NOT_CALLABLE is not callable (it is 'a str')", ""}),
    [](const auto& c) { return case_name(c.param.target, c.index); });

TEST(WsgiStart, BadTargetsMountsAndDirectoriesAreRefused) {
  shared_host();
  auto start_with = [](std::vector<wsgi::app_spec> apps, std::string chdir = SCALEKIT_WSGI_FIXTURES) {
    wsgi::host_options o = shared_options();
    o.apps = std::move(apps);
    o.chdir = std::move(chdir);
    return wsgi::host::start(o).error();
  };
  EXPECT_EQ(start_with({{":app", ""}}).code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(start_with({{"apps:", ""}}).code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(start_with({{"apps:hello", "api"}}).code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(start_with({{"apps:hello", "/a"}, {"apps:whoami", "/a/"}}).code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(start_with({{"apps:hello", ""}}, "/no/such/directory").code(), scalekit::status_code::io_error);
}

TEST(WsgiStart, AHostCanBeDroppedAndAnotherStarted) {
  shared_host();
  for (int round = 0; round < 2; ++round) {
    wsgi::host_options o = shared_options();
    o.apps = {{"apps", ""}};  // without ':CALLABLE': apps.application
    auto h = wsgi::host::start(o);
    ASSERT_TRUE(h.ok()) << h.error().to_string();
    owned_request req{"GET", "/x", {}, {}, {}, {}, {}};
    recording_sink sink;
    const auto result = h.value()->call(0, req.view(), sink);
    EXPECT_EQ(result.what, wsgi::outcome::ok);
    EXPECT_EQ(sink.body, "Hello, world!");
  }
}

// ===== the environ ===========================================================================

TEST(WsgiEnviron, HasEveryCgiVariableAndWsgiKey) {
  const reply r = serve("POST", "/env/a%20b/c?x=1&y=%20", "body!",
                        {{"Host", "example.test"},
                         {"Content-Type", "text/plain"},
                         {"Content-Length", "5"},
                         {"X-Forwarded-For", "10.0.0.1"},
                         {"x-forwarded-for", "10.0.0.2"},
                         {"Cookie", "a=1"},
                         {"Cookie", "b=2"},
                         {"X_Forwarded_For", "spoofed"},
                         {"Transfer-Encoding", "chunked"}});
  ASSERT_EQ(r.sink.status_code, 200) << r.sink.body;
  json e = r.body_json();
  EXPECT_EQ(e["REQUEST_METHOD"], "POST");
  EXPECT_EQ(e["SCRIPT_NAME"], "/env");
  EXPECT_EQ(e["PATH_INFO"], "/a b/c");
  EXPECT_EQ(e["QUERY_STRING"], "x=1&y=%20");
  EXPECT_EQ(e["CONTENT_TYPE"], "text/plain");
  EXPECT_EQ(e["CONTENT_LENGTH"], "5");
  EXPECT_EQ(e["SERVER_NAME"], "localhost");
  EXPECT_EQ(e["SERVER_PORT"], "8000");
  EXPECT_EQ(e["SERVER_PROTOCOL"], "HTTP/1.1");
  EXPECT_EQ(e["SERVER_SOFTWARE"], "scalekit");
  EXPECT_EQ(e["REMOTE_ADDR"], "192.0.2.7");
  EXPECT_EQ(e["REMOTE_PORT"], "54321");
  EXPECT_EQ(e["REQUEST_URI"], "/env/a%20b/c?x=1&y=%20");
  EXPECT_EQ(e["RAW_URI"], "/env/a%20b/c?x=1&y=%20");
  EXPECT_EQ(e["HTTP_HOST"], "example.test");
  EXPECT_EQ(e["HTTP_X_FORWARDED_FOR"], "10.0.0.1, 10.0.0.2") << "not the underscore header's value";
  EXPECT_EQ(e["HTTP_COOKIE"], "a=1; b=2");
  EXPECT_FALSE(e.contains("HTTP_TRANSFER_ENCODING"));
  EXPECT_FALSE(e.contains("HTTP_CONTENT_TYPE"));
  EXPECT_FALSE(e.contains("HTTP_CONTENT_LENGTH"));
  EXPECT_EQ(e["wsgi.version"], json::array({1, 0}));
  EXPECT_EQ(e["wsgi.url_scheme"], "http");
  EXPECT_EQ(e["wsgi.multithread"], true);
  EXPECT_EQ(e["wsgi.multiprocess"], true);
  EXPECT_EQ(e["wsgi.run_once"], false);
  EXPECT_EQ(e["wsgi.input_terminated"], true);
  EXPECT_EQ(e["wsgi.errors"], "ErrorStream") << "whole lines to stderr, bounded (errors_stream.h)";
  EXPECT_EQ(e["wsgi.input body"], "body!");
  EXPECT_EQ(e["wsgi.file_wrapper callable"], true);
  EXPECT_EQ(e["types"], json::array({"str"})) << "keys and CGI values must be native strings";
}

TEST(WsgiEnviron, NoBodyNoContentLengthAndPathsAreLatin1NativeStrings) {
  const reply r = get("/env/%C3%A9t%C3%A9");
  json e = r.body_json();
  EXPECT_FALSE(e.contains("CONTENT_LENGTH"));
  EXPECT_FALSE(e.contains("CONTENT_TYPE"));
  EXPECT_EQ(e["QUERY_STRING"], "");
  // PEP 3333: the bytes of the path, decoded as latin-1 (the app re-encodes to get UTF-8).
  EXPECT_EQ(e["PATH_INFO"], "/\u00c3\u00a9t\u00c3\u00a9");
}

// ===== mounts ================================================================================

TEST(WsgiMounts, TheLongestPrefixOnASegmentBoundaryServes) {
  auto& h = shared_host();
  auto mount_of = [&](std::string_view path) { return h.app(*h.find_app(path)).mount; };
  EXPECT_EQ(mount_of("/env"), "/env");
  EXPECT_EQ(mount_of("/env/x"), "/env");
  EXPECT_EQ(mount_of("/env/deeper"), "/env/deeper");
  EXPECT_EQ(mount_of("/env/deeper/x/y"), "/env/deeper");
  EXPECT_EQ(mount_of("/envx"), "");
  EXPECT_EQ(mount_of("/"), "");
  EXPECT_EQ(mount_of("/env%2Fdeeper"), "/env/deeper") << "mounts match the decoded path, as PATH_INFO";
  EXPECT_EQ(h.app(*h.find_app("/write/str")).target, "apps:write_str");
}

TEST(WsgiMounts, ScriptNameIsTheMountAndPathInfoTheRest) {
  struct expect {
    const char* target;
    const char* script_name;
    const char* path_info;
  };
  for (const auto& x : {expect{"/env", "/env", ""}, expect{"/env/", "/env", "/"}, expect{"/env/a/b", "/env", "/a/b"},
                        expect{"/env/deeper", "/env/deeper", ""}, expect{"/env/deeper/a", "/env/deeper", "/a"}}) {
    json e = get(x.target).body_json();
    EXPECT_EQ(e["SCRIPT_NAME"], x.script_name) << x.target;
    EXPECT_EQ(e["PATH_INFO"], x.path_info) << x.target;
  }
  EXPECT_EQ(serve("GET", "/elsewhere/x", {}, {{"X-Id", "root"}}).sink.body, "root /elsewhere/x");
}

// ===== a real framework: Flask ===============================================================

TEST(WsgiFlask, ServesItsRoutesUnderItsMount) {
  const reply hello = get("/flask/");
  EXPECT_EQ(hello.result.what, wsgi::outcome::ok);
  EXPECT_EQ(hello.sink.status, "200 OK");
  EXPECT_EQ(hello.sink.body, "Hello from Flask");
  EXPECT_EQ(hello.sink.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(hello.sink.content_length, 16u);

  json where = serve("GET", "/flask/where?x=1", {}, {{"Host", "example.test"}}).body_json();
  EXPECT_EQ(where["script_root"], "/flask");
  EXPECT_EQ(where["path"], "/where");
  EXPECT_EQ(where["url"], "http://example.test/flask/where?x=1");
  EXPECT_EQ(where["args"], json({{"x", "1"}}));

  const reply echo = serve("POST", "/flask/echo", R"({"numbers": [3, 1, 2]})", {{"Content-Type", "application/json"}});
  EXPECT_EQ(echo.body_json()["received"], json({{"numbers", {3, 1, 2}}}));
  EXPECT_EQ(echo.body_json()["length"], 22);

  const std::string multipart =
      "--XyZ\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\nfile line 1\nfile line 2\n\r\n--XyZ--\r\n";
  const reply form = serve("POST", "/flask/form", multipart, {{"Content-Type", "multipart/form-data; boundary=XyZ"}});
  EXPECT_EQ(form.body_json()["form"], json({{"field", "value"}}));
  EXPECT_EQ(form.body_json()["files"], json({{"upload", "file line 1\nfile line 2\n"}}));

  const reply stream = get("/flask/stream");
  EXPECT_EQ(stream.sink.body, "part 0\npart 1\npart 2\n");
  EXPECT_EQ(stream.sink.event_list(), "start write write write end") << "streamed piece by piece";
  EXPECT_FALSE(stream.sink.content_length);

  EXPECT_EQ(get("/flask/missing").sink.status_code, 404);
  EXPECT_TRUE(hello.log.empty() && echo.log.empty() && form.log.empty() && stream.log.empty());
}

TEST(WsgiFlask, ItsOwnErrorPageIsNotOurs) {
  const reply r = get("/flask/fail");  // Flask catches the view's error and answers 500 itself
  EXPECT_EQ(r.sink.status_code, 500);
  EXPECT_EQ(r.result.what, wsgi::outcome::ok);
  EXPECT_TRUE(r.log.empty());
}

TEST(WsgiFlask, HeadKeepsTheContentLengthWithoutABody) {
  const reply r = serve("HEAD", "/flask/");
  EXPECT_EQ(r.result.what, wsgi::outcome::ok);
  EXPECT_EQ(r.sink.status_code, 200);
  EXPECT_EQ(r.sink.header("Content-Length"), "16");
  EXPECT_EQ(r.sink.body, "");
  EXPECT_EQ(r.sink.event_list(), "start end");
  EXPECT_TRUE(r.log.empty()) << r.log[0].line;
}

// ===== wsgiref.validate: PEP 3333 asserted from the application side ==============================

TEST(WsgiValidator, FindsNothingToAssert) {
  struct expect {
    const char* method;
    const char* target;
    const char* body;
    const char* reply;
  };
  for (const auto& x : {expect{"GET", "/valid/", "", "valid"}, expect{"GET", "/valid?q=1", "", "valid"},
                        expect{"POST", "/valid/input", "first\nsecond", "got first"},
                        expect{"GET", "/valid/write", "", "written and returned"},
                        expect{"GET", "/valid/errors", "", "wrote to wsgi.errors"}}) {
    const reply r = serve(x.method, x.target, x.body, {{"Content-Type", "text/plain"}});
    EXPECT_EQ(r.result.what, wsgi::outcome::ok) << x.target;
    EXPECT_EQ(r.sink.status_code, 200) << x.target;
    EXPECT_EQ(r.sink.body, x.reply) << x.target;
    for (const auto& e : r.log) ADD_FAILURE() << x.target << ": " << e.line << "\n" << e.traceback;
  }
  const reply file = get("/valid/file");
  EXPECT_EQ(file.sink.status_code, 200);
  EXPECT_TRUE(contains(file.sink.body, "wsgiref.validate")) << "the file is apps.py itself";
  EXPECT_TRUE(file.log.empty());
}

// ===== the seed's simple_app =================================================================

TEST(WsgiSeed, SimpleAppsStrBodyIsA500AndOneLogLine) {
  auto& h = shared_host();
  const auto before = h.stats(app_at("/seed"));
  const reply r = get("/seed");
  EXPECT_EQ(r.result.what, wsgi::outcome::app_error);
  EXPECT_EQ(r.result.status_code, 500);
  EXPECT_EQ(r.sink.status, "500 Internal Server Error");
  EXPECT_EQ(r.sink.body, "Internal Server Error\n");
  EXPECT_EQ(r.sink.event_list(), "start write end");
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_EQ(r.log[0].line,
            "wsgi app 'simple_app:simple_app': GET /seed: TypeError: the body must be bytes, not str: "
            "'Hello world!\\n' (500 sent)");
  const auto after = h.stats(app_at("/seed"));
  EXPECT_EQ(after.calls, before.calls + 1);
  EXPECT_EQ(after.app_errors, before.app_errors + 1);
  EXPECT_EQ(get("/hello").sink.body, "Hello, world!") << "the host keeps serving";
}

// ===== the buffered form: call(app, req) -> buffered_response ========================================

// The whole response in one struct, for a worker that sends only complete ones.
wsgi::buffered_response call_buffered(std::string method, std::string target, std::string body = {}) {
  owned_request req{std::move(method), std::move(target), std::move(body), {}, {}, {}, {}};
  const wsgi::request view = req.view();
  return shared_host().call(app_at(view.path), view);
}

TEST(WsgiBuffered, FlaskAFileAndTheSeedComeBackWhole) {
  const auto flask = call_buffered("GET", "/flask/");
  EXPECT_EQ(flask.result.what, wsgi::outcome::ok);
  EXPECT_EQ(flask.status_code, 200);
  EXPECT_EQ(flask.status, "200 OK");
  EXPECT_EQ(flask.body, "Hello from Flask");
  EXPECT_EQ(flask.content_length, 16u);
  EXPECT_NE(std::find(flask.headers.begin(), flask.headers.end(),
                      std::pair<std::string, std::string>{"Content-Type", "text/html; charset=utf-8"}),
            flask.headers.end());

  const auto file = call_buffered("GET", "/file?path=" + std::string(SCALEKIT_WSGI_FIXTURES) + "/apps.py");
  std::ifstream in(std::string(SCALEKIT_WSGI_FIXTURES) + "/apps.py", std::ios::binary);
  const std::string apps_py((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(file.result.what, wsgi::outcome::ok);
  EXPECT_EQ(file.body, apps_py);
  EXPECT_EQ(file.result.body_bytes, apps_py.size());

  const auto seed = call_buffered("GET", "/seed");
  EXPECT_EQ(seed.result.what, wsgi::outcome::app_error);
  EXPECT_EQ(seed.status_code, 500);
  EXPECT_EQ(seed.body, "Internal Server Error\n");
}

TEST(WsgiBuffered, ACutResponseSaysSo) {
  const auto r = call_buffered("GET", "/boom/iteration");
  EXPECT_EQ(r.result.what, wsgi::outcome::cut);
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(r.body, "first part");  // a part only, which the worker must not send as a whole
}

// ===== failing and non-conforming applications ====================================================

TEST(WsgiFailures, AnExceptionBeforeStartResponseIsA500WithItsTraceback) {
  const reply r = get("/boom/before");
  EXPECT_EQ(r.result.what, wsgi::outcome::app_error);
  EXPECT_EQ(r.sink.status_code, 500);
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_EQ(r.log[0].line,
            "wsgi app 'apps:boom_before_start': GET /boom/before: ZeroDivisionError: division by zero (500 sent)");
  EXPECT_TRUE(contains(r.log[0].traceback, "in boom_before_start")) << r.log[0].traceback;
  EXPECT_TRUE(contains(r.log[0].traceback, "apps.py")) << r.log[0].traceback;
}

TEST(WsgiFailures, AnExceptionAfterStartResponseButBeforeTheBodyIsStillA500) {
  const reply r = get("/boom/after-start");
  EXPECT_EQ(r.result.what, wsgi::outcome::app_error);
  EXPECT_EQ(r.sink.status_code, 500) << "the app's 200 was never sent, so it can still become a 500";
  EXPECT_EQ(r.sink.starts, 1);
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_TRUE(contains(r.log[0].line, "KeyError: 'after start_response' (500 sent)")) << r.log[0].line;
}

TEST(WsgiFailures, AnExceptionAfterTheHeadCutsTheConnection) {
  const reply r = get("/boom/iteration");
  EXPECT_EQ(r.result.what, wsgi::outcome::cut);
  EXPECT_EQ(r.sink.event_list(), "start write abort");
  EXPECT_EQ(r.sink.body, "first part");
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_TRUE(contains(r.log[0].line, "RuntimeError: failed in the middle (connection cut)")) << r.log[0].line;
  EXPECT_TRUE(contains(r.log[0].traceback, "in boom_in_iteration")) << r.log[0].traceback;
}

TEST(WsgiFailures, AStrAfterBytesCutsTheConnection) {
  const reply r = get("/str-late");
  EXPECT_EQ(r.result.what, wsgi::outcome::cut);
  EXPECT_EQ(r.sink.event_list(), "start write abort");
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_TRUE(contains(r.log[0].line, "the body must be bytes, not str: 'then a str' (connection cut)"));
}

TEST(WsgiFailures, AnEmptyPieceSendsNoHeadSoAnErrorIsStillA500) {
  const reply r = get("/empty-then-raise");
  EXPECT_EQ(r.result.what, wsgi::outcome::app_error);
  EXPECT_EQ(r.sink.status_code, 500);
  EXPECT_EQ(r.sink.starts, 1);
}

struct bad_case {
  const char* target;
  const char* error;  // the log line contains it
};

void PrintTo(const bad_case& c, std::ostream* os) { *os << c.target; }

class WsgiNonConforming : public ::testing::TestWithParam<bad_case> {};

TEST_P(WsgiNonConforming, GetsA500AndOneLogLine) {
  const reply r = get(GetParam().target);
  EXPECT_EQ(r.result.what, wsgi::outcome::app_error);
  EXPECT_EQ(r.sink.status_code, 500);
  EXPECT_EQ(r.sink.body, "Internal Server Error\n");
  EXPECT_TRUE(r.sink.header("X-Bad").empty() && r.sink.header("Injected").empty());
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_TRUE(contains(r.log[0].line, GetParam().error)) << r.log[0].line;
  EXPECT_TRUE(contains(r.log[0].line, "(500 sent)")) << r.log[0].line;
  EXPECT_FALSE(contains(r.log[0].line, "\n"));
}

INSTANTIATE_TEST_SUITE_P(
    Apps, WsgiNonConforming,
    ::testing::Values(
        bad_case{"/no-start", "the app did not call start_response()"}, bad_case{"/exit", "SystemExit: 3"},
        bad_case{"/not-iterable", "TypeError: 'int' object is not iterable"},
        bad_case{"/bad-head?case=status-no-reason", "ValueError: start_response: the status 'OK' must be three digits"},
        bad_case{"/bad-head?case=status-short-code", "the status '99 Low' must be three digits"},
        bad_case{"/bad-head?case=status-informational", "is not a final HTTP status"},
        bad_case{"/bad-head?case=status-bytes", "TypeError: start_response: the status must be a str, not bytes"},
        bad_case{"/bad-head?case=status-newline", "has a control character"},
        bad_case{"/bad-head?case=header-crlf", "the value of header 'X-Bad' has a control character"},
        bad_case{"/bad-head?case=header-name-space", "the header name 'Bad Name' is not an HTTP token"},
        bad_case{"/bad-head?case=header-hop-by-hop", "'Connection' is a hop-by-hop header"},
        bad_case{"/bad-head?case=header-not-latin1", "has characters beyond latin-1"},
        bad_case{"/bad-head?case=header-bytes", "a header name must be a str, not bytes"},
        bad_case{"/bad-head?case=header-not-tuple", "header 0 must be a (name, value) tuple, not list"},
        bad_case{"/bad-head?case=headers-dict", "the headers must be a list of (name, value) tuples, not dict"},
        bad_case{"/bad-head?case=content-length-bad", "bad Content-Length '12abc'"}),
    [](const auto& c) { return case_name(c.param.target, c.index); });

TEST(WsgiFailures, ASinkThatThrowsIsAClientThatWentAway) {
  recording_sink sink;
  sink.throw_at_write = true;
  const reply r = serve("GET", "/hello", {}, {}, sink);
  EXPECT_EQ(r.result.what, wsgi::outcome::client_gone);
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_TRUE(contains(r.log[0].line, "the response sink's write() threw: the sink broke")) << r.log[0].line;
  EXPECT_EQ(get("/hello").sink.body, "Hello, world!");
}

// ===== start_response and exc_info ================================================================

TEST(WsgiStartResponse, ExcInfoBeforeTheHeadWentOutReplacesIt) {
  const reply r = get("/exc/before");
  EXPECT_EQ(r.result.what, wsgi::outcome::ok);
  EXPECT_EQ(r.sink.status, "503 Service Unavailable");
  EXPECT_EQ(r.sink.body, "handled: changed my mind");
  EXPECT_TRUE(r.log.empty());
}

TEST(WsgiStartResponse, ExcInfoAfterTheHeadWentOutReRaisesIt) {
  const reply r = get("/exc/after");
  EXPECT_EQ(r.result.what, wsgi::outcome::cut);
  EXPECT_EQ(r.sink.event_list(), "start write abort");
  EXPECT_EQ(r.sink.status_code, 200);
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_TRUE(contains(r.log[0].line, "LookupError: too late (connection cut)")) << r.log[0].line;

  const reply caught = get("/exc/after-caught");  // the re-raised error is the app's own exception
  EXPECT_EQ(caught.result.what, wsgi::outcome::ok);
  EXPECT_EQ(caught.sink.body, "already sentre-raised: too late");
}

TEST(WsgiStartResponse, ASecondCallWithoutExcInfoIsAnError) {
  const reply r = get("/exc/second");
  EXPECT_EQ(r.sink.status_code, 500);
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_TRUE(contains(r.log[0].line, "start_response() called a second time without exc_info")) << r.log[0].line;
}

// ===== write() ===================================================================================

TEST(WsgiWrite, WritesGoOutAtOnceBeforeTheReturnedBody) {
  const reply r = get("/write");
  EXPECT_EQ(r.result.what, wsgi::outcome::ok);
  EXPECT_EQ(r.sink.body, "Hello, world!");
  EXPECT_EQ(r.sink.event_list(), "start write write write end");
  EXPECT_FALSE(r.sink.content_length) << "the length was not known when the head went out";
}

TEST(WsgiWrite, WritingAStrIsA500) {
  const reply r = get("/write/str");
  EXPECT_EQ(r.sink.status_code, 500);
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_TRUE(contains(r.log[0].line, "TypeError: write() takes bytes, not str")) << r.log[0].line;
}

TEST(WsgiWrite, WritingToAClientThatWentAwayRaisesInTheApp) {
  recording_sink sink;
  sink.fail_at_write = 2;
  const reply r = serve("GET", "/write/gone", {}, {}, sink);
  EXPECT_EQ(r.result.what, wsgi::outcome::client_gone);
  EXPECT_EQ(r.sink.event_list(), "start write write write") << "nothing after the failed write";
  EXPECT_TRUE(r.log.empty()) << "a client that leaves is not the app's error";
  EXPECT_EQ(get("/write/last-error").sink.body, "BrokenPipeError");
}

// ===== close() ===================================================================================

struct close_case {
  const char* kind;
  int fail_at_write;
  wsgi::outcome what;
};
void PrintTo(const close_case& c, std::ostream* os) { *os << c.kind << " at write " << c.fail_at_write; }

class WsgiClose : public ::testing::TestWithParam<close_case> {};

TEST_P(WsgiClose, IsCalledWhateverHappens) {
  static int counter = 0;
  const std::string token = std::string(GetParam().kind) + std::to_string(++counter) + "-" + std::to_string(getpid());
  recording_sink sink;
  sink.fail_at_write = GetParam().fail_at_write;
  const reply r = serve("GET", "/close?kind=" + std::string(GetParam().kind) + "&token=" + token, {}, {}, sink);
  EXPECT_EQ(r.result.what, GetParam().what);
  EXPECT_EQ(get("/close/check?token=" + token).sink.body, "yes");
}

INSTANTIATE_TEST_SUITE_P(Cases, WsgiClose,
                         ::testing::Values(close_case{"normal", -1, wsgi::outcome::ok},
                                           close_case{"raises", -1, wsgi::outcome::cut},
                                           close_case{"str", -1, wsgi::outcome::cut},
                                           close_case{"many", 0, wsgi::outcome::client_gone},
                                           close_case{"many", 3, wsgi::outcome::client_gone}),
                         [](const auto& c) { return case_name(c.param.kind, c.index); });

TEST(WsgiClose, ItsErrorsAreLoggedAfterAWholeResponse) {
  const reply r = get("/close/raises");
  EXPECT_EQ(r.result.what, wsgi::outcome::ok);
  EXPECT_EQ(r.sink.body, "body");
  EXPECT_EQ(r.sink.event_list(), "start write end");
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_TRUE(contains(r.log[0].line, "its result's close() raised OSError: close failed")) << r.log[0].line;
}

// ===== Content-Length and when the head goes out ===================================================

TEST(WsgiContentLength, NeverMoreThanDeclared) {
  for (const char* how : {"list", "generator"}) {
    const reply r = get(std::string("/length?declared=5&body=Hello+world&how=") + how);
    EXPECT_EQ(r.result.what, wsgi::outcome::ok) << how;
    EXPECT_EQ(r.sink.body, "Hello") << how;
    EXPECT_EQ(r.sink.event_list().substr(0, 11), "start write") << how;
    EXPECT_EQ(r.sink.events.back(), "end") << how;
    ASSERT_EQ(r.log.size(), 1u) << how;
    EXPECT_TRUE(contains(r.log[0].line, "the body is longer than its Content-Length (5 bytes)")) << r.log[0].line;
  }
}

TEST(WsgiContentLength, LessThanDeclaredIsLoggedAndCut) {
  const reply r = get("/length?declared=20&body=short");
  EXPECT_EQ(r.result.what, wsgi::outcome::cut);
  EXPECT_EQ(r.sink.event_list(), "start write abort");
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_TRUE(
      contains(r.log[0].line, "the body is 5 bytes, shorter than its Content-Length (20 bytes) (connection cut)"))
      << r.log[0].line;

  const reply nothing = get("/length?declared=20&body=");  // nothing sent yet: it can still be a 500
  EXPECT_EQ(nothing.result.what, wsgi::outcome::app_error);
  EXPECT_EQ(nothing.sink.status_code, 500);
}

TEST(WsgiContentLength, HeadAnd204HaveNoBodyWhateverTheLength) {
  const reply head = serve("HEAD", "/head-like");
  EXPECT_EQ(head.result.what, wsgi::outcome::ok);
  EXPECT_EQ(head.sink.event_list(), "start end");
  EXPECT_EQ(head.sink.content_length, 100u);
  EXPECT_TRUE(head.log.empty());
  EXPECT_EQ(get("/head-like").result.what, wsgi::outcome::app_error) << "a GET must get its 100 bytes";
  const reply empty = get("/empty");
  EXPECT_EQ(empty.result.what, wsgi::outcome::ok);
  EXPECT_EQ(empty.sink.status_code, 204);
  EXPECT_EQ(empty.sink.content_length, 0u);
}

TEST(WsgiContentLength, AListsTotalIsKnownBeforeTheBody) {
  const reply r = get("/hello");  // [b"Hello, ", b"world!"], no Content-Length header
  EXPECT_EQ(r.sink.content_length, 13u);
  EXPECT_TRUE(r.sink.header("Content-Length").empty()) << "the app's headers are not changed";
  EXPECT_EQ(r.sink.event_list(), "start write write end");
}

TEST(WsgiHead, GoesOutWithTheFirstNonEmptyPiece) {
  const reply lazy = get("/lazy");
  EXPECT_EQ(lazy.sink.event_list(), "start write write end");
  EXPECT_EQ(lazy.sink.body, "late body");
  const reply empty = get("/only-empty");  // start_response inside the generator, b"" only
  EXPECT_EQ(empty.result.what, wsgi::outcome::ok);
  EXPECT_EQ(empty.sink.event_list(), "start end");
  EXPECT_EQ(empty.sink.content_length, 0u);
}

// ===== wsgi.file_wrapper ==========================================================================

class WsgiFileWrapper : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("wsgi-file-" + std::to_string(getpid()) + ".bin");
    for (int i = 0; i < 100000; ++i) content_ += static_cast<char>('a' + i % 26);
    std::ofstream(path_, std::ios::binary) << content_;
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
  std::string content_;
};

TEST_F(WsgiFileWrapper, ARegularFileGoesThroughSendfile) {
  const reply r = get("/file?path=" + path_.string());
  EXPECT_EQ(r.result.what, wsgi::outcome::ok);
  ASSERT_EQ(r.sink.sendfiles.size(), 1u);
  EXPECT_EQ(r.sink.sendfiles[0], std::make_pair(std::uint64_t{0}, std::uint64_t{100000}));
  EXPECT_EQ(r.sink.content_length, 100000u) << "the file's size is known before the body";
  EXPECT_TRUE(r.sink.body == content_);
  EXPECT_EQ(get("/file/closed").sink.body, "closed");

  const reply seeked = get("/file?seek=1000&path=" + path_.string());
  ASSERT_EQ(seeked.sink.sendfiles.size(), 1u);
  EXPECT_EQ(seeked.sink.sendfiles[0], std::make_pair(std::uint64_t{1000}, std::uint64_t{99000}));
  EXPECT_TRUE(seeked.sink.body == content_.substr(1000));
}

TEST_F(WsgiFileWrapper, ContentLengthCutsTheFile) {
  const reply r = get("/file?declared=500&path=" + path_.string());
  ASSERT_EQ(r.sink.sendfiles.size(), 1u);
  EXPECT_EQ(r.sink.sendfiles[0].second, 500u);
  EXPECT_EQ(r.sink.body, content_.substr(0, 500));
  ASSERT_EQ(r.log.size(), 1u);
  EXPECT_TRUE(contains(r.log[0].line, "the file is longer than its Content-Length (500 bytes)")) << r.log[0].line;
}

TEST_F(WsgiFileWrapper, OtherFileLikesAreIterated) {
  const reply r = get("/file?kind=bytesio");
  EXPECT_EQ(r.result.what, wsgi::outcome::ok);
  EXPECT_TRUE(r.sink.sendfiles.empty());
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += "from memory ";
  EXPECT_EQ(r.sink.body, expected);
  EXPECT_EQ(r.sink.event_list(), "start write end") << "1200 bytes: one block of at most 4096";
  EXPECT_EQ(get("/file/closed").sink.body, "closed");
}

TEST_F(WsgiFileWrapper, TheDefaultSendfileReadsTheFile) {
  struct collecting : wsgi::response_sink {
    bool start(const wsgi::response_head&) override { return true; }
    bool write(std::string_view c) override {
      body += c;
      return true;
    }
    void end() override {}
    void abort() override {}
    std::string body;
  } sink;
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(sink.sendfile(fd, 10, 99990));
  EXPECT_TRUE(sink.body == content_.substr(10));
  EXPECT_FALSE(sink.sendfile(fd, 99990, 20)) << "the file is shorter than asked";
  ::close(fd);
}

// ===== wsgi.input ================================================================================

TEST(WsgiInput, EveryMethodReadsAsPythonsOwnFilesDo) {
  const std::vector<std::string> bodies = {
      "line1\nline2\nlast", "",
      "no newline at all",  "\n\n",
      "a\r\nb\n",           std::string(10000, 'x') + "\n" + std::string(5000, 'y')};
  const std::vector<std::string> ops = {"op=read",           "op=read-none",       "op=chunks&arg=1",
                                        "op=chunks&arg=4",   "op=chunks&arg=4096", "op=readline",
                                        "op=readline&arg=3", "op=readlines",       "op=readlines&arg=7",
                                        "op=iter",           "op=readinto&arg=5",  "op=mixed"};
  for (const auto& body : bodies)
    for (const auto& op : ops) {
      const reply r = serve("POST", "/input?" + op + "&ref=" + to_hex(body), body);
      ASSERT_EQ(r.sink.status_code, 200) << op << "\n" << (r.log.empty() ? "" : r.log[0].traceback);
      json j = r.body_json();
      EXPECT_EQ(j["got"], j["expected"]) << op << " on " << json(body).dump();
    }
}

TEST(WsgiInput, LinesAndChunksOfABodyWithAndWithoutANewline) {
  auto got = [](const std::string& op, const std::string& body) {
    return serve("POST", "/input?" + op, body).body_json()["got"];
  };
  EXPECT_EQ(got("op=readline", "line1\nline2\nlast"), json::array({"line1\n", "line2\n", "last", ""}));
  EXPECT_EQ(got("op=readline", "no newline"), json::array({"no newline", ""}));
  EXPECT_EQ(got("op=readline&arg=3", "abcdef\ng"), json::array({"abc", "def", "\n", "g", ""}));
  EXPECT_EQ(got("op=readlines", "a\nb"), json::array({"a\n", "b"}));
  EXPECT_EQ(got("op=readlines&arg=1", "a\nb\nc"), json::array({"a\n"}));
  EXPECT_EQ(got("op=iter", "x\ny\n"), json::array({"x\n", "y\n"}));
  EXPECT_EQ(got("op=chunks&arg=4", "0123456789"), json::array({"0123", "4567", "89", ""}));
  EXPECT_EQ(got("op=read", ""), json::array({""}));
}

TEST(WsgiInput, CannotBeReadAfterItsRequest) {
  ASSERT_EQ(serve("POST", "/input-keep", "kept body").sink.body, "kept");
  EXPECT_EQ(get("/input-kept").sink.body, "ValueError: wsgi.input: the request is over");
}

// ===== threads and the GIL =========================================================================

TEST(WsgiThreads, CallsFromSeveralThreadsRunAtOnce) {
  shared_host();
  std::vector<std::future<reply>> calls;  // each waits in Python for the other three
  for (int i = 0; i < 4; ++i) calls.push_back(std::async(std::launch::async, [] { return get("/meet"); }));
  for (auto& c : calls) EXPECT_EQ(c.get().sink.body, "met") << "the calls ran one after another";
}

TEST(WsgiThreads, ManyThreadsManyCallsEachGetsItsOwnAnswer) {
  auto& h = shared_host();
  const auto before = h.stats(app_at("/anything")).calls;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < 100; ++i) {
        const std::string id = std::to_string(t) + "." + std::to_string(i);
        const reply r = serve("GET", "/t/" + id, {}, {{"X-Id", id}});
        if (r.sink.body != id + " /t/" + id || r.sink.gil_held) ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(h.stats(app_at("/anything")).calls, before + 800);
}

TEST(WsgiThreads, TheGilIsFreeWhileASinkBlocks) {
  shared_host();
  struct blocking_sink : recording_sink {
    bool write(std::string_view chunk) override {
      if (!inside) {
        inside = true;
        entered.set_value();
        release.get_future().wait();
      }
      return recording_sink::write(chunk);
    }
    bool inside = false;
    std::promise<void> entered, release;
  } slow;
  owned_request req{"GET", "/hello", {}, {}, {}, {}, {}};
  const wsgi::request view = req.view();
  std::thread a([&] { shared_host().call(app_at("/hello"), view, slow); });
  slow.entered.get_future().wait();  // thread A is inside the sink, mid-response
  auto b = std::async(std::launch::async, [] { return get("/hello"); });
  const bool b_finished = b.wait_for(10s) == std::future_status::ready;
  slow.release.set_value();
  a.join();
  ASSERT_TRUE(b_finished) << "another call could not run while a sink blocked: the GIL was held";
  EXPECT_EQ(b.get().sink.body, "Hello, world!");
  EXPECT_EQ(slow.body, "Hello, world!");
}

TEST(WsgiThreads, AnAppsOwnThreadRunsBetweenCalls) {
  const auto marker = std::filesystem::temp_directory_path() / ("wsgi_thread_" + std::to_string(::getpid()));
  std::filesystem::remove(marker);
  ASSERT_EQ(get("/thread/start?file=" + marker.string()).sink.body, "started");
  // No call runs meanwhile: the app's thread can finish only if the GIL is free between calls.
  for (int i = 0; i < 1000 && !std::filesystem::exists(marker); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(std::filesystem::exists(marker)) << "the app's own thread made no progress in 10 s";
  EXPECT_EQ(get("/thread/result").sink.body, "done 499500");
  std::filesystem::remove(marker);
}

TEST(WsgiThreads, GilWaitsAreMeasuredPerApp) {
  auto& h = shared_host();
  const auto hello = app_at("/hello");
  const auto other = app_at("/env");
  const auto before = h.stats(hello);
  const auto other_before = h.stats(other);
  std::promise<void> calling;
  std::future<reply> call;
  {
    const PyGILState_STATE held = PyGILState_Ensure();  // this thread holds the GIL...
    call = std::async(std::launch::async, [&calling] {
      calling.set_value();
      return get("/hello");
    });
    calling.get_future().wait();
    std::this_thread::sleep_for(500ms);  // ...for (nearly all of) 500 ms of the call's wait for it
    PyGILState_Release(held);
  }
  EXPECT_EQ(call.get().sink.body, "Hello, world!");
  const auto after = h.stats(hello);
  EXPECT_GE(after.gil_wait - before.gil_wait, 150ms);
  EXPECT_GE(after.gil_wait_max, 150ms);
  EXPECT_EQ(h.stats(other).gil_wait, other_before.gil_wait) << "the wait counts for the app that waited";
}

// ===== tracebacks of a stuck request ===============================================================

TEST(WsgiTracebacks, ShowTheStuckThreadFromAThreadThatNeverRanPython) {
  shared_host();
  auto stuck = std::async(std::launch::async, [] { return get("/stuck"); });
  std::string dump;
  for (int i = 0; i < 500 && !contains(dump, "stuck_in_here"); ++i) {
    std::this_thread::sleep_for(20ms);
    dump = std::async(std::launch::async, [] { return wsgi::dump_tracebacks(); }).get().value();
  }
  EXPECT_TRUE(contains(dump, "Thread 0x")) << dump;
  EXPECT_TRUE(contains(dump, "in stuck_in_here")) << dump;
  EXPECT_TRUE(contains(dump, "apps.py")) << dump;

  // Also while another thread holds the GIL (a request stuck in C code), to a descriptor.
  {
    const PyGILState_STATE held = PyGILState_Ensure();
    FILE* file = std::tmpfile();
    ASSERT_NE(file, nullptr);
    auto done = std::async(std::launch::async, [fd = fileno(file)] { return wsgi::dump_tracebacks(fd); });
    const bool finished = done.wait_for(10s) == std::future_status::ready;
    PyGILState_Release(held);
    ASSERT_TRUE(finished) << "dump_tracebacks waited for the GIL";
    EXPECT_TRUE(done.get().ok());
    std::rewind(file);
    std::string text(1 << 16, '\0');
    text.resize(std::fread(text.data(), 1, text.size(), file));
    std::fclose(file);
    EXPECT_TRUE(contains(text, "in stuck_in_here")) << text;
  }
  EXPECT_EQ(get("/stuck/release").sink.body, "ok");
  EXPECT_EQ(stuck.get().sink.body, "released");
}
