// tables.html (chapter_tables.h): the chapters' tables with scalekit's
// figures, one self-contained page in the style of the sweep's report.html.

#include <fmt/format.h>

#include <cmath>

#include "chapter_tables.h"
#include "sweep_charts.h"  // escape(), exact(): the same as the sweep's report

namespace scalekit::scale {

namespace {

// A figure's cell: rounded text (or the words standing for it), exact data-value.
std::string figure(const char* source, double v, std::string_view text) {
  const std::string shown = std::isfinite(v) || text.empty() ? figure_text(v) : std::string(text);
  return fmt::format("<td class=\"{}\" data-value=\"{}\">{}</td>", source, exact(v), escape(shown));
}

std::string one_table(const measured_table& m, table_size size, bool with_seed) {
  const auto& t = *m.table;
  const auto grid = table_grid(t, size, m.figures, with_seed);
  std::string out = fmt::format("<section id=\"{0}-section\">\n<h2>{0}: {1}</h2>\n<p class=\"src\">{2}</p>\n",
                                escape(t.id), escape(t.title), escape(t.source));
  if (!t.note.empty()) out += fmt::format("<p class=\"note\">{}</p>\n", escape(t.note));
  out += fmt::format("<table id=\"{}\">\n<thead><tr>", escape(t.id));
  for (const auto& h : grid[0]) out += "<th>" + escape(h) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    out += "<tr>";
    for (const auto l : row.labels) out += "<td class=\"label\">" + escape(l) + "</td>";
    out += fmt::format("<td class=\"run-at\" data-value=\"{0}\">{0}</td>", row_size(t, row, size));
    for (std::size_t c = 0; c < row.cells.size(); ++c) {
      const auto& f = m.figures.at(r).at(c);
      out += figure("chapter", row.cells[c].chapter, row.cells[c].chapter_text);
      out += figure("scalekit", f.scalekit, "");
      if (with_seed) out += figure("seed", f.seed, f.seed_text);
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n</section>\n";
}

}  // namespace

std::string tables_html(const std::vector<measured_table>& tables, table_size size, bool with_seed,
                        const std::string& about) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>scalekit scale tables</title>\n<style>\n"
      "body{font:15px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:70em;padding:0 1em;color:#111}\n"
      "table{border-collapse:collapse;font-size:13px;margin:.5em 0;display:block;overflow-x:auto}\n"
      "th,td{border:1px solid #ccc;padding:2px 6px;text-align:right} th{background:#f2f2f2}\n"
      "td.label{text-align:left} td.chapter{color:#555} td.scalekit{font-weight:600}\n"
      ".src,.note{font-size:13px;color:#444;margin:.2em 0}\n"
      "</style>\n</head>\n<body>\n<main>\n<h1>The chapters' timing tables</h1>\n";
  out += "<p id=\"about\">" + escape(about) + "</p>\n";
  out +=
      "<p>Each figure of the chapters (seconds, as printed) has scalekit's beside it, measured at the size in the "
      "<em>run at</em> column" +
      std::string(with_seed ? ", and the seed's Python on this machine at the same size" : "") + ".</p>\n";
  for (const auto& m : tables) out += one_table(m, size, with_seed);
  return out + "</main>\n</body>\n</html>\n";
}

}  // namespace scalekit::scale
