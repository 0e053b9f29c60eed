#include "scalekit/taskqueue/arguments.h"

#include <gmp.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "scalekit/taskqueue/json_text.h"
#include "scalekit/taskqueue/registry.h"

namespace scalekit::taskqueue::celery {

namespace {

[[noreturn]] void type_error(const std::string& message) { throw task_exception("TypeError", "builtins", message); }

// "'x'", "'x' and 'y'", "'x', 'y', and 'z'": CPython's list of missing names.
std::string name_list(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (k > 0) out += names.size() == 2 ? " and " : (k + 1 == names.size() ? ", and " : ", ");
    out += "'" + std::string(names[k]) + "'";
  }
  return out;
}

// An mpz_t that frees itself.
struct big {
  mpz_t v;
  big() { mpz_init(v); }
  ~big() { mpz_clear(v); }
  big(const big&) = delete;
  big& operator=(const big&) = delete;
};

// A JSON integer or boolean as an exact integer.
void to_big(std::string_view value, big& out) {
  if (value == "true" || value == "false") {
    mpz_set_ui(out.v, value == "true" ? 1 : 0);
    return;
  }
  const std::string text(value);
  mpz_set_str(out.v, text.c_str(), 10);
}

bool is_int_like(std::string_view t) { return t == "int" || t == "bool"; }

// float(x) for a JSON number or boolean, rounded as Python rounds it.
double to_double(std::string_view value) {
  if (value == "true" || value == "false") return value == "true" ? 1.0 : 0.0;
  if (value == "NaN") return std::nan("");
  if (value == "Infinity" || value == "-Infinity") return value[0] == '-' ? -HUGE_VAL : HUGE_VAL;
  const std::string text(value);
  errno = 0;
  const double d = std::strtod(text.c_str(), nullptr);
  if (errno == ERANGE && std::isinf(d) && json_text::is_integer(value))
    throw task_exception("OverflowError", "builtins", "int too large to convert to float");
  return d;
}

// What json.dumps writes for a float.
std::string float_json(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  return json_text::py_float_repr(d);
}

}  // namespace

std::vector<std::string_view> bind_arguments(std::string_view function, std::span<const parameter> params,
                                             std::string_view args_json, std::string_view kwargs_json) {
  const std::string fn = std::string(function) + "()";
  auto args_parsed = json_text::elements(args_json);
  if (!args_parsed.ok()) type_error(fn + " argument after * must be an iterable");
  auto kwargs_parsed = json_text::members(kwargs_json);
  if (!kwargs_parsed.ok()) type_error(fn + " argument after ** must be a mapping");
  const std::vector<std::string_view> args = std::move(args_parsed).value();
  const std::vector<json_text::member> kwargs = std::move(kwargs_parsed).value();
  std::vector<std::optional<std::string_view>> bound(params.size());
  for (std::size_t k = 0; k < args.size() && k < params.size(); ++k) bound[k] = args[k];
  // Keywords first, in the order given, as CPython checks them.
  for (const auto& m : kwargs) {
    std::size_t k = 0;
    while (k < params.size() && params[k].name != m.key) ++k;
    if (k == params.size()) type_error(fn + " got an unexpected keyword argument '" + m.key + "'");
    if (bound[k]) type_error(fn + " got multiple values for argument '" + m.key + "'");
    bound[k] = m.value;
  }
  if (args.size() > params.size()) {
    std::size_t required = 0;
    while (required < params.size() && !params[required].default_json) ++required;
    const std::string takes = required == params.size()
                                  ? std::to_string(params.size())
                                  : "from " + std::to_string(required) + " to " + std::to_string(params.size());
    type_error(fn + " takes " + takes + " positional argument" + (params.size() == 1 ? "" : "s") + " but " +
               std::to_string(args.size()) + (args.size() == 1 ? " was" : " were") + " given");
  }
  std::vector<std::string_view> missing;
  for (std::size_t k = 0; k < params.size(); ++k)
    if (!bound[k] && !params[k].default_json) missing.push_back(params[k].name);
  if (!missing.empty())
    type_error(fn + " missing " + std::to_string(missing.size()) + " required positional argument" +
               (missing.size() == 1 ? "" : "s") + ": " + name_list(missing));
  std::vector<std::string_view> out;
  out.reserve(params.size());
  for (std::size_t k = 0; k < params.size(); ++k) out.push_back(bound[k] ? *bound[k] : *params[k].default_json);
  return out;
}

std::string_view python_type(std::string_view value) {
  switch (json_text::kind_of(value)) {
    case json_text::kind::null: return "NoneType";
    case json_text::kind::boolean: return "bool";
    case json_text::kind::string: return "str";
    case json_text::kind::array: return "list";
    case json_text::kind::object: return "dict";
    case json_text::kind::number: return json_text::is_integer(value) ? "int" : "float";
  }
  return "object";
}

std::optional<std::int64_t> as_int64(std::string_view value) {
  if (!json_text::is_integer(value)) return std::nullopt;
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size()) return std::nullopt;
  return v;
}

std::string python_add(std::string_view a, std::string_view b) {
  const std::string_view ta = python_type(a), tb = python_type(b);
  if (is_int_like(ta) && is_int_like(tb)) {
    big x, y;
    to_big(a, x);
    to_big(b, y);
    mpz_add(x.v, x.v, y.v);
    std::unique_ptr<char, void (*)(void*)> text(mpz_get_str(nullptr, 10, x.v), std::free);
    return text.get();
  }
  const bool na = is_int_like(ta) || ta == "float", nb = is_int_like(tb) || tb == "float";
  if (na && nb) return float_json(to_double(a) + to_double(b));
  if (ta == "str" && tb == "str") return json_text::quote(*json_text::string_value(a) + *json_text::string_value(b));
  if (ta == "list" && tb == "list") {
    std::string out = "[";
    for (const std::string_view list : {a, b}) {
      const std::vector<std::string_view> items = json_text::elements(list).value();
      for (std::string_view e : items) out.append(out.size() > 1 ? ", " : "").append(e);
    }
    return out + "]";
  }
  if (ta == "str" || ta == "list")
    type_error("can only concatenate " + std::string(ta) + " (not \"" + std::string(tb) + "\") to " + std::string(ta));
  type_error("unsupported operand type(s) for +: '" + std::string(ta) + "' and '" + std::string(tb) + "'");
}

}  // namespace scalekit::taskqueue::celery
