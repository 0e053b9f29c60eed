// Every command that reads a file, against one shared set of nasty inputs
// (/dev/zero, a FIFO, a directory, an empty file, a 100 MB line, binary
// garbage, CRLF, a byte-order mark, a symbolic link loop, an unreadable
// file), under a memory limit (RLIMIT_AS) and a time limit, as a user who is
// not root (so that the unreadable file is unreadable). Each run must end in
// time with the status the table says, a short error that names the input,
// no output file left behind when it failed, and no process of its process
// group left behind. Then the output = input cases of every command that
// writes a file.

#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_helpers.h"
#include "sanitizers.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using scalekit::testing::bin;
using scalekit::testing::slurp;

namespace {

constexpr rlim_t memory_limit = rlim_t{2} << 30;  // the address space of each process
constexpr auto time_limit = 20s * scalekit::testing::sanitizer_slowdown;

// The nasty inputs, made once (the 100 MB line takes a moment).
struct nasties {
  fs::path dir;
  nasties() {
    dir = fs::temp_directory_path() / ("scalekit-hostile-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "adir");
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                             fs::perms::others_exec);
    ::mkfifo((dir / "fifo").c_str(), 0666);
    std::ofstream(dir / "empty");
    {
      std::mt19937 rng(16);
      std::string bytes(1 << 20, '\0');
      for (auto& b : bytes) b = static_cast<char>(rng());
      std::ofstream(dir / "garbage", std::ios::binary) << bytes;
    }
    std::ofstream(dir / "crlf", std::ios::binary) << "13\r\n17\r\n";
    std::ofstream(dir / "bom", std::ios::binary) << "\xEF\xBB\xBF"
                                                    "13\n";
    fs::create_symlink(dir / "loop", dir / "loop");
    std::ofstream(dir / "secret", std::ios::binary) << "13\n";
    fs::permissions(dir / "secret", fs::perms::none);
    // A small corpus for search's queries on stdin.
    fs::create_directories(dir / "corpus");
    std::ofstream(dir / "corpus" / "a.txt") << "thirteen 13\nseventeen 17\n";
  }
  ~nasties() { fs::remove_all(dir); }
  // The input's path; the 100 MB line is written the first time it is asked for.
  [[nodiscard]] std::string path(const std::string& name) const {
    if (name == "dev-zero") return "/dev/zero";
    if (name == "long" && !fs::exists(dir / "long")) {
      std::ofstream long_line(dir / "long", std::ios::binary);
      const std::string chunk(1 << 20, '7');
      for (int i = 0; i < 100; ++i) long_line << chunk;  // 100 MB, no newline
    }
    return (dir / name).string();
  }
};

nasties& inputs() {
  static nasties n;
  return n;
}

const std::vector<std::string> all_inputs = {"dev-zero", "fifo", "adir", "empty", "long",
                                             "garbage",  "crlf", "bom",  "loop",  "secret"};

struct run_result {
  int status = -1;  // the exit status, or 128 + signal
  bool timed_out = false, group_left = false;
  std::string out, err;
  std::chrono::milliseconds took{0};
};

// Run scalekit with `args` (no shell) in a process group of its own, as
// nobody when we are root, under the memory limit; stdin from `stdin_path`.
// After `stop_after` (a service, or a job stopped mid-run) it gets
// `stop_signal`. Then wait for its group to
// be empty: worker processes end with their master.
run_result run_hostile(const std::vector<std::string>& args, const std::string& stdin_path = "/dev/null",
                       std::chrono::milliseconds stop_after = 0ms, int stop_signal = SIGTERM) {
  static int counter = 0;
  const std::string base = (fs::temp_directory_path() /
                            ("scalekit-hostile-out-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
                               .string();
  const int out_fd = ::open((base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = ::open((base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int in_fd = ::open(stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
  std::vector<std::string> argv_s{bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    if (!scalekit::testing::sanitized) {  // sanitizers reserve terabytes of address space (sanitizers.h)
      const rlimit as{memory_limit, memory_limit};
      ::setrlimit(RLIMIT_AS, &as);
    }
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0))
      ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(out_fd);
  ::close(err_fd);
  ::close(in_fd);
  run_result r;
  int st = 0;
  bool stopped = false;
  for (;;) {
    const pid_t w = ::waitpid(pid, &st, WNOHANG);
    if (w == pid) break;
    const auto now = std::chrono::steady_clock::now();
    if (stop_after > 0ms && !stopped && now - t0 >= stop_after) {
      ::kill(pid, stop_signal);
      stopped = true;
    }
    if (now - t0 >= time_limit) {
      r.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &st, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  r.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  // Nothing of its group may outlive it for long (worker processes die with
  // their master; give them a moment to notice).
  for (int i = 0; i < 300; ++i) {
    if (::kill(-pid, 0) != 0 && errno == ESRCH) break;
    if (i == 299) {
      r.group_left = true;
      ::kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(10ms);
  }
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  fs::remove(base + ".out");
  fs::remove(base + ".err");
  // Its stderr is a file: a sanitizer's report there fails the test only when passed on.
  std::string command_line;
  for (const auto& a : argv_s) command_line += (command_line.empty() ? "" : " ") + a;
  scalekit::testing::pass_on_sanitizer_reports(r.err, command_line);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A fresh output directory anyone may write into.
struct out_dir {
  fs::path path;
  explicit out_dir(const std::string& tag) {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("scalekit-hostile-o-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
    fs::permissions(path, fs::perms::all);
  }
  ~out_dir() { fs::remove_all(path); }
  [[nodiscard]] std::vector<std::string> entries() const {
    std::vector<std::string> v;
    for (const auto& e : fs::recursive_directory_iterator(path)) v.push_back(e.path().string());
    return v;
  }
};

// One command against one nasty input.
struct hostile_case {
  std::string command;  // a name for the test
  std::string input;    // a name from all_inputs
  int status;           // the exit status expected
  std::string names;    // what the error must name: "" = the input's path
};

// gtest's name for a failed case (not its bytes).
void PrintTo(const hostile_case& c, std::ostream* os) { *os << c.command << " < " << c.input; }

// How each command takes its input: the arguments, the input on stdin, or a
// service stopped after a moment. {IN} is the input's path, {OUT} the output
// directory, {NUMBERS} a directory whose numbers_0.txt links to the input.
struct command_form {
  std::vector<std::string> args;
  bool on_stdin = false;
  std::chrono::milliseconds stop_after{0};
};

command_form form_of(const std::string& command) {
  if (command == "primes_check") return {{"primes", "check", "--file", "{IN}"}};
  if (command == "primes_factor") return {{"primes", "factor", "--file", "{IN}"}};
  if (command == "numbers_sort")
    return {{"numbers", "sort", "--dir", "{NUMBERS}", "--files", "1", "-o", "{OUT}/s.txt"}};
  if (command == "search_dir") return {{"search", "{IN}", "13", "-j", "2"}};
  if (command == "search_stdin") return {{"search", "{CORPUS}", "-j", "2"}, true};
  if (command == "find") return {{"find", "x", "{IN}"}};
  if (command == "rle_compress") return {{"rle", "compress", "{IN}", "{OUT}/o.rle"}};
  if (command == "rle_decompress") return {{"rle", "decompress", "{IN}", "{OUT}/o.bmp"}};
  if (command == "rle_compress_dir") return {{"rle", "compress-dir", "{IN}", "{OUT}/d"}};
  if (command == "thumbnail") return {{"thumbnail", "{IN}", "-o", "{OUT}/t", "-j", "2"}};
  if (command == "thumbnail_processes")  // 60 s of CPU per file on /dev/zero, once
    return {{"thumbnail", "{IN}", "-o", "{OUT}/t", "-j", "2", "--executor", "processes"}};
  if (command == "dns_zone") return {{"dns", "serve", "--listen", "127.0.0.1:0", "--zone", "{IN}"}, false, 1500ms};
  if (command == "sort_service_call")
    return {{"sort-service", "call", "--connect", "127.0.0.1:1", "--timeout", "2"}, true};
  return {};
}

// The table: what each command does with each input.
std::vector<hostile_case> cases() {
  std::vector<hostile_case> v;
  auto add = [&](const std::string& command, const std::vector<std::pair<std::string, int>>& statuses,
                 const std::string& names = "") {
    for (const auto& [input, status] : statuses) v.push_back({command, input, status, names});
  };
  // A number file: everything that is not lines of numbers fails (1), named;
  // CRLF lines are numbers; an empty file has none.
  for (const char* c : {"primes_check", "primes_factor"})
    add(c, {{"dev-zero", 1},
            {"fifo", 1},
            {"adir", 1},
            {"empty", 0},
            {"long", 1},
            {"garbage", 1},
            {"crlf", 0},
            {"bom", 1},
            {"loop", 1},
            {"secret", 1}});
  // numbers sort's format is strict (byte-identical to sort -n): CRLF fails too.
  add("numbers_sort",
      {{"dev-zero", 1},
       {"fifo", 1},
       {"adir", 1},
       {"empty", 0},
       {"long", 1},
       {"garbage", 1},
       {"crlf", 1},
       {"bom", 1},
       {"loop", 1},
       {"secret", 1}},
      "numbers_0.txt");
  // A directory argument: only a directory is one (the empty one holds nothing).
  for (const char* c : {"search_dir", "find", "rle_compress_dir"})
    add(c, {{"dev-zero", 1},
            {"fifo", 1},
            {"adir", 0},
            {"empty", 1},
            {"long", 1},
            {"garbage", 1},
            {"crlf", 1},
            {"bom", 1},
            {"loop", 1},
            {"secret", 1}});
  // Queries on stdin: lines, each at most 64 KiB.
  add("search_stdin", {{"dev-zero", 1}, {"empty", 0}, {"long", 1}, {"garbage", 0}, {"crlf", 0}, {"bom", 0}}, "stdin");
  // Images: nothing here is one; a file that is not an image fails rle, and
  // is skipped (not a failure) by thumbnail.
  for (const char* c : {"rle_compress", "rle_decompress"})
    add(c, {{"dev-zero", 1},
            {"fifo", 1},
            {"adir", 1},
            {"empty", 1},
            {"long", 1},
            {"garbage", 1},
            {"crlf", 1},
            {"bom", 1},
            {"loop", 1},
            {"secret", 1}});
  add("thumbnail_processes", {{"dev-zero", 1}, {"fifo", 1}, {"loop", 1}, {"secret", 1}, {"garbage", 0}});
  add("thumbnail", {{"dev-zero", 1},
                    {"fifo", 1},
                    {"adir", 0},
                    {"empty", 0},
                    {"long", 0},
                    {"garbage", 0},
                    {"crlf", 0},
                    {"bom", 0},
                    {"loop", 1},
                    {"secret", 1}});
  // A zone file: bad lines are skipped and the service serves (stopped: 0).
  add("dns_zone", {{"dev-zero", 1},
                   {"fifo", 1},
                   {"adir", 1},
                   {"empty", 0},
                   {"long", 1},
                   {"garbage", 0},
                   {"crlf", 0},
                   {"bom", 0},
                   {"loop", 1},
                   {"secret", 1}});
  // A request on stdin is at most --max-bytes (64 MiB).
  add("sort_service_call", {{"dev-zero", 1}, {"long", 1}}, "standard input");
  return v;
}

class Hostile : public ::testing::TestWithParam<hostile_case> {};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size())
    s.replace(at, from.size(), to);
  return s;
}

}  // namespace

TEST_P(Hostile, EndsInTimeWithAShortErrorNamingTheInputAndLeavesNothing) {
  const hostile_case& c = GetParam();
  const std::string in = inputs().path(c.input);
  out_dir out(c.command);
  const fs::path numbers = out.path / "numbers";  // numbers_0.txt -> the input
  if (c.command == "numbers_sort") {
    fs::create_directories(out.path / "numbers");
    fs::create_symlink(in, numbers / "numbers_0.txt");
  }
  const command_form form = form_of(c.command);
  ASSERT_FALSE(form.args.empty()) << c.command;
  std::vector<std::string> args;
  for (const auto& a : form.args) {
    std::string s = replace_all(a, "{IN}", in);
    s = replace_all(s, "{OUT}", out.path.string());
    s = replace_all(s, "{NUMBERS}", numbers.string());
    s = replace_all(s, "{CORPUS}", (inputs().dir / "corpus").string());
    args.push_back(s);
  }
  const auto before = out.entries();
  const run_result r = run_hostile(args, form.on_stdin ? in : "/dev/null", form.stop_after);
  const std::string shown = c.command + " < " + c.input;
  ASSERT_FALSE(r.timed_out) << shown << " ran past " << time_limit.count() << " s\n" << r.err.substr(0, 2000);
  EXPECT_EQ(r.status, c.status) << shown << "\n" << r.err.substr(0, 2000);
  EXPECT_FALSE(r.group_left) << shown << ": a process of its group outlived it";
  const auto err = lines_of(r.err);
  // At most 20 item messages, "... and N more", the summary and a line or two
  // of the service: never a line per byte or line of garbage.
  EXPECT_LE(err.size(), 25u) << shown << "\n" << r.err.substr(0, 2000);
  for (const auto& l : err) EXPECT_LE(l.size(), 600u) << shown << ": " << l.substr(0, 300);
  if (c.status != 0) {
    const std::string name = c.names.empty() ? in : c.names;
    bool named = false;
    for (const auto& l : err) named = named || l.find(name) != std::string::npos;
    EXPECT_TRUE(named) << shown << ": no line names '" << name << "'\n" << r.err.substr(0, 2000);
    // Nothing written when it failed (the links the test made excepted).
    EXPECT_EQ(out.entries(), before) << shown;
  }
}

INSTANTIATE_TEST_SUITE_P(Inputs, Hostile, ::testing::ValuesIn(cases()), [](const auto& p) {
  std::string name = p.param.command + "_" + p.param.input;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
});

// ---- output = input -------------------------------------------------------------
//
// Every command that writes a file refuses, with exit status 2 and before a
// byte is written, an output that is one of its inputs: the same path, a
// symbolic link to it, or a hard link to it.

namespace {

std::string sha_of(const fs::path& p) { return slurp(p); }  // the whole content: these are small

}  // namespace

TEST(HostileOutput, AnOutputThatIsAnInputIsRefusedAndTheInputKept) {
  out_dir d("same");
  // Inputs every command takes: an image (mandelbrot's PNG), its RLE, numbers.
  auto ok = run_hostile({"mandelbrot", "-W", "16", "-H", "8", "-o", (d.path / "img.png").string()});
  ASSERT_EQ(ok.status, 0) << ok.err;
  ok = run_hostile({"rle", "compress", (d.path / "img.png").string(), (d.path / "img.rle").string()});
  ASSERT_EQ(ok.status, 0) << ok.err;
  ok = run_hostile({"numbers", "gen", "--dir", (d.path / "n").string(), "--files", "2"});
  ASSERT_EQ(ok.status, 0) << ok.err;
  fs::create_directories(d.path / "thumbs");
  fs::permissions(d.path / "thumbs",
                  fs::perms::all);  // the commands run as nobody: writable, so the same-file check decides
  fs::copy_file(d.path / "img.png", d.path / "thumbs" / "a.png");
  fs::copy_file(d.path / "img.png", d.path / "thumbs" / "a_thumb.png");  // a's thumbnail would land here

  struct same_case {
    std::string input;                 // the file that must stay as it is
    std::vector<std::string> args;     // {OUT} is the output path
    std::vector<std::string> outputs;  // each tried as {OUT}: the input, a link to it, a hard link
  };
  const std::string img = (d.path / "img.png").string(), rle = (d.path / "img.rle").string(),
                    num = (d.path / "n" / "numbers_1.txt").string();
  auto links = [&](const std::string& file, const std::string& ext) {
    fs::create_symlink(file, file + ".sym" + ext);
    fs::create_hard_link(file, file + ".hard" + ext);
    return std::vector<std::string>{file, file + ".sym" + ext, file + ".hard" + ext};
  };
  const std::vector<same_case> all = {
      {img, {"rle", "compress", img, "{OUT}"}, links(img, ".png")},
      {rle, {"rle", "decompress", rle, "{OUT}"}, links(rle, ".rle")},
      {num, {"numbers", "sort", "--dir", (d.path / "n").string(), "--files", "2", "-o", "{OUT}"}, links(num, ".txt")},
      {(d.path / "thumbs" / "a_thumb.png").string(),
       {"thumbnail", (d.path / "thumbs").string(), "-o", (d.path / "thumbs").string()},
       {"-"}},
  };
  for (const auto& c : all) {
    const std::string kept = sha_of(c.input);
    for (const auto& out : c.outputs) {
      std::vector<std::string> args;
      for (const auto& a : c.args) args.push_back(a == "{OUT}" ? out : a);
      const run_result r = run_hostile(args);
      EXPECT_EQ(r.status, 2) << args[0] << " " << args[1] << " -> " << out << "\n" << r.err;
      EXPECT_NE(r.err.find("(the same file)"), std::string::npos) << r.err;
      EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
      EXPECT_EQ(sha_of(c.input), kept) << c.input << " was written";
    }
  }
  // No temporary left beside them.
  for (const auto& e : fs::recursive_directory_iterator(d.path))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

// An output that exists and is not a regular file (rename(2) would replace
// a device or a FIFO, even /dev/null as root) is bad usage, for every command.
TEST(HostileOutput, AnOutputThatIsNotARegularFileIsRefused) {
  out_dir d("dev");
  ASSERT_EQ(::mkfifo((d.path / "fifo.png").c_str(), 0666), 0);
  ASSERT_EQ(run_hostile({"numbers", "gen", "--dir", (d.path / "n").string(), "--files", "1"}).status, 0);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"mandelbrot", "-W", "8", "-H", "8", "-o", (d.path / "fifo.png").string()},
           {"numbers", "sort", "--dir", (d.path / "n").string(), "--files", "1", "-o", "/dev/null"},
           {"numbers", "sort", "--dir", (d.path / "n").string(), "--files", "1", "-o", (d.path / "fifo.png").string()},
       }) {
    const run_result r = run_hostile(args);
    EXPECT_FALSE(r.timed_out) << args[0];
    EXPECT_EQ(r.status, 2) << args[0] << "\n" << r.err;
    EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  EXPECT_TRUE(fs::is_fifo(d.path / "fifo.png"));
}

// ---- a stop signal mid-run -------------------------------------------------------
//
// Every long job, stopped by SIGINT or SIGTERM a second in: it ends within a
// few seconds with 128 + the signal, leaves no output that is not whole (no
// image, no temporary) and no process of its group.

namespace {

struct stop_case {
  std::string name;
  std::vector<std::string> args;  // {OUT}: the output directory
  int signal;
};

std::vector<stop_case> stop_cases() {
  const std::vector<std::pair<std::string, std::vector<std::string>>> jobs = {
      {"mandelbrot_processes",
       {"mandelbrot", "-W", "16000", "-H", "16000", "-n", "5000", "-o", "{OUT}/m.png", "--executor", "processes", "-j",
        "2"}},
      {"mandelbrot_openmp",
       {"mandelbrot", "-W", "16000", "-H", "16000", "-n", "5000", "-o", "{OUT}/m.png", "--executor", "openmp", "-j",
        "2"}},
      {"primes_random",
       {"primes", "check", "--random", "100000000", "--min", "1000000000000", "--max", "2000000000000", "-j", "2"}},
      {"burn", {"burn", "--iterations", "1000000000000", "--executor", "processes", "-j", "2"}},
      {"factorial", {"factorial", "990000", "1000000", "-j", "2"}},
      {"coop", {"coop", "4294967295"}},
      {"sleepers", {"sleepers", "--max-delay", "60"}},
      {"numbers_gen", {"numbers", "gen", "--dir", "{OUT}/n", "--files", "2000000", "-j", "2"}},
  };
  std::vector<stop_case> v;
  for (const auto& [name, args] : jobs)
    for (const int sig : {SIGINT, SIGTERM}) v.push_back({name + (sig == SIGINT ? "_sigint" : "_sigterm"), args, sig});
  return v;
}

class HostileStop : public ::testing::TestWithParam<stop_case> {};

void PrintTo(const stop_case& c, std::ostream* os) { *os << c.name; }

}  // namespace

TEST_P(HostileStop, EndsPromptlyWithTheSignalsStatusAndLeavesNothingHalfDone) {
  const stop_case& c = GetParam();
  out_dir out("stop");
  std::vector<std::string> args;
  for (const auto& a : c.args) args.push_back(replace_all(a, "{OUT}", out.path.string()));
  const auto stop_after = 1000ms;
  const run_result r = run_hostile(args, "/dev/null", stop_after, c.signal);
  ASSERT_FALSE(r.timed_out) << c.name << "\n" << r.err.substr(0, 2000);
  EXPECT_EQ(r.status, 128 + c.signal) << c.name << " (ended before the signal?)\n" << r.err.substr(0, 2000);
  EXPECT_LT(r.took - stop_after, 5s * scalekit::testing::sanitizer_slowdown) << c.name;
  EXPECT_FALSE(r.group_left) << c.name << ": a process of its group outlived it";
  EXPECT_FALSE(fs::exists(out.path / "m.png")) << c.name << ": a stopped image was left";
  for (const auto& e : out.entries()) {
    const std::string name = fs::path(e).filename().string();
    EXPECT_TRUE(name == "n" || name.rfind("numbers_", 0) == 0) << c.name << ": " << e << " was left";
    if (fs::is_regular_file(e)) {
      EXPECT_GT(fs::file_size(e), 0u) << e;  // whole: numbers gen's files are never empty
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Jobs, HostileStop, ::testing::ValuesIn(stop_cases()),
                         [](const auto& p) { return p.param.name; });
