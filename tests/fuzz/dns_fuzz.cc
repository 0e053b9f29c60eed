// libFuzzer target: any bytes as a DNS query, over UDP and over TCP. The
// server must never crash, read out of bounds, reply to what it must drop, or
// build a reply over the transport's limit.

#include <cstdlib>

#include "scalekit/net/dns.h"

namespace dns = scalekit::net::dns;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const dns::zone zone = [] {
    auto z = dns::zone::seed_default();
    for (int i = 0; i < 90; ++i) z.add("many.test", {10, 0, 0, static_cast<std::uint8_t>(i)});  // truncation paths
    return z;
  }();
  static std::vector<std::uint8_t> out;
  const std::span<const std::uint8_t> query(data, size);
  for (auto via : {dns::transport::udp, dns::transport::tcp}) {
    const auto o = dns::answer(query, zone, via, out);
    if (size < 12 && o.replied) std::abort();
    if (o.replied && out.size() < 12) std::abort();
    if (out.size() > (via == dns::transport::udp ? dns::edns_udp_size : dns::max_message)) std::abort();
    if (o.replied && (out[0] != data[0] || out[1] != data[1])) std::abort();  // the ID is always echoed
  }
  return 0;
}
