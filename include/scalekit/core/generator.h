#pragma once
// generator<T>: a C++20 coroutine that yields values one at a time (the seed's
// Python generators; std::generator only arrives in C++23).
//
//   generator<int> count(int n) { for (int i = 1; i <= n; ++i) co_yield i; }
//   for (int v : count(3)) ...            // as a range
//   auto g = count(3); while (g.next()) use(g.value());   // step by step, as a scheduler does
//
// A generator runs only when resumed (next() or ++it), in the caller's thread.
// An exception thrown inside comes out of next(). Move-only; destroying it
// destroys the suspended coroutine. Not thread-safe: one thread drives it.

#include <coroutine>
#include <exception>
#include <iterator>
#include <optional>
#include <utility>

namespace scalekit::core {

template <typename T>
class generator {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr error;
    generator get_return_object() { return generator(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(T v) {
      value.emplace(std::move(v));
      return {};
    }
    void return_void() noexcept {}
    void unhandled_exception() { error = std::current_exception(); }
  };

  generator(generator&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  generator& operator=(generator&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  generator(const generator&) = delete;
  ~generator() {
    if (h_) h_.destroy();
  }

  /// Run to the next co_yield. False when the coroutine has finished.
  /// @throws whatever the coroutine threw.
  bool next() {
    if (!h_ || h_.done()) return false;
    h_.promise().value.reset();
    h_.resume();
    if (h_.promise().error) std::rethrow_exception(std::exchange(h_.promise().error, nullptr));
    return !h_.done();
  }
  /// The value of the last co_yield. REQUIRES next() returned true.
  [[nodiscard]] const T& value() const { return *h_.promise().value; }

  struct sentinel {};
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    explicit iterator(generator* g) : g_(g) {}
    const T& operator*() const { return g_->value(); }
    iterator& operator++() {
      if (!g_->next()) g_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(sentinel) const { return g_ == nullptr; }

   private:
    generator* g_;
  };
  iterator begin() {
    iterator it(this);
    return next() ? it : iterator(nullptr);
  }
  sentinel end() { return {}; }

 private:
  explicit generator(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

}  // namespace scalekit::core
