#include "environ.h"

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "errors_stream.h"
#include "file_wrapper.h"
#include "protocol.h"

namespace scalekit::serve::wsgi::environ {
namespace {

// Keys made once and interned, so each request only hashes what changes.
enum key : std::size_t {
  request_method,
  script_name,
  path_info,
  query_string,
  content_type,
  content_length,
  server_name,
  server_port,
  server_protocol,
  server_software,
  remote_addr,
  remote_port,
  request_uri,
  raw_uri,
  wsgi_version,
  wsgi_url_scheme,
  wsgi_input,
  wsgi_errors,
  wsgi_multithread,
  wsgi_multiprocess,
  wsgi_run_once,
  wsgi_file_wrapper,
  wsgi_input_terminated,
  key_count
};
constexpr std::array<const char*, key_count> key_names = {"REQUEST_METHOD",
                                                          "SCRIPT_NAME",
                                                          "PATH_INFO",
                                                          "QUERY_STRING",
                                                          "CONTENT_TYPE",
                                                          "CONTENT_LENGTH",
                                                          "SERVER_NAME",
                                                          "SERVER_PORT",
                                                          "SERVER_PROTOCOL",
                                                          "SERVER_SOFTWARE",
                                                          "REMOTE_ADDR",
                                                          "REMOTE_PORT",
                                                          "REQUEST_URI",
                                                          "RAW_URI",
                                                          "wsgi.version",
                                                          "wsgi.url_scheme",
                                                          "wsgi.input",
                                                          "wsgi.errors",
                                                          "wsgi.multithread",
                                                          "wsgi.multiprocess",
                                                          "wsgi.run_once",
                                                          "wsgi.file_wrapper",
                                                          "wsgi.input_terminated"};

// Owned for the life of the process (the interpreter is never finalised).
std::array<PyObject*, key_count> keys{};
PyObject* version = nullptr;   // (1, 0)
PyObject* software = nullptr;  // "scalekit"
PyObject* http = nullptr;      // "http"
PyObject* https = nullptr;     // "https"

bool set(PyObject* dict, key k, py::ref value) { return value && PyDict_SetItem(dict, keys[k], value.get()) == 0; }
bool set_borrowed(PyObject* dict, key k, PyObject* value) {
  return value != nullptr && PyDict_SetItem(dict, keys[k], value) == 0;
}

// HTTP_* variables in first-seen order, repeats joined.
struct cgi_header {
  std::string name;
  std::string value;
};

}  // namespace

bool init() {
  for (std::size_t i = 0; i < key_count; ++i) {
    keys[i] = PyUnicode_InternFromString(key_names[i]);
    if (keys[i] == nullptr) return false;
  }
  version = Py_BuildValue("(ii)", 1, 0);
  software = PyUnicode_InternFromString("scalekit");
  http = PyUnicode_InternFromString("http");
  https = PyUnicode_InternFromString("https");
  return version != nullptr && software != nullptr && http != nullptr && https != nullptr;
}

py::ref build(const request& req, std::string_view mount, PyObject* input, const settings& s) {
  py::ref env(PyDict_New());
  if (!env) return {};
  PyObject* d = env.get();

  const std::string path = protocol::percent_decode(req.path);
  const bool mounted = protocol::under_mount(path, mount);
  const std::string_view script = mounted ? mount : std::string_view();
  const std::string_view rest = mounted ? std::string_view(path).substr(mount.size()) : std::string_view(path);

  std::vector<cgi_header> headers;
  headers.reserve(req.headers.size());
  bool has_length = false;
  for (const auto& h : req.headers) {
    if (h.name.find('_') != std::string_view::npos) continue;  // would alias the '-' spelling
    if (protocol::iequals(h.name, "Content-Length")) {
      has_length = true;
      continue;
    }
    if (protocol::iequals(h.name, "Transfer-Encoding")) continue;  // the body is de-chunked
    std::string name = protocol::iequals(h.name, "Content-Type") ? "CONTENT_TYPE" : protocol::cgi_name(h.name);
    cgi_header* seen = nullptr;
    for (auto& e : headers)
      if (e.name == name) seen = &e;
    if (seen == nullptr) {
      headers.push_back({std::move(name), std::string(h.value)});
    } else {
      seen->value += seen->name == "HTTP_COOKIE" ? "; " : ", ";
      seen->value += h.value;
    }
  }

  bool ok = set(d, request_method, py::latin1(req.method)) && set(d, script_name, py::latin1(script)) &&
            set(d, path_info, py::latin1(rest)) && set(d, query_string, py::latin1(req.query)) &&
            set(d, server_name, py::latin1(req.server_name)) &&
            set(d, server_port, py::ref(PyUnicode_FromFormat("%u", unsigned{req.server_port}))) &&
            set(d, server_protocol, py::latin1(req.version)) && set_borrowed(d, server_software, software) &&
            set(d, remote_addr, py::latin1(req.remote_addr)) &&
            set(d, remote_port, py::ref(PyUnicode_FromFormat("%u", unsigned{req.remote_port}))) &&
            set(d, request_uri, py::latin1(req.target)) && set(d, raw_uri, py::latin1(req.target));
  if (ok && (has_length || !req.body.empty()))
    ok = set(d, content_length, py::ref(PyUnicode_FromFormat("%zu", req.body.size())));
  for (const auto& h : headers) {
    if (!ok) break;
    py::ref value = py::latin1(h.value);
    if (h.name == "CONTENT_TYPE") {
      ok = set(d, content_type, std::move(value));
    } else {
      py::ref name(PyUnicode_FromStringAndSize(h.name.data(), static_cast<Py_ssize_t>(h.name.size())));
      ok = name && value && PyDict_SetItem(d, name.get(), value.get()) == 0;
    }
  }
  if (!ok) return {};

  PyObject* scheme = req.url_scheme == "https" ? https : req.url_scheme == "http" ? http : nullptr;
  ok = (scheme != nullptr ? set_borrowed(d, wsgi_url_scheme, scheme)
                          : set(d, wsgi_url_scheme, py::latin1(req.url_scheme))) &&
       set_borrowed(d, wsgi_version, version) && set_borrowed(d, wsgi_input, input) &&
       set_borrowed(d, wsgi_multithread, s.multithread ? Py_True : Py_False) &&
       set_borrowed(d, wsgi_multiprocess, s.multiprocess ? Py_True : Py_False) &&
       set_borrowed(d, wsgi_run_once, Py_False) && set_borrowed(d, wsgi_input_terminated, Py_True) &&
       set_borrowed(d, wsgi_file_wrapper, file_wrapper::type());
  if (!ok) return {};
  if (!set_borrowed(d, wsgi_errors, errors_stream::get())) return {};
  return env;
}

}  // namespace scalekit::serve::wsgi::environ
