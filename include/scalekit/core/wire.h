#pragma once
// A tiny binary codec for task payloads and results: fixed-width little-endian
// integers, doubles, and length-prefixed strings. Payloads cross process (and
// later machine) boundaries, so nothing here relies on struct layout.
//
// wire_reader throws wire_error on truncated or oversized input; tasks let it
// propagate, which reports the task failed with the reason.

#include <bit>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace scalekit::core {

struct wire_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

static_assert(std::endian::native == std::endian::little, "scalekit's wire codec assumes a little-endian host");

class wire_writer {
 public:
  template <typename T>
  requires std::is_arithmetic_v<T> wire_writer& put(T v) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    out_.append(buf, sizeof(T));
    return *this;
  }
  wire_writer& put_string(std::string_view s) {
    put<std::uint64_t>(s.size());
    out_.append(s);
    return *this;
  }
  std::string& str() noexcept { return out_; }
  std::string take() noexcept { return std::move(out_); }

 private:
  std::string out_;
};

class wire_reader {
 public:
  explicit wire_reader(std::string_view in) noexcept : in_(in) {}
  template <typename T>
  requires std::is_arithmetic_v<T> T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return v;
  }
  std::string_view get_string() {
    const auto n = get<std::uint64_t>();
    need(n);
    std::string_view s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }
  [[nodiscard]] std::size_t remaining() const noexcept { return in_.size(); }
  /// REQUIRES nothing left; @throws wire_error on trailing bytes.
  void expect_end() const {
    if (!in_.empty()) throw wire_error("payload has " + std::to_string(in_.size()) + " trailing bytes");
  }

 private:
  void need(std::uint64_t n) const {
    if (n > in_.size())
      throw wire_error("truncated payload: need " + std::to_string(n) + " bytes, have " + std::to_string(in_.size()));
  }
  std::string_view in_;
};

}  // namespace scalekit::core
