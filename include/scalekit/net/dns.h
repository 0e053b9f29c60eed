#pragma once
// DNS messages for `scalekit dns serve`: a zone of A records and the function
// that turns one query into its reply. No sockets here: the same code answers
// UDP and TCP, and the fuzzer drives it directly.
//
// Correct DNS (RFC 1035, 6891), not the seed's byte splicing:
//   header   ID echoed; QR, AA; opcode, RD and CD copied; RA clear (we do not
//            recurse); counts that match the sections
//   question re-encoded from the parsed name, letter case kept
//   answer   a pointer to the question's name, TTL 60
//   EDNS     a query with an OPT record gets our OPT (1232-byte buffer, DO
//            copied); an unknown EDNS version gets BADVERS; unknown options
//            are ignored; two OPT records are a FORMERR
//   size     an answer larger than the client's buffer (512 without EDNS) is
//            cut to header + question (+ OPT) with TC set, so resolvers retry on TCP
//
// Malformed input never crashes and never reads out of bounds: fewer than 12
// bytes, or a packet that is itself a response, is dropped (no reply); any
// other malformation gets FORMERR.
//
// Thread safety: `zone` is immutable after load (shared by every server
// thread); answer() is reentrant.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "scalekit/core/status.h"

namespace scalekit::net::dns {

using ipv4 = std::array<std::uint8_t, 4>;

/// Response codes used here (RFC 1035 4.1.1, RFC 6891 9).
enum class rcode : std::uint16_t {
  noerror = 0,
  formerr = 1,
  servfail = 2,
  nxdomain = 3,
  notimp = 4,
  refused = 5,
  badvers = 16
};

/// The longest zone file line zone::load reads, without its newline.
inline constexpr std::size_t max_zone_line = 65536;

/// Names to IPv4 addresses. Names are stored lower-case, without the final dot.
class zone {
 public:
  /// The seed's three names; anything else 127.0.0.1.
  static zone seed_default();

  /// "name IP [IP...]" lines ('#' starts a comment; a name may repeat to add
  /// addresses). Every bad line is reported through `on_error` as
  /// "FILE:LINE: problem" and skipped. Fails when the file cannot be read or
  /// is not a regular file (io_error "zone file: cannot read 'FILE': not a
  /// regular file (a character device)": /dev/zero or a FIFO is refused
  /// before reading), and with too_large "FILE:LINE: a line longer than N
  /// bytes" for a line over max_zone_line (a file that is no zone file is not
  /// read to its end). The zone starts empty, answering unknown names with
  /// 127.0.0.1.
  static result<zone> load(const std::string& path, const std::function<void(const std::string&)>& on_error);

  /// Add `address` to `name` ("Example.COM." and "example.com" are the same).
  /// @throws std::invalid_argument for a name that is not a valid host name.
  void add(std::string_view name, ipv4 address);

  /// Unknown names: answered with `address` (the default, 127.0.0.1)...
  void set_default(ipv4 address) { default_ = {address}; }
  /// ...or with NXDOMAIN.
  void set_nxdomain() { default_.clear(); }

  /// The addresses for a lower-case name without final dot; nullptr when the
  /// name is unknown and the zone answers NXDOMAIN for it.
  [[nodiscard]] const std::vector<ipv4>* find(std::string_view lower_name) const;
  [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }

 private:
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<ipv4>, hash, std::equal_to<>> names_;
  std::vector<ipv4> default_{ipv4{127, 0, 0, 1}};
};

/// How the query arrived: the size limit of the reply depends on it.
enum class transport { udp, tcp };

/// What answer() did, for counters and query logs.
struct outcome {
  bool replied = false;  ///< false: dropped, nothing to send
  rcode code = rcode::noerror;
  std::uint16_t qtype = 0;
  std::uint16_t answers = 0;
  bool truncated = false;
  bool edns = false;
  std::string name;  ///< the question's name as sent ("FaceBook.com."); empty if unparsed
};

/// Our EDNS UDP buffer size, and the most a reply can hold.
inline constexpr std::size_t edns_udp_size = 1232;
inline constexpr std::size_t max_message = 65535;

/// Write the reply to `query` into `out` (which is cleared first).
/// `out` never grows past max_message bytes.
outcome answer(std::span<const std::uint8_t> query, const zone& z, transport via, std::vector<std::uint8_t>& out);

/// A query for `name` (dotted, final dot optional) and `qtype`, with or without
/// an OPT record: for tests, benchmarks and the fuzzer's seed corpus.
std::vector<std::uint8_t> make_query(std::uint16_t id, std::string_view name, std::uint16_t qtype, bool edns);

}  // namespace scalekit::net::dns
