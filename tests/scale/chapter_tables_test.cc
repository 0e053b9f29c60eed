// Unit tests of the chapters' timing tables as data (every table shaped as
// the chapter prints it, the figures typed in) and of their layout.
#include "chapter_tables.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace scalekit::scale {
namespace {

const chapter_table& table(std::string_view id) {
  for (const auto& t : chapter_tables())
    if (t.id == id) return t;
  ADD_FAILURE() << "no table " << id;
  return chapter_tables().front();
}

std::vector<std::vector<cell_figures>> filled(const chapter_table& t, double scalekit, double seed) {
  std::vector<std::vector<cell_figures>> out;
  for (const auto& row : t.rows) out.emplace_back(row.cells.size(), cell_figures{.scalekit = scalekit, .seed = seed});
  return out;
}

TEST(ChapterTables, EveryTableOfBothChaptersIsThereOnce) {
  std::vector<std::string> ids;
  for (const auto& t : chapter_tables()) ids.emplace_back(t.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"thumbnails", "limits", "primes", "sort-memory", "sort-counter", "sort-pool",
                                           "mandelbrot", "muchcpu", "rle-image", "rle-dir"}));
}

TEST(ChapterTables, EveryRowHasALabelPerLabelColumnAndACellPerValueColumn) {
  for (const auto& t : chapter_tables()) {
    SCOPED_TRACE(std::string(t.id));
    EXPECT_FALSE(t.source.empty());
    EXPECT_FALSE(t.label_columns.empty());
    EXPECT_FALSE(t.value_columns.empty());
    EXPECT_FALSE(t.rows.empty());
    for (const auto& row : t.rows) {
      EXPECT_EQ(row.labels.size(), t.label_columns.size());
      ASSERT_EQ(row.cells.size(), t.value_columns.size());
      for (const auto& cell : row.cells) {
        ASSERT_LT(cell.run, t.runs.size());
        // A figure the chapter prints, or words saying why there is none.
        EXPECT_TRUE(std::isfinite(cell.chapter) != !cell.chapter_text.empty());
      }
    }
    for (const auto& run : t.runs) {
      EXPECT_GT(run.size[0], 0u);
      EXPECT_LE(run.size[0], run.size[1]);
      EXPECT_LE(run.size[1], run.size[2]);
      EXPECT_GE(run.workers, 1u);
    }
  }
}

TEST(ChapterTables, TheChaptersFiguresAreTypedInWithTheirRowsAndColumns) {
  const auto& counter = table("sort-counter");
  ASSERT_EQ(counter.rows.size(), 4u);
  EXPECT_EQ(counter.rows[3].labels[0], "1000000");
  EXPECT_EQ(counter.rows[3].cells[0].chapter, 359);
  EXPECT_EQ(table("sort-memory").rows[3].cells[0].chapter_text, "n/a (hung)");

  const auto& pool = table("sort-pool");
  ASSERT_EQ(pool.rows.size(), 8u);  // four file counts x pool sizes 2 and 4
  EXPECT_EQ(pool.rows[3].labels, (std::vector<std::string_view>{"10000", "4"}));
  EXPECT_EQ(pool.rows[3].cells[0].chapter, 77);
  EXPECT_EQ(pool.runs[pool.rows[3].cells[0].run].workers, 4u);

  const auto& primes = table("primes");
  EXPECT_EQ(primes.value_columns, (std::vector<std::string_view>{"real", "user"}));
  EXPECT_EQ(primes.rows[1].cells[0].chapter, 69.6);
  EXPECT_EQ(primes.rows[1].cells[1].chapter, 262);
  EXPECT_EQ(primes.rows[1].cells[1].metric, table_metric::user_s);

  const auto& dir = table("rle-dir");  // per row x per image, as the chapter's 2 x 2
  ASSERT_EQ(dir.rows.size(), 2u);
  EXPECT_EQ(dir.rows[0].cells[0].chapter, 42);
  EXPECT_EQ(dir.rows[0].cells[1].chapter, 53);
  EXPECT_EQ(dir.rows[1].cells[0].chapter, 34);
  EXPECT_EQ(dir.rows[1].cells[1].chapter, 64);
  const auto& thread_thread = dir.runs[dir.rows[1].cells[1].run];
  EXPECT_EQ(thread_thread.executor, core::executor_kind::threads);
  EXPECT_EQ(thread_thread.param, 0u);  // images on threads

  const auto& mandelbrot = table("mandelbrot");
  EXPECT_EQ(mandelbrot.rows[3].cells[0].chapter, 15);
  const auto& celery = mandelbrot.runs[mandelbrot.rows[3].cells[0].run];  // a broker and a worker of 4 processes
  EXPECT_EQ(celery.executor, core::executor_kind::distributed);
  EXPECT_EQ(celery.workers, 4u);
  EXPECT_EQ(celery.param, 1000u);
  EXPECT_NEAR(table("muchcpu").rows[0].cells[0].chapter, 12.97, 0.01);
}

TEST(ChapterTables, FullSizesAreTheChaptersSizes) {
  for (const auto id : {"sort-memory", "sort-counter", "sort-pool"}) {
    const auto& t = table(id);
    for (const auto& row : t.rows) EXPECT_EQ(std::to_string(row_size(t, row, table_size::full)), row.labels[0]);
  }
  EXPECT_EQ(row_size(table("primes"), table("primes").rows[0], table_size::full), 1000u);
  EXPECT_EQ(row_size(table("mandelbrot"), table("mandelbrot").rows[0], table_size::full), 640u);
  EXPECT_EQ(row_size(table("rle-image"), table("rle-image").rows[0], table_size::full), 7200u);
  EXPECT_EQ(row_size(table("muchcpu"), table("muchcpu").rows[0], table_size::full), 200'000'000u);
}

TEST(ChapterTables, TheGridHasTheChaptersColumnsWithScalekitsBesideEachFigure) {
  const auto& t = table("primes");
  const auto grid = table_grid(t, table_size::quick, filled(t, 0.5, 2), false);
  ASSERT_EQ(grid.size(), 1 + t.rows.size());
  EXPECT_EQ(grid[0], (std::vector<std::string>{"version", "run at (numbers)", "real: chapter s", "scalekit s",
                                               "user: chapter s", "scalekit s"}));
  EXPECT_EQ(grid[2], (std::vector<std::string>{"Pool(4) processes", "100", "69.6", "0.5", "262", "0.5"}));
}

TEST(ChapterTables, WithTheSeedEachFigureHasThreeColumns) {
  for (const auto& t : chapter_tables()) {
    const auto grid = table_grid(t, table_size::normal, filled(t, 1, 3), true);
    for (const auto& line : grid) EXPECT_EQ(line.size(), t.label_columns.size() + 1 + 3 * t.value_columns.size());
  }
  const auto& t = table("sort-memory");
  auto f = filled(t, 0.25, std::nan(""));
  f[0][0].seed_text = "> 60";
  const auto grid = table_grid(t, table_size::normal, f, true);
  EXPECT_EQ(grid[0].back(), "seed py s");
  EXPECT_EQ(grid[1].back(), "> 60");
  EXPECT_EQ(grid[2].back(), "-");       // NaN, no words
  EXPECT_EQ(grid[4][2], "n/a (hung)");  // the chapter's words where it has no figure
}

TEST(ChapterTables, ACountHasNoUnitInItsHeader) {
  const auto& t = table("limits");
  EXPECT_EQ(t.rows[1].cells[0].chapter, 200);
  EXPECT_EQ(t.rows[1].cells[0].metric, table_metric::files);
  const auto grid = table_grid(t, table_size::normal, filled(t, 200, std::nan("")), true);
  EXPECT_EQ(grid[0], (std::vector<std::string>{"limiter", "run at (limit)", "thumbnails saved: chapter", "scalekit",
                                               "seed py"}));
  EXPECT_EQ(grid[2], (std::vector<std::string>{"BoundedSemaphore", "200", "200", "200", "-"}));
}

TEST(ChapterTables, FiguresHaveThreeSignificantDigits) {
  EXPECT_EQ(figure_text(17.4), "17.4");
  EXPECT_EQ(figure_text(359), "359");
  EXPECT_EQ(figure_text(0.0123456), "0.0123");
  EXPECT_EQ(figure_text(12.96659541130066), "13");
  EXPECT_EQ(figure_text(std::nan("")), "-");
}

TEST(ChapterTables, TheTextAlignsEveryColumn) {
  const std::vector<std::vector<std::string>> grid{{"a", "bb", "c"}, {"dddd", "e", "ffffff"}, {"g", "hhh", "i"}};
  EXPECT_EQ(grid_text(grid), "a     bb   c\ndddd  e    ffffff\ng     hhh  i\n");
  // Non-ASCII labels count as one column per character.
  EXPECT_EQ(grid_text({{"é", "x"}, {"ab", "y"}}), "é   x\nab  y\n");
}

}  // namespace
}  // namespace scalekit::scale
