#include "scalekit/taskqueue/result_meta.h"

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "json_fields.h"
#include "scalekit/taskqueue/ids.h"

namespace scalekit::taskqueue::celery {

namespace {

using detail::str_field;

// A JSON string literal (quotes included).
std::string json_quoted(std::string_view text) { return nlohmann::json(std::string(text)).dump(); }

}  // namespace

std::string make_meta(std::string_view state, std::string_view task_id, std::string_view result_json,
                      std::string_view traceback_json, const meta_links& links) {
  // By hand, with Python's json.dumps spacing: the worker writes one per task.
  std::string m;
  m.reserve(result_json.size() + traceback_json.size() + links.children_json.size() + 200);
  m.append("{\"status\": ").append(json_quoted(state));
  m.append(", \"result\": ").append(result_json);
  m.append(", \"traceback\": ").append(traceback_json);
  m.append(", \"children\": ").append(links.children_json);
  m.append(", \"date_done\": ").append(json_quoted(utc_isoformat_now()));
  if (!links.group_id.empty()) m.append(", \"group_id\": ").append(json_quoted(links.group_id));
  if (!links.parent_id.empty()) m.append(", \"parent_id\": ").append(json_quoted(links.parent_id));
  m.append(", \"task_id\": ").append(json_quoted(task_id)).append("}");
  return m;
}

std::string exception_json(std::string_view exc_type, std::string_view exc_module, std::string_view message) {
  return "{\"exc_type\": " + json_quoted(exc_type) + ", \"exc_message\": [" + json_quoted(message) +
         "], \"exc_module\": " + json_quoted(exc_module) + "}";
}

std::string success_meta(std::string_view task_id, std::string_view result_json, std::string_view group_id) {
  return make_meta("SUCCESS", task_id, result_json, "null", {group_id, {}});
}

std::string failure_meta(std::string_view task_id, std::string_view exc_type, std::string_view exc_module,
                         std::string_view message, std::string_view traceback, std::string_view group_id) {
  return make_meta("FAILURE", task_id, exception_json(exc_type, exc_module, message),
                   traceback.empty() ? "null" : json_quoted(traceback), {group_id, {}});
}

std::string revoked_meta(std::string_view task_id, std::string_view reason, std::string_view group_id) {
  return make_meta("REVOKED", task_id, exception_json("TaskRevokedError", "celery.exceptions", reason), "null",
                   {group_id, {}});
}

result<task_state> parse_meta(std::string_view meta) {
  // The client's hot path: one per task.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(meta.data(), meta.size()).get(doc); err)
    return status::corruption(std::string("a result that is not JSON: ") + simdjson::error_message(err));
  simdjson::dom::object m;
  if (doc.get_object().get(m)) return status::corruption("a result that is not a JSON object");
  task_state s;
  s.status = str_field(m, "status");
  if (s.status.empty()) return status::corruption("a result without a status");
  simdjson::dom::element r;
  if (m["result"].get(r)) return s;
  s.result_json = simdjson::minify(r);
  simdjson::dom::object exc;
  if (s.status == "FAILURE" && !r.get_object().get(exc)) {
    s.exc_type = str_field(exc, "exc_type");
    simdjson::dom::element msg;
    if (!exc["exc_message"].get(msg)) {
      simdjson::dom::array a;
      std::string_view text;
      if (!msg.get_array().get(a) && a.size() > 0) {
        if (a.at(0).get_string().get(text)) {
          s.exc_message = simdjson::minify(a.at(0).value());
        } else {
          s.exc_message = text;
        }
      } else if (!msg.get_string().get(text)) {
        s.exc_message = text;
      } else {
        s.exc_message = simdjson::minify(msg);
      }
    }
  }
  return s;
}

}  // namespace scalekit::taskqueue::celery
