#pragma once
// status and result<T>: value-type outcomes for calls that fail often and cheaply
// (I/O, parsing, replies). Shaped after leveldb's Status: null when OK, named
// factories, predicates, to_string(). Thread-compatible (no internal locking).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace scalekit {

/// What went wrong, coarse enough to act on.
enum class status_code {
  ok,
  invalid_argument,
  io_error,
  not_found,
  corruption,
  too_large,
  cancelled,
  timeout,
  task_failed,
  internal
};

class status {
 public:
  status() noexcept = default;  ///< OK
  static status invalid_argument(std::string msg) { return {status_code::invalid_argument, std::move(msg)}; }
  static status io_error(std::string msg) { return {status_code::io_error, std::move(msg)}; }
  static status not_found(std::string msg) { return {status_code::not_found, std::move(msg)}; }
  static status corruption(std::string msg) { return {status_code::corruption, std::move(msg)}; }
  static status too_large(std::string msg) { return {status_code::too_large, std::move(msg)}; }
  static status cancelled(std::string msg) { return {status_code::cancelled, std::move(msg)}; }
  static status timeout(std::string msg) { return {status_code::timeout, std::move(msg)}; }
  static status task_failed(std::string msg) { return {status_code::task_failed, std::move(msg)}; }
  static status internal(std::string msg) { return {status_code::internal, std::move(msg)}; }

  [[nodiscard]] bool ok() const noexcept { return !state_; }
  [[nodiscard]] status_code code() const noexcept { return state_ ? state_->code : status_code::ok; }
  /// The message alone ("" when OK).
  [[nodiscard]] const std::string& message() const noexcept {
    static const std::string empty;
    return state_ ? state_->message : empty;
  }
  /// "OK" or "<code name>: <message>".
  [[nodiscard]] std::string to_string() const;

 private:
  struct state {
    status_code code;
    std::string message;
  };
  status(status_code c, std::string m) : state_(std::make_shared<const state>(state{c, std::move(m)})) {}
  std::shared_ptr<const state> state_;  // null when OK: an OK status costs one pointer
};

/// A value or the status that explains its absence. REQUIRES for value(): ok().
template <typename T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  result(status s) : v_(std::move(s)) {}     // NOLINT: REQUIRES !s.ok()
  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  [[nodiscard]] T& value() & { return std::get<0>(v_); }
  [[nodiscard]] const T& value() const& { return std::get<0>(v_); }
  [[nodiscard]] T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  /// OK when a value is held.
  [[nodiscard]] status error() const { return ok() ? status{} : std::get<1>(v_); }

 private:
  std::variant<T, status> v_;
};

}  // namespace scalekit
