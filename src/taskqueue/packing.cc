#include "scalekit/taskqueue/packing.h"

#include <zlib.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "scalekit/taskqueue/base64.h"

namespace scalekit::taskqueue::celery {

std::string pack_bytes(std::string_view data) {
  std::string framed;
  if (data.size() >= 1024) {
    uLongf bound = compressBound(static_cast<uLong>(data.size()));
    std::string z(9 + bound, '\0');
    z[0] = 'z';
    const std::uint64_t n = data.size();
    for (int b = 0; b < 8; ++b) z[1 + b] = static_cast<char>(n >> (8 * b));  // little-endian, as the spec says
    if (compress2(reinterpret_cast<Bytef*>(z.data() + 9), &bound, reinterpret_cast<const Bytef*>(data.data()),
                  static_cast<uLong>(data.size()), 1) == Z_OK &&
        bound + 9 < data.size()) {
      z.resize(9 + bound);
      framed = std::move(z);
    }
  }
  if (framed.empty()) {
    framed.reserve(data.size() + 1);
    framed.push_back('r');
    framed.append(data);
  }
  return "\"" + base64_encode(framed) + "\"";  // base64 needs no JSON escaping
}

result<std::string> unpack_bytes(std::string_view json_string) {
  std::string text;
  if (json_string.size() >= 2 && json_string.front() == '"' && json_string.back() == '"' &&
      json_string.find('\\') == std::string_view::npos) {
    text = json_string.substr(1, json_string.size() - 2);
  } else {
    try {
      text = nlohmann::json::parse(json_string).get<std::string>();
    } catch (const nlohmann::json::exception& e) {
      return status::corruption(std::string("not a JSON string: ") + e.what());
    }
  }
  auto framed = base64_decode(text);
  if (!framed.ok()) return framed.error();
  const std::string& f = framed.value();
  if (!f.empty() && f[0] == 'r') return f.substr(1);
  if (f.size() < 9 || f[0] != 'z') return status::corruption("packed bytes of an unknown kind");
  std::uint64_t n = 0;
  for (int b = 7; b >= 0; --b) n = (n << 8) | static_cast<unsigned char>(f[1 + b]);
  if (n > (std::uint64_t{1} << 32)) return status::too_large("packed bytes claim " + std::to_string(n) + " bytes");
  std::string out(n, '\0');
  uLongf len = static_cast<uLongf>(n);
  if (uncompress(reinterpret_cast<Bytef*>(out.data()), &len, reinterpret_cast<const Bytef*>(f.data() + 9),
                 static_cast<uLong>(f.size() - 9)) != Z_OK ||
      len != n)
    return status::corruption("packed bytes do not inflate");
  return out;
}

}  // namespace scalekit::taskqueue::celery
