// The chapters' timing tables as data (chapter_tables.h), and their layout.
//
// The chapter figures are typed in from shared/seeds (chapter 5 is
// 000_26c256b85d190f29.txt, chapter 14 004_d4076afc3a426e37.txt); each
// table's `source` names the section and the lines of that file. Figures the
// chapter shows only in a screenshot are absent (NaN) and say so.

#include "chapter_tables.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace scalekit::scale {

namespace {

using core::executor_kind;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// The sort tables: 1,000 to 1,000,000 files; a few minutes here at a tenth of
// the chapter's sizes, seconds at a hundredth.
constexpr std::array<std::array<std::uint64_t, 3>, 4> sort_sizes{{
    {10, 100, 1000},
    {100, 1000, 10000},
    {1000, 10000, 100000},
    {10000, 100000, 1000000},
}};
constexpr std::array<std::string_view, 4> sort_labels{"1000", "10000", "100000", "1000000"};

chapter_table sort_table(std::string_view id, std::string_view title, std::string_view source, table_job job,
                         std::array<double, 4> chapter, std::vector<std::string_view> seed) {
  chapter_table t{.id = id,
                  .title = title,
                  .source = source,
                  .size_name = "files",
                  .label_columns = {"files (n)"},
                  .value_columns = {"time to sort"}};
  for (std::size_t i = 0; i < sort_sizes.size(); ++i) {
    t.runs.push_back(
        {.job = job, .executor = executor_kind::serial, .workers = 1, .size = sort_sizes[i], .seed = seed});
    t.rows.push_back({{sort_labels[i]}, {{.run = i, .chapter = chapter[i]}}});
  }
  return t;
}

chapter_table primes_table() {
  chapter_table t{.id = "primes",
                  .title = "checking 1000 large numbers for primality, 4 threads vs a pool of 4 processes",
                  .source = "chapter 5, 'A prime checker' (000_26c256b85d190f29.txt, lines 1113-1149)",
                  .size_name = "numbers",
                  .label_columns = {"version"},
                  .value_columns = {"real", "user"},
                  .note =
                      "scalekit: primes check --algorithm trial of the seed's ten numbers cycled, --executor "
                      "threads -j 4 and processes -j 4; the seed's programs have their 1000 numbers built "
                      "in, so they run only at that size"};
  constexpr std::array<std::uint64_t, 3> numbers{100, 1000, 1000};
  t.runs.push_back({.job = table_job::primes,
                    .executor = executor_kind::threads,
                    .workers = 4,
                    .size = numbers,
                    .seed = {"prime_thread.py"},
                    .seed_only_at = 1000});
  t.runs.push_back({.job = table_job::primes,
                    .executor = executor_kind::processes,
                    .workers = 4,
                    .size = numbers,
                    .seed = {"prime_pool.py", "4"},
                    .seed_only_at = 1000});
  t.rows.push_back({{"4 threads"},
                    {{.run = 0, .metric = table_metric::wall_s, .chapter = 132},
                     {.run = 0, .metric = table_metric::user_s, .chapter = 132}}});
  t.rows.push_back({{"Pool(4) processes"},
                    {{.run = 1, .metric = table_metric::wall_s, .chapter = 69.6},
                     {.run = 1, .metric = table_metric::user_s, .chapter = 262}}});
  return t;
}

std::vector<chapter_table> make_tables() {
  std::vector<chapter_table> all;
  {
    chapter_table t{.id = "thumbnails",
                    .title = "thumbnails of five dummyimage.com URLs, one after another vs a thread per URL",
                    .source = "chapter 5, 'The thumbnail generator' (000_26c256b85d190f29.txt, lines 255-288)",
                    .size_name = "URLs",
                    .label_columns = {"version"},
                    .value_columns = {"time"},
                    .note =
                        "the chapter fetched dummyimage.com over the internet (about 1.7 s a URL); scalekit "
                        "fetches the same five URLs from its own dummyimage serve on loopback: thumbnail "
                        "URL... --executor threads -j 1 and -j 5"};
    constexpr std::array<std::uint64_t, 3> urls{5, 5, 5};
    t.runs.push_back(
        {.job = table_job::thumbnail_urls, .executor = executor_kind::threads, .workers = 1, .size = urls});
    t.runs.push_back(
        {.job = table_job::thumbnail_urls, .executor = executor_kind::threads, .workers = 5, .size = urls});
    t.rows.push_back({{"serial"}, {{.run = 0, .chapter_text = "1.7 a URL"}}});
    t.rows.push_back({{"a thread per URL"}, {{.run = 1, .chapter = 1.76}}});
    all.push_back(std::move(t));
  }
  {
    chapter_table t{.id = "limits",
                    .title = "producer/consumer thumbnails stopped at a limit by a lock vs a semaphore",
                    .source =
                        "chapter 5, 'Using a lock' and 'Using a semaphore' (000_26c256b85d190f29.txt, lines "
                        "626-737)",
                    .size_name = "limit",
                    .label_columns = {"limiter"},
                    .value_columns = {"thumbnails saved"},
                    .note =
                        "the chapter times none of it: its figure is the count, 'exactly the number, neither "
                        "more nor less'. scalekit: thumbnail --random-urls (its dummyimage serve) --producers 3 "
                        "--consumers 5 --limit N --limiter lock|semaphore",
                    .unit = ""};
    t.runs.push_back({.job = table_job::thumbnail_limit,
                      .executor = executor_kind::threads,
                      .workers = 5,
                      .size = {100, 100, 100},
                      .param = 0});
    t.runs.push_back({.job = table_job::thumbnail_limit,
                      .executor = executor_kind::threads,
                      .workers = 5,
                      .size = {200, 200, 200},
                      .param = 1});
    t.rows.push_back({{"Lock"}, {{.run = 0, .metric = table_metric::files, .chapter = 100}}});
    t.rows.push_back({{"BoundedSemaphore"}, {{.run = 1, .metric = table_metric::files, .chapter = 200}}});
    all.push_back(std::move(t));
  }
  all.push_back(primes_table());
  all.push_back(sort_table("sort-memory", "sorting number files in memory (sort_in_memory.py)",
                           "chapter 5, 'Sorting disk files' (000_26c256b85d190f29.txt, lines 1200-1207)",
                           table_job::sort_memory, {17.4, 101, 138, nan}, {}));
  all.back().rows[3].cells[0].chapter_text = "n/a (hung)";
  all.back().note =
      "scalekit: numbers sort --method memory, serial; the chapter's 1,000,000 files hung its 8 GB laptop";
  all.push_back(sort_table("sort-counter", "sorting number files with a counter (sort_counter.py)",
                           "chapter 5, 'Sorting disk files - using a counter' (000_26c256b85d190f29.txt, lines "
                           "1257-1264)",
                           table_job::sort_counter, {16.5, 83, 86, 359}, {"sort_counter.py", "{size}"}));
  all.back().note = "scalekit: numbers sort --method counter, serial";

  {
    chapter_table t{.id = "sort-pool",
                    .title = "sorting number files with a counter on a process pool (sort_counter_mp.py)",
                    .source =
                        "chapter 5, 'Sorting disk files - using multiprocessing' (000_26c256b85d190f29.txt, "
                        "lines 1363-1374)",
                    .size_name = "files",
                    .label_columns = {"files (n)", "pool size"},
                    .value_columns = {"time to sort"},
                    .note = "scalekit: numbers sort --method counter --executor processes -j 2 and -j 4"};
    constexpr std::array<std::array<double, 2>, 4> chapter{{{18, 20}, {92, 77}, {96, 86}, {350, 329}}};
    for (std::size_t i = 0; i < sort_sizes.size(); ++i)
      for (std::size_t k = 0; k < 2; ++k) {
        const std::size_t pool = k == 0 ? 2 : 4;
        t.runs.push_back({.job = table_job::sort_counter,
                          .executor = executor_kind::processes,
                          .workers = pool,
                          .size = sort_sizes[i]});
        t.rows.push_back(
            {{sort_labels[i], k == 0 ? "2" : "4"}, {{.run = t.runs.size() - 1, .chapter = chapter[i][k]}}});
      }
    all.push_back(std::move(t));
  }

  {
    chapter_table t{.id = "mandelbrot",
                    .title = "the Mandelbrot set, 640 x 480: serial, PyMP with 4 processes, Celery with 4 workers",
                    .source =
                        "chapter 5, 'Fractals - the Mandelbrot set' to 'Mandelbrot set with Celery' "
                        "(000_26c256b85d190f29.txt, lines 2070-2139 and 2311-2319)",
                    .size_name = "width",
                    .label_columns = {"version", "iterations"},
                    .value_columns = {"time"},
                    .note =
                        "the chapter prints only the Celery time at n=1000 (15 s, 'twice as fast as the "
                        "single-process and PyMP versions'); the rest are screenshots: PyMP 'about 33% faster' "
                        "than serial at n=10000, Celery 'about 20 s faster' than PyMP. scalekit: mandelbrot "
                        "--executor serial, openmp -j 4 (PyMP's fork-per-team) and distributed (the seed's "
                        "mandelbrot_calc_row tasks through a private Redis to a scalekit worker --concurrency 4, "
                        "as the chapter's celery worker of 4 processes)"};
    constexpr std::array<std::uint64_t, 3> width{160, 640, 640};
    const std::vector<std::string_view> seed{"mandelbrot.py", "-W", "{size}",  "-H", "{height}", "-n",
                                             "{param}",       "-o", "seed.rgb"};
    t.runs.push_back(
        {.job = table_job::mandelbrot, .executor = executor_kind::serial, .size = width, .param = 1000, .seed = seed});
    t.runs.push_back(
        {.job = table_job::mandelbrot, .executor = executor_kind::serial, .size = width, .param = 10000, .seed = seed});
    t.runs.push_back(
        {.job = table_job::mandelbrot, .executor = executor_kind::openmp, .workers = 4, .size = width, .param = 10000});
    t.runs.push_back({.job = table_job::mandelbrot,
                      .executor = executor_kind::distributed,
                      .workers = 4,
                      .size = width,
                      .param = 1000});
    t.runs.push_back({.job = table_job::mandelbrot,
                      .executor = executor_kind::distributed,
                      .workers = 4,
                      .size = width,
                      .param = 10000});
    t.rows.push_back({{"serial", "1000"}, {{.run = 0, .chapter_text = "screenshot"}}});
    t.rows.push_back({{"serial", "10000"}, {{.run = 1, .chapter_text = "screenshot"}}});
    t.rows.push_back({{"PyMP, 4 processes", "10000"}, {{.run = 2, .chapter_text = "screenshot"}}});
    t.rows.push_back({{"Celery, 4 workers", "1000"}, {{.run = 3, .chapter = 15}}});
    t.rows.push_back({{"Celery, 4 workers", "10000"}, {{.run = 4, .chapter_text = "screenshot"}}});
    all.push_back(std::move(t));
  }

  {
    chapter_table t{.id = "muchcpu",
                    .title = "MuchCPU: 200,000,000 empty iterations in each of 4 processes vs 4 threads",
                    .source = "chapter 14, 'Multiprocessing' (004_d4076afc3a426e37.txt, lines 200-232)",
                    .size_name = "iterations",
                    .label_columns = {"MuchCPU subclasses"},
                    .value_columns = {"work took"},
                    .note = "scalekit: burn --executor processes|threads -j 4 (the chapter's cpu_count() was 4)"};
    constexpr std::array<std::uint64_t, 3> iterations{20'000'000, 200'000'000, 200'000'000};
    t.runs.push_back({.job = table_job::burn, .executor = executor_kind::processes, .workers = 4, .size = iterations});
    t.runs.push_back({.job = table_job::burn, .executor = executor_kind::threads, .workers = 4, .size = iterations});
    t.rows.push_back({{"multiprocessing.Process"}, {{.run = 0, .chapter = 12.96659541130066}}});
    t.rows.push_back({{"threading.Thread"}, {{.run = 1, .chapter = 28.577413082122803}}});
    all.push_back(std::move(t));
  }

  {
    chapter_table t{.id = "rle-image",
                    .title = "RLE-compressing one 7200 x 5600 1-bit image, rows on a process pool vs a thread pool",
                    .source = "chapter 14, case study (004_d4076afc3a426e37.txt, line 744)",
                    .size_name = "width",
                    .label_columns = {"rows on"},
                    .value_columns = {"time"},
                    .note = "scalekit: rle compress --row-executor processes|threads -j 4 of an image of rings"};
    constexpr std::array<std::uint64_t, 3> width{720, 7200, 7200};
    t.runs.push_back({.job = table_job::rle_image,
                      .executor = executor_kind::processes,
                      .workers = 4,
                      .size = width,
                      .seed = {"rle_compress.py", "{in}", "seed.rle", "processes"}});
    t.runs.push_back({.job = table_job::rle_image,
                      .executor = executor_kind::threads,
                      .workers = 4,
                      .size = width,
                      .seed = {"rle_compress.py", "{in}", "seed.rle", "threads"}});
    t.rows.push_back({{"ProcessPoolExecutor"}, {{.run = 0, .chapter = 7.5}}});
    t.rows.push_back({{"ThreadPoolExecutor"}, {{.run = 1, .chapter = 9}}});
    all.push_back(std::move(t));
  }

  {
    chapter_table t{.id = "rle-dir",
                    .title = "RLE-compressing a directory of images, pools nested: per image x per row",
                    .source = "chapter 14, case study (004_d4076afc3a426e37.txt, lines 778-784)",
                    .size_name = "width",
                    .label_columns = {"per row"},
                    .value_columns = {"process pool per image", "thread pool per image"},
                    .note =
                        "the chapter does not say which images; scalekit compresses 8 images of rings, 7/9 as "
                        "high as wide: rle compress-dir --image-executor processes|threads -j 4 --row-executor "
                        "processes|threads --row-jobs 4"};
    constexpr std::array<std::uint64_t, 3> width{360, 7200, 7200};
    for (const auto rows : {executor_kind::processes, executor_kind::threads})
      for (const std::uint64_t images_on_processes : {1, 0})
        t.runs.push_back(
            {.job = table_job::rle_dir, .executor = rows, .workers = 4, .size = width, .param = images_on_processes});
    t.rows.push_back({{"process pool"}, {{.run = 0, .chapter = 42}, {.run = 1, .chapter = 53}}});
    t.rows.push_back({{"thread pool"}, {{.run = 2, .chapter = 34}, {.run = 3, .chapter = 64}}});
    all.push_back(std::move(t));
  }
  return all;
}

}  // namespace

const std::vector<chapter_table>& chapter_tables() {
  static const std::vector<chapter_table> all = make_tables();
  return all;
}

std::string figure_text(double seconds) {
  if (!std::isfinite(seconds)) return "-";
  return fmt::format("{:.3g}", seconds);
}

std::uint64_t row_size(const chapter_table& t, const table_row& r, table_size size) {
  return t.runs.at(r.cells.at(0).run).size[static_cast<std::size_t>(size)];
}

std::vector<std::vector<std::string>> table_grid(const chapter_table& t, table_size size,
                                                 const std::vector<std::vector<cell_figures>>& figures,
                                                 bool with_seed) {
  std::vector<std::vector<std::string>> grid;
  std::vector<std::string> head(t.label_columns.begin(), t.label_columns.end());
  head.push_back(fmt::format("run at ({})", t.size_name));
  const std::string unit = t.unit.empty() ? "" : " " + std::string(t.unit);
  for (const auto c : t.value_columns) {
    head.push_back(fmt::format("{}: chapter{}", c, unit));
    head.push_back("scalekit" + unit);
    if (with_seed) head.push_back("seed py" + unit);
  }
  grid.push_back(std::move(head));
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    std::vector<std::string> line(row.labels.begin(), row.labels.end());
    line.push_back(std::to_string(row_size(t, row, size)));
    for (std::size_t c = 0; c < row.cells.size(); ++c) {
      const auto& cell = row.cells[c];
      const auto& f = figures.at(r).at(c);
      line.push_back(std::isfinite(cell.chapter) || cell.chapter_text.empty() ? figure_text(cell.chapter)
                                                                              : std::string(cell.chapter_text));
      line.push_back(figure_text(f.scalekit));
      if (with_seed) line.push_back(std::isfinite(f.seed) || f.seed_text.empty() ? figure_text(f.seed) : f.seed_text);
    }
    grid.push_back(std::move(line));
  }
  return grid;
}

std::string grid_text(const std::vector<std::vector<std::string>>& grid) {
  std::vector<std::size_t> width;
  // Display width: count code points, not bytes (labels may hold non-ASCII).
  const auto cols = [](const std::string& s) {
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xc0) != 0x80; }));
  };
  for (const auto& row : grid)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], cols(row[c]));
    }
  std::string out;
  for (const auto& row : grid) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line.append(width[c] - cols(row[c]) + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace scalekit::scale
