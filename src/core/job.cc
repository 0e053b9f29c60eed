#include "scalekit/core/job.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <type_traits>

#include "scalekit/core/executor.h"
#include "scalekit/core/stats.h"
#include "utf8.h"

namespace scalekit::core {

namespace {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

std::string number_text(double v, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      std::uint32_t cp = 0;
      const std::size_t n = detail::utf8_at(s, i, cp);
      if (n == 0) {
        out += "\\ufffd";  // one replacement per byte that is not UTF-8
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
    ++i;
  }
  out += '"';
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t n = detail::utf8_at(s, i, cp);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD, one per byte that is not UTF-8
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

namespace {

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that reads back the same
  out.append(buf, r.ptr);
}

void append_json_fields(std::string& out, const std::vector<report_field>& fields, bool first);

void append_json_value(std::string& out, const report_value& v) {
  std::visit(overloaded{
                 [&](bool b) { out += b ? "true" : "false"; },
                 [&](std::int64_t i) { out += std::to_string(i); },
                 [&](std::uint64_t u) { out += std::to_string(u); },
                 [&](double d) { append_json_number(out, d); },
                 [&](const std::string& s) { append_json_string(out, s); },
                 [&](std::chrono::nanoseconds d) { append_json_number(out, seconds(d)); },
                 [&](const std::vector<report_record>& records) {
                   out += '[';
                   for (std::size_t i = 0; i < records.size(); ++i) {
                     if (i > 0) out += ',';
                     out += '{';
                     append_json_fields(out, records[i], true);
                     out += '}';
                   }
                   out += ']';
                 },
             },
             v);
}

void append_json_fields(std::string& out, const std::vector<report_field>& fields, bool first) {
  for (const auto& f : fields) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, f.key);
    out += ':';
    append_json_value(out, f.value);
  }
}

std::string value_text(const report_value& v) {
  return std::visit(overloaded{
                        [](bool b) -> std::string { return b ? "yes" : "no"; },
                        [](std::int64_t i) { return std::to_string(i); },
                        [](std::uint64_t u) { return std::to_string(u); },
                        [](double d) { return number_text(d, "%.4g"); },
                        [](const std::string& s) { return s; },
                        [](std::chrono::nanoseconds d) { return format_duration(d); },
                        [](const std::vector<report_record>& r) { return std::to_string(r.size()); },
                    },
                    v);
}

// "{}" in `text` replaced by the value; literal text otherwise.
std::string field_text(const report_field& f) {
  const auto at = f.text.find("{}");
  if (at == std::string::npos) return f.text;
  return f.text.substr(0, at) + value_text(f.value) + f.text.substr(at + 2);
}

}  // namespace

report& report::add(std::string key, report_value value, std::string text) {
  for (auto& f : fields_) {
    if (f.key == key) {
      f.value = std::move(value);
      f.text = std::move(text);
      return *this;
    }
  }
  fields_.push_back({std::move(key), std::move(value), std::move(text)});
  return *this;
}

const report_value* report::find(std::string_view key) const {
  for (const auto& f : fields_)
    if (f.key == key) return &f.value;
  return nullptr;
}

std::string report::summary_line() const {
  std::string line = job + ":";
  if (!work.empty()) line += " " + work;
  const double secs = seconds(elapsed);
  line += (work.empty() ? " " : " in ") + number_text(secs, "%.3f") + " s";
  if (!unit.empty()) line += " (" + number_text(secs > 0 ? items / secs : 0.0, "%.4g") + " " + unit + "/s)";
  std::string details;
  for (const auto& f : fields_) {
    if (f.text.empty()) continue;
    std::string t = field_text(f);
    // A text that shows nothing (an empty value in "{}", blanks) leaves no
    // empty slot behind: never "[threads -j 2, ]".
    while (!t.empty() && (t.back() == ' ' || t.back() == ',')) t.pop_back();
    if (t.find_first_not_of(' ') == std::string::npos) continue;
    if (!details.empty()) details += ", ";
    details += t;
  }
  if (!details.empty()) line += " [" + details + "]";
  return line;
}

std::string report::to_json() const {
  std::string out = "{";
  append_json_string(out, "job");
  out += ':';
  append_json_string(out, job);
  // Fields the job set itself win over the generic ones.
  if (find("elapsed_s") == nullptr) {
    out += ",\"elapsed_s\":";
    append_json_number(out, seconds(elapsed));
  }
  if (!unit.empty()) {
    const std::string rate_key = unit + "_per_s";
    if (find(rate_key) == nullptr) {
      out += ',';
      append_json_string(out, rate_key);
      out += ':';
      const double secs = seconds(elapsed);
      append_json_number(out, secs > 0 ? items / secs : 0.0);
    }
  }
  if (find("failures") == nullptr) {
    out += ",\"failures\":";
    out += std::to_string(failures);
  }
  append_json_fields(out, fields_, false);
  out += '}';
  return out;
}

void add_executor_fields(report& r, const executor& ex) {
  const auto& st = ex.get_stats();
  r.add("executor", std::string(to_string(ex.kind())), "{}");
  r.add("jobs", static_cast<std::uint64_t>(ex.concurrency()), "-j {}");
  r.add("tasks", st.completed.load(), "{} tasks");
  if (st.service_time.count() > 0) {
    r.add("task_p50_s", st.service_time.percentile(0.5), "task p50 {}");
    r.add("task_p99_s", st.service_time.percentile(0.99), "p99 {}");
    r.add("task_p999_s", st.service_time.percentile(0.999), "p99.9 {}");
    r.add("task_max_s", st.service_time.max(), "max {}");
  }
  if (st.retried.load() > 0) r.add("retried", st.retried.load(), "{} calls ran again after their worker died");
  if (st.workers_replaced.load() > 0) r.add("workers_replaced", st.workers_replaced.load(), "{} workers replaced");
}

void cancel_on_stop::canceller::operator()() const noexcept { ex->cancel(); }

void observer::progress(std::uint64_t, std::uint64_t, std::string_view) {}
void observer::output(std::string_view) {}
void observer::message(std::string_view) {}

void collecting_observer::progress(std::uint64_t done, std::uint64_t total, std::string_view) {
  std::scoped_lock lock(mutex_);
  progress_ = {done, total};
}

void collecting_observer::output(std::string_view lines) {
  std::scoped_lock lock(mutex_);
  text_.append(lines);
}

void collecting_observer::message(std::string_view line) {
  std::scoped_lock lock(mutex_);
  messages_.emplace_back(line);
}

std::string collecting_observer::text() const {
  std::scoped_lock lock(mutex_);
  return text_;
}

std::vector<std::string> collecting_observer::messages() const {
  std::scoped_lock lock(mutex_);
  return messages_;
}

std::pair<std::uint64_t, std::uint64_t> collecting_observer::last_progress() const {
  std::scoped_lock lock(mutex_);
  return progress_;
}

}  // namespace scalekit::core
