#pragma once
// Internal: simdjson lookups shared by the parsers on the hot paths
// (envelope.cc, result_meta.cc).

#include <simdjson.h>

#include <string_view>

namespace scalekit::taskqueue::celery::detail {

/// The string at `key`, or empty when it is absent, null or not a string, as
/// Celery's own defaults read such fields. Valid as long as the parsed document.
inline std::string_view str_field(simdjson::dom::object o, std::string_view key) {
  std::string_view v;
  if (o.at_key(key).get_string().get(v)) return {};
  return v;
}

}  // namespace scalekit::taskqueue::celery::detail
