#include "scalekit/core/input_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scalekit/core/line_reader.h"

namespace core = scalekit::core;
namespace fs = std::filesystem;
using scalekit::status_code;

namespace {

struct scratch {
  fs::path dir;
  scratch() {
    dir = fs::temp_directory_path() / ("scalekit-input-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~scratch() { fs::remove_all(dir); }
  [[nodiscard]] std::string file(const std::string& name, const std::string& text) const {
    const std::string p = (dir / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  [[nodiscard]] std::string operator/(const std::string& name) const { return (dir / name).string(); }
};

// Lines of `text` read through a pipe, or the error that ended them.
std::vector<std::string> lines_of(const std::string& text, std::size_t max_line, scalekit::status* error = nullptr) {
  scratch s;
  const std::string p = s.file("in", text);
  auto f = core::open_input(p);
  EXPECT_TRUE(f.ok());
  core::line_reader in(f->fd(), "in", max_line);
  std::vector<std::string> out;
  std::string line;
  for (;;) {
    auto r = in.next(line);
    if (!r.ok()) {
      if (error) *error = r.error();
      break;
    }
    if (!*r) break;
    out.push_back(line);
  }
  return out;
}

}  // namespace

TEST(InputFile, RegularFilesOpenAndEverythingElseIsRefusedBeforeReading) {
  scratch s;
  const std::string good = s.file("good", "12\n");
  auto f = core::open_input(good);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->size(), 3u);
  std::string text;
  ASSERT_TRUE(f->read_all(text, 100).ok());
  EXPECT_EQ(text, "12\n");
  EXPECT_TRUE(core::check_input(good).ok());

  ASSERT_EQ(::mkfifo((s / "fifo").c_str(), 0600), 0);
  fs::create_symlink("/dev/zero", s / "zero");
  fs::create_symlink(s / "loop", s / "loop");
  const auto t0 = std::chrono::steady_clock::now();
  struct refusal {
    std::string path, words;
  };
  for (const auto& [path, words] : std::vector<refusal>{
           {s / "fifo", "not a regular file (a FIFO)"},  // opening it would wait for a writer
           {s / "zero", "not a regular file (a character device)"},
           {"/dev/zero", "not a regular file (a character device)"},
           {s.dir.string(), "not a regular file (a directory)"},
           {s / "loop", "a symbolic link loop"},
           {s / "missing", "no such file or directory"},
       }) {
    const auto opened = core::open_input(path);
    ASSERT_FALSE(opened.ok()) << path;
    EXPECT_EQ(opened.error().message().rfind("cannot read '" + path + "': " + words, 0), 0u)
        << opened.error().message();
    const auto checked = core::check_input(path);
    EXPECT_EQ(checked.message(), opened.error().message());
  }
  EXPECT_EQ(core::open_input(s / "missing").error().code(), status_code::not_found);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

TEST(InputFile, ReadAllStopsAtItsBound) {
  scratch s;
  auto f = core::open_input(s.file("big", std::string(1000, 'x')));
  ASSERT_TRUE(f.ok());
  std::string text;
  const auto st = f->read_all(text, 999);
  EXPECT_EQ(st.code(), status_code::too_large);
  EXPECT_NE(st.message().find("big' is larger than 999 bytes"), std::string::npos) << st.message();
}

// The same path, a symbolic link and a hard link are all the input itself.
TEST(InputFile, AnOutputThatIsAnInputIsRefused) {
  scratch s;
  const std::string in = s.file("a.bmp", "image");
  fs::create_symlink(in, s / "link.bmp");
  fs::create_hard_link(in, s / "hard.bmp");
  const std::vector<std::string> inputs{in};
  for (const std::string& out :
       {in, s / "link.bmp", s / "hard.bmp", s / "../" + s.dir.filename().string() + "/a.bmp"}) {
    const auto st = core::check_output(out, inputs);
    EXPECT_EQ(st.code(), status_code::invalid_argument) << out;
    EXPECT_NE(st.message().find("is the input '" + in + "' (the same file)"), std::string::npos) << st.message();
  }
  EXPECT_TRUE(core::check_output(s / "new.rle", inputs).ok());
  EXPECT_TRUE(core::check_output(s.file("other", "x"), inputs).ok());
  // An output that exists must be a file: rename(2) would replace a device or a FIFO.
  const auto dev = core::check_output("/dev/null");
  EXPECT_EQ(dev.code(), status_code::invalid_argument);
  EXPECT_NE(dev.message().find("not a regular file (a character device)"), std::string::npos) << dev.message();
  EXPECT_EQ(core::check_output(s.dir.string()).code(), status_code::invalid_argument);
  EXPECT_EQ(core::identify(in), core::identify(s / "hard.bmp"));
  EXPECT_FALSE(core::identify(s / "missing"));
}

TEST(LineReader, SplitsLinesDropsCrlfAndKeepsALastLineWithoutNewline) {
  EXPECT_EQ(lines_of("1\n22\r\n\n333", 10), (std::vector<std::string>{"1", "22", "", "333"}));
  EXPECT_EQ(lines_of("", 10), std::vector<std::string>{});
  EXPECT_EQ(lines_of("a\n", 10), std::vector<std::string>{"a"});
  EXPECT_EQ(lines_of("a\r", 10), std::vector<std::string>{"a"});
  // A line of exactly the bound is fine, with or without its CR.
  EXPECT_EQ(lines_of("12345\r\n12345", 5), (std::vector<std::string>{"12345", "12345"}));
}

// The reader never holds more than the bound plus one chunk, whatever comes:
// a line without end fails as soon as it passes the bound, naming the line.
TEST(LineReader, ALineLongerThanTheBoundIsAnErrorNamingTheLine) {
  scalekit::status error;
  const auto lines = lines_of("1\n2\n" + std::string(300000, '7') + "\n4\n", 1000, &error);
  EXPECT_EQ(lines, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(error.code(), status_code::too_large);
  EXPECT_EQ(error.message(), "in:3: a line longer than 1000 bytes");

  const int fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  core::line_reader zero(fd, "/dev/zero");
  std::string line;
  const auto r = zero.next(line);
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "/dev/zero:1: a line longer than 65536 bytes");
}

TEST(LineReader, AReadErrorIsNotTheEndOfTheInput) {
  const int fd = ::open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  core::line_reader dir(fd, "/tmp");
  std::string line;
  const auto r = dir.next(line);
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), status_code::io_error);
  EXPECT_EQ(r.error().message(), "cannot read '/tmp': it is a directory");
}

TEST(Printable, ShowsWhatCannotBeSeenAndCapsTheLength) {
  EXPECT_EQ(core::printable("13"), "13");
  EXPECT_EQ(core::printable("13\r"), "13\\r");
  EXPECT_EQ(core::printable("\xEF\xBB\xBF"
                            "13"),
            "\\uFEFF13");  // a UTF-8 byte-order mark
  EXPECT_EQ(core::printable("a\tb\x01\x7F\\"), "a\\tb\\x01\\x7F\\\\");
  EXPECT_EQ(core::printable("\xFF\xFEz"), "\\xFF\\xFEz");    // not UTF-8
  EXPECT_EQ(core::printable("caf\xC3\xA9"), "caf\xC3\xA9");  // UTF-8 text as it is
  EXPECT_EQ(core::printable("1\xC2\xA0"
                            "2"),
            "1\\u00A02");  // a no-break space
  EXPECT_EQ(core::printable(std::string(1000000, '9'), 10), "9999999999... (1000000 bytes)");
  EXPECT_EQ(core::printable("12345", 5), "12345");
}
