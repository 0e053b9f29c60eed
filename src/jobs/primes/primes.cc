#include "scalekit/jobs/primes/primes.h"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

#include "batch.h"
#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"

namespace scalekit::jobs::primes {

result<std::uint64_t> parse_number(std::string_view token) {
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r'))
    token.remove_suffix(1);
  if (token.empty()) return status::invalid_argument("empty, not a number");
  std::string_view digits = token;
  if (digits.front() == '+') digits.remove_prefix(1);
  if (token.front() == '-') {
    std::string_view rest = token.substr(1);
    const bool numeric = !rest.empty() && rest.find_first_not_of("0123456789") == std::string_view::npos;
    return status::invalid_argument(numeric ? "negative numbers are not allowed" : "not a number");
  }
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return status::invalid_argument("not a number");
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc::result_out_of_range)
    return status::invalid_argument("larger than 18446744073709551615 (2^64-1)");
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return status::invalid_argument("not a number");
  return v;
}

std::vector<std::uint64_t> seed_list() {
  static constexpr std::uint64_t ten[] = {1297337,   1116281,   104395303,       472882027,       533000389,
                                          817504243, 982451653, 112272535095293, 115280095190773, 1099726899285419};
  std::vector<std::uint64_t> out;
  out.reserve(1000);
  for (int i = 0; i < 100; ++i) out.insert(out.end(), std::begin(ten), std::end(ten));
  return out;
}

std::string check_line(std::uint64_t n, bool prime) {
  return fmt::format("{} is {}", n, prime ? "prime" : "not prime");
}

std::string factor_line(std::uint64_t n, const std::vector<std::uint64_t>& factors) {
  return fmt::format("The factors of {} are [{}]", n, fmt::join(factors, ", "));
}

std::string encode_batch(algorithm a, const std::uint64_t* numbers, std::size_t count) {
  core::wire_writer w;
  w.put(static_cast<std::uint8_t>(a)).put(static_cast<std::uint64_t>(count));
  for (std::size_t i = 0; i < count; ++i) w.put(numbers[i]);
  return w.take();
}

namespace {

struct batch {
  algorithm alg;
  std::vector<std::uint64_t> numbers;
};

batch decode_batch(std::string_view payload) {
  core::wire_reader in(payload);
  batch b;
  const auto a = in.get<std::uint8_t>();
  if (a > static_cast<std::uint8_t>(algorithm::trial)) throw std::invalid_argument("unknown algorithm");
  b.alg = static_cast<algorithm>(a);
  const auto count = in.get<std::uint64_t>();
  if (count > in.remaining() / sizeof(std::uint64_t)) throw core::wire_error("batch count exceeds the payload");
  b.numbers.resize(count);
  for (auto& n : b.numbers) n = in.get<std::uint64_t>();
  in.expect_end();
  return b;
}

core::bytes check_body(std::string_view payload) {
  const batch b = decode_batch(payload);
  core::bytes out(b.numbers.size(), '\0');
  for (std::size_t i = 0; i < b.numbers.size(); ++i) out[i] = is_prime(b.numbers[i], b.alg) ? 1 : 0;
  return out;
}

core::bytes factor_body(std::string_view payload) {
  const batch b = decode_batch(payload);
  core::wire_writer w;
  for (std::uint64_t n : b.numbers) {
    const auto f = factor(n, b.alg);
    w.put(static_cast<std::uint32_t>(f.size()));
    for (std::uint64_t p : f) w.put(p);
  }
  return w.take();
}

}  // namespace

std::vector<std::vector<std::uint64_t>> decode_factors(std::string_view result, std::size_t count) {
  core::wire_reader in(result);
  std::vector<std::vector<std::uint64_t>> out(count);
  for (auto& f : out) {
    const auto k = in.get<std::uint32_t>();
    if (k > 64) throw core::wire_error("more than 64 factors");
    f.resize(k);
    for (auto& p : f) p = in.get<std::uint64_t>();
  }
  in.expect_end();
  return out;
}

result<std::vector<std::uint64_t>> factor_on(core::executor& ex, std::uint64_t n, algorithm a) {
  std::vector<core::task_call> call;
  call.push_back(core::task_call{factor_task, encode_batch(a, &n, 1)});
  auto r = std::move(ex.run_calls(std::move(call)).at(0));
  if (!r.ok()) return r.error();
  try {
    return std::move(decode_factors(r.value(), 1).at(0));
  } catch (const std::exception& e) {
    return status::corruption(std::string(factor_task) + ": " + e.what());
  }
}

void register_tasks() {
  auto& r = core::task_registry::global();
  r.add(check_task, check_body);
  r.add(factor_task, factor_body);
}

}  // namespace scalekit::jobs::primes
