#pragma once
// SHA-256 checksums in hex, of bytes in memory or of a file: how tests compare
// an image with the seed's. Binaries that include this link OpenSSL::Crypto.

#include <openssl/sha.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "run_command.h"

namespace scalekit::testing {

inline std::string sha256_hex(std::span<const std::uint8_t> data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(data.data(), data.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

inline std::string sha256_hex(std::string_view data) {
  return sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

/// The checksum of a file's bytes; "" when there is no such file.
inline std::string sha256_of(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) return "";
  return sha256_hex(slurp(path));
}

}  // namespace scalekit::testing
