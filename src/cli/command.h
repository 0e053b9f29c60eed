#pragma once
// The commands of scalekit, declared once.
//
// `command_table` is the one list: name, the executable that runs it, and the
// description --help shows. Both executables build their command lists from
// it, and scalekit hands a command over to scalekit-heavy when the table says
// so. Each command file registers how it adds its flags and which tasks its job
// needs (worker processes must know them), with one `command_registration`.
//
// Adding a job: its folder under src/jobs and include/scalekit/jobs, one line
// here, one entry in the list of jobs in src/cli/CMakeLists.txt (which builds
// its command file into the right executable).

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace scalekit::cli {

/// Which executable runs a command.
enum class binary {
  light,      ///< scalekit
  heavy,      ///< scalekit-heavy: jobs whose libraries are heavy to load (libvips,
              ///< libcurl: some 30 ms at every start, and worker processes start often)
  serve,      ///< scalekit-serve: the HTTP server, which will embed CPython
  thumbnail,  ///< scalekit-thumbnail: thumbnails of files, and the thumbnail
              ///< workers, with the fast path's libraries only (libvips as a plugin)
};

/// The executable's file name.
constexpr const char* binary_name(binary b) {
  return b == binary::light   ? "scalekit"
         : b == binary::heavy ? "scalekit-heavy"
         : b == binary::serve ? "scalekit-serve"
                              : "scalekit-thumbnail";
}

struct command_info {
  std::string_view name;
  binary where;
  std::string_view description;
  /// Built into scalekit-heavy too, for the inputs the executable of `where`
  /// hands over to it at run time (hand_over_to): rle's images other than
  /// 1-bit BMPs, which it reads with libvips; thumbnail's URLs (libcurl).
  bool heavy_too = false;
};

/// Every command, in the order --help lists them.
inline constexpr command_info command_table[] = {
    {"mandelbrot", binary::light, "Draw the Mandelbrot set (the seed's image) as a PNG"},
    {"primes", binary::light, "Prime checking and factoring (the seed's prime checker and prime_factor)"},
    {"burn", binary::light, "Busy-loop on every worker (the seed's MuchCPU): threads use every core too"},
    {"numbers", binary::light, "Generate number files and merge them sorted (the seed's disk-file sort)"},
    {"factorial", binary::light, "Factorials FROM..TO (default 10 20) on an executor, printed as each completes"},
    {"coop", binary::light, "The seed's cooperative scheduler: square_mapper and prime_filter generators, round robin"},
    {"sleepers", binary::light,
     "The seed's asyncio demos: five random sleepers, then prime_filter and square_mapper gathered"},
    {"find", binary::light, "Every path under ROOT whose full path contains QUERY (parallel walk)"},
    {"sort-service", binary::light, "The seed's sort service: a JSON array in, sorted out (TCP)"},
    {"dns", binary::light, "The seed's DNS server: A records over UDP and TCP"},
    {"search", binary::light,
     "Load DIR's text files into worker processes once, then print the lines containing each query"},
    {"worker", binary::light, "A Celery-compatible worker: runs the tasks Celery clients send through Redis"},
    {"scale", binary::light,
     "Scalability: sweep a job over executors and workers (scale WORKLOAD), fit the USL and Amdahl's law (fit FILE), "
     "the chapters' timing tables with scalekit's figures (scale tables)"},
    {"fetch", binary::heavy,
     "GET every URL concurrently (libcurl on the event loop): 'Response for URL <url> => <status> <length>'"},
    {"rle", binary::light, "Run-length compression of 1-bit images (the seed's case study)", true},
    {"thumbnail", binary::thumbnail,
     "PNG thumbnails of a directory's images, of URLs, or of the seed's random-URL producer/consumer", true},
    {"dummyimage", binary::heavy, "An offline image-URL server: GET /<W>x<H>/<bg>/<fg>.<jpg|png>"},
    {"serve", binary::serve,
     "A pre-fork HTTP/1.1 server: a supervising master, worker processes, scalekit's jobs as endpoints"},
};

/// The table's entry for `name`, or nullptr.
constexpr const command_info* find_command(std::string_view name) {
  for (const auto& c : command_table)
    if (c.name == name) return &c;
  return nullptr;
}

/// What a command file provides.
struct command_impl {
  std::string_view name;
  /// Adds the flags and the callback to the subcommand, which the program made
  /// from the table (name and description).
  void (*add)(CLI::App& command);
  /// Registers the tasks its job sends to executors (may be null).
  void (*register_tasks)() = nullptr;
};

/// Registers a command file's implementation during static initialization:
///   const command_registration registered{{"mandelbrot", add_command, mb::register_tasks}};
struct command_registration {
  explicit command_registration(command_impl impl);
};

/// The implementations linked into this executable.
std::span<const command_impl> registered_commands();

/// This process's command line, as run_program() got it (argv[0] first).
const std::vector<std::string>& program_arguments();

/// Replace this process with `where` (scalekit-heavy), running the same
/// command line: for a command of the light executable that meets an input
/// only the heavy one reads (command_info::heavy_too). The signals the
/// program blocked are unblocked first, as they were at start; after a stop
/// request nothing is started. Returns only when it does not run: the exit
/// status (the error printed, or the stop recorded in globals()).
int hand_over_to(binary where);

/// The path of the executable `where` (beside this program, or installed in
/// libexec/scalekit), or "" when there is none to run.
std::string executable_path(binary where);

/// The program shared by both executables: registers every task, serves as a
/// worker process when asked to, hands heavy commands over (light only), owns
/// the stop signals, parses the command line and runs the command. Returns the
/// exit status (or ends the process as the stop signal that arrived does).
int run_program(binary self, int argc, char** argv);

}  // namespace scalekit::cli
