// host: starting the interpreter, loading the applications, routing by mount.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <utility>

#include "errors.h"
#include "interpreter.h"
#include "protocol.h"
#include "py.h"
#include "scalekit/serve/wsgi.h"

namespace scalekit::serve::wsgi {
namespace {

struct target_parts {
  std::string module;
  std::string attributes;  // dotted
};

result<target_parts> split_target(const std::string& target) {
  const auto colon = target.find(':');
  target_parts p{target.substr(0, colon), colon == std::string::npos ? "application" : target.substr(colon + 1)};
  if (p.module.empty() || p.attributes.empty() || p.attributes.front() == '.' || p.attributes.back() == '.')
    return status::invalid_argument("wsgi app '" + target + "': expected MODULE:CALLABLE");
  return p;
}

struct load_error {
  std::string line;
  std::string traceback;
};

// The callable of `target` (a new reference), or nullptr with `error` filled.
// REQUIRES the GIL.
PyObject* load(const std::string& target, load_error& error) {
  const auto parts = split_target(target).value();  // checked before the interpreter started
  const std::string prefix = "cannot load wsgi app '" + target + "': ";
  py::ref obj(PyImport_ImportModule(parts.module.c_str()));
  std::size_t from = 0;
  while (obj && from <= parts.attributes.size()) {
    const auto dot = parts.attributes.find('.', from);
    const std::string name = parts.attributes.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
    obj = py::ref(PyObject_GetAttrString(obj.get(), name.c_str()));
    from = dot == std::string::npos ? parts.attributes.size() + 1 : dot + 1;
  }
  if (!obj) {
    auto e = errors::take();
    error = {prefix + e.summary, std::move(e.traceback)};
    return nullptr;
  }
  if (!PyCallable_Check(obj.get())) {
    error = {prefix + parts.attributes + " is not callable (it is " + py::short_repr(obj.get()) + ")", {}};
    return nullptr;
  }
  return obj.release();
}

}  // namespace

status check_spec(const app_spec& app) {
  if (auto parts = split_target(app.target); !parts.ok()) return parts.error();
  std::string why;
  if (!protocol::normalise_mount(app.mount, why))
    return status::invalid_argument("wsgi app '" + app.target + "': mount '" + app.mount + "' " + why);
  return {};
}

result<std::unique_ptr<host>> host::start(host_options options) {
  std::set<std::string> mounts;
  for (auto& app : options.apps) {
    if (auto s = check_spec(app); !s.ok()) return s;
    std::string why;
    auto mount = protocol::normalise_mount(app.mount, why);
    if (!mounts.insert(*mount).second)
      return status::invalid_argument("wsgi app '" + app.target + "': mount '" + app.mount + "' is taken already");
    app.mount = std::move(*mount);
  }
  if (!options.chdir.empty() && ::chdir(options.chdir.c_str()) != 0)
    return status::io_error("cannot change into '" + options.chdir + "': " + std::strerror(errno));
  if (status s = interpreter::ensure_started(options); !s.ok()) return s;

  std::unique_ptr<host> h(new host);
  h->options_ = std::move(options);
  load_error error;
  {
    interpreter::gil_scope gil(interpreter::gil_clock{});
    if (!interpreter::put_first_on_path(h->options_.pythonpath)) {
      auto e = errors::take();
      error = {"cannot set sys.path: " + e.summary, std::move(e.traceback)};
    }
    for (const auto& spec : h->options_.apps) {
      if (!error.line.empty()) break;
      PyObject* callable = load(spec.target, error);
      if (callable == nullptr) break;
      app_entry entry;
      entry.spec = spec;
      entry.callable = callable;
      h->apps_.push_back(std::move(entry));
    }
    if (!error.line.empty()) {
      for (auto& a : h->apps_) Py_XDECREF(static_cast<PyObject*>(std::exchange(a.callable, nullptr)));
      h->apps_.clear();
    }
  }
  if (!error.line.empty()) {
    errors::log(h->options_.log, error.line, error.traceback);
    return status::not_found(error.line);
  }
  return h;
}

host::~host() {
  if (apps_.empty()) return;
  interpreter::gil_scope gil(interpreter::gil_clock{});
  for (auto& a : apps_) Py_XDECREF(static_cast<PyObject*>(std::exchange(a.callable, nullptr)));
}

std::optional<app_id> host::find_app(std::string_view path) const {
  const std::string decoded = protocol::percent_decode(path);
  std::optional<app_id> best;
  for (app_id i = 0; i < apps_.size(); ++i) {
    const auto& mount = apps_[i].spec.mount;
    if (protocol::under_mount(decoded, mount) && (!best || mount.size() > apps_[*best].spec.mount.size())) best = i;
  }
  return best;
}

app_stats host::stats(app_id id) const {
  const counters& c = *apps_.at(id).stats;
  app_stats s;
  s.calls = c.calls.load(std::memory_order_relaxed);
  s.app_errors = c.app_errors.load(std::memory_order_relaxed);
  s.cut = c.cut.load(std::memory_order_relaxed);
  s.client_gone = c.client_gone.load(std::memory_order_relaxed);
  s.gil_wait = std::chrono::nanoseconds(c.gil_wait_ns.load(std::memory_order_relaxed));
  s.gil_wait_max = std::chrono::nanoseconds(c.gil_wait_max_ns.load(std::memory_order_relaxed));
  return s;
}

}  // namespace scalekit::serve::wsgi
