#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "scalekit/core/input_file.h"
#include "scalekit/core/line_reader.h"
#include "scalekit/net/dns.h"

namespace scalekit::net::dns {

namespace {

constexpr std::uint16_t type_a = 1, type_opt = 41, type_ixfr = 251, type_axfr = 252, type_any = 255;
constexpr std::uint16_t class_in = 1, class_any = 255;
constexpr std::uint32_t answer_ttl = 60;
constexpr std::size_t header_size = 12, answer_size = 16, opt_size = 11, max_name = 255;
constexpr int max_pointer_hops = 32;

std::uint16_t get16(std::span<const std::uint8_t> m, std::size_t at) {
  return static_cast<std::uint16_t>(m[at] << 8 | m[at + 1]);
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// A name read from a message: its uncompressed wire form (case kept) and the
// lookup key (lower case, dotted, no final dot).
struct parsed_name {
  std::uint8_t wire[max_name];
  std::size_t wire_len = 0;
  char key[max_name];
  std::size_t key_len = 0;
  bool plain = true;  // no label holds a '.' (such a name can never be in the zone)
};

// Read the name at `pos`, following compression pointers (bounded hops, so a
// loop is an error, not a hang). On success `pos` is just past the name as it
// sits in the message. `out` may be null when only skipping.
bool read_name(std::span<const std::uint8_t> m, std::size_t& pos, parsed_name* out) {
  std::size_t p = pos, total = 0;
  bool jumped = false;
  int hops = 0;
  for (;;) {
    if (p >= m.size()) return false;
    const std::uint8_t len = m[p];
    if ((len & 0xC0) == 0xC0) {
      if (p + 1 >= m.size() || ++hops > max_pointer_hops) return false;
      if (!jumped) pos = p + 2;
      jumped = true;
      p = static_cast<std::size_t>((len & 0x3F) << 8 | m[p + 1]);
      continue;
    }
    if ((len & 0xC0) != 0) return false;  // 0x40 and 0x80 label types are obsolete or reserved
    total += 1u + len;
    if (total > max_name) return false;
    if (len == 0) {
      if (!jumped) pos = p + 1;
      if (out) out->wire[out->wire_len++] = 0;
      return true;
    }
    if (p + 1 + len > m.size()) return false;
    if (out) {
      out->wire[out->wire_len++] = len;
      std::memcpy(out->wire + out->wire_len, &m[p + 1], len);
      out->wire_len += len;
      if (out->key_len > 0) out->key[out->key_len++] = '.';
      for (std::size_t i = 0; i < len; ++i) {
        const char c = static_cast<char>(m[p + 1 + i]);
        if (c == '.') out->plain = false;
        out->key[out->key_len++] = ascii_lower(c);
      }
    }
    p += 1u + len;
  }
}

// A resource record's fixed part, after its name.
struct rr_header {
  std::uint16_t type, klass;
  std::uint32_t ttl;
  std::size_t rdata, rdlength;
};

bool read_rr(std::span<const std::uint8_t> m, std::size_t& pos, rr_header& rr) {
  if (!read_name(m, pos, nullptr) || pos + 10 > m.size()) return false;
  rr.type = get16(m, pos);
  rr.klass = get16(m, pos + 2);
  rr.ttl = static_cast<std::uint32_t>(get16(m, pos + 4)) << 16 | get16(m, pos + 6);
  rr.rdlength = get16(m, pos + 8);
  rr.rdata = pos + 10;
  pos += 10 + rr.rdlength;
  return pos <= m.size();
}

// The options of an OPT record must tile its data exactly.
bool valid_options(std::span<const std::uint8_t> m, const rr_header& rr) {
  std::size_t p = rr.rdata;
  const std::size_t end = rr.rdata + rr.rdlength;
  while (p < end) {
    if (p + 4 > end) return false;
    p += 4 + get16(m, p + 2);  // code, length, data: unknown codes are skipped
  }
  return p == end;
}

struct reply_header {
  std::uint16_t id;
  std::uint8_t query_flags_hi, query_flags_lo;
};

void write_header(std::vector<std::uint8_t>& out, const reply_header& q, rcode rc, bool tc, std::uint16_t qd,
                  std::uint16_t an, std::uint16_t ar) {
  const auto low = static_cast<std::uint16_t>(rc) & 0xF;
  put16(out, q.id);
  // QR, opcode copied, AA, TC, RD copied.
  out.push_back(
      static_cast<std::uint8_t>(0x80 | (q.query_flags_hi & 0x78) | 0x04 | (tc ? 0x02 : 0) | (q.query_flags_hi & 0x01)));
  // RA clear, Z clear, AD clear, CD copied, RCODE's low four bits.
  out.push_back(static_cast<std::uint8_t>((q.query_flags_lo & 0x10) | low));
  put16(out, qd);
  put16(out, an);
  put16(out, 0);
  put16(out, ar);
}

void write_opt(std::vector<std::uint8_t>& out, rcode rc, bool dnssec_ok) {
  out.push_back(0);  // root name
  put16(out, type_opt);
  put16(out, static_cast<std::uint16_t>(edns_udp_size));
  out.push_back(static_cast<std::uint8_t>(static_cast<std::uint16_t>(rc) >> 4));  // extended RCODE
  out.push_back(0);                                                               // version 0
  put16(out, dnssec_ok ? 0x8000 : 0);
  put16(out, 0);  // no options
}

}  // namespace

zone zone::seed_default() {
  zone z;
  z.add("facebook.com", {173, 252, 120, 6});
  z.add("yougov.com", {213, 52, 133, 246});
  z.add("wipo.int", {193, 5, 93, 80});
  return z;
}

void zone::add(std::string_view name, ipv4 address) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253)
    throw std::invalid_argument("'" + core::printable(name) + "': not a host name");
  std::string key;
  key.reserve(name.size());
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) throw std::invalid_argument("'" + core::printable(name) + "': empty label");
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '*') {
      if (++label > 63) throw std::invalid_argument("'" + core::printable(name) + "': label longer than 63 bytes");
    } else {
      throw std::invalid_argument("'" + core::printable(name) + "': bad character '" +
                                  core::printable(std::string_view(&c, 1)) + "'");
    }
    key.push_back(ascii_lower(c));
  }
  if (label == 0) throw std::invalid_argument("'" + core::printable(name) + "': empty label");
  auto& list = names_[key];
  if (std::find(list.begin(), list.end(), address) == list.end()) list.push_back(address);
}

const std::vector<ipv4>* zone::find(std::string_view lower_name) const {
  auto it = names_.find(lower_name);
  if (it != names_.end()) return &it->second;
  return default_.empty() ? nullptr : &default_;
}

result<zone> zone::load(const std::string& path, const std::function<void(const std::string&)>& on_error) {
  auto file = core::open_input(path);  // a FIFO, a device or a directory is refused before reading
  if (!file.ok()) return status::io_error("zone file: " + file.error().message());
  core::line_reader in(file->fd(), path, max_zone_line);  // an endless line cannot fill memory
  zone z;
  std::string line;
  for (;;) {
    auto more = in.next(line);
    if (!more.ok()) {  // a line over max_zone_line (not a zone file?) is too_large
      if (more.error().code() == status_code::too_large) return more.error();
      return status::io_error("zone file: " + more.error().message());
    }
    if (!*more) break;
    const std::uint64_t number = in.line_number();
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      std::size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      if (j > i) words.push_back(line.substr(i, j - i));
      i = j;
    }
    if (words.empty()) continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    if (words.size() < 2) {
      on_error(where + "expected 'name IP [IP...]', got '" + core::printable(words[0]) + "'");
      continue;
    }
    std::vector<ipv4> addresses;
    bool good = true;
    for (std::size_t w = 1; w < words.size() && good; ++w) {
      in_addr a{};
      if (::inet_pton(AF_INET, words[w].c_str(), &a) != 1) {
        on_error(where + "'" + core::printable(words[w]) + "' is not an IPv4 address");
        good = false;
        break;
      }
      ipv4 ip;
      std::memcpy(ip.data(), &a.s_addr, 4);  // network order: the bytes as written
      addresses.push_back(ip);
    }
    if (!good) continue;
    try {
      for (const auto& ip : addresses) z.add(words[0], ip);
    } catch (const std::invalid_argument& e) {
      on_error(where + e.what());
    }
  }
  return z;
}

outcome answer(std::span<const std::uint8_t> m, const zone& z, transport via, std::vector<std::uint8_t>& out) {
  out.clear();
  outcome o;
  if (m.size() < header_size) return o;  // not even an ID to answer to
  const reply_header q{get16(m, 0), m[2], m[3]};
  if (q.query_flags_hi & 0x80) return o;  // a response: answering it could start a loop
  o.replied = true;

  auto fail = [&](rcode rc, const parsed_name* question, std::uint16_t qtype, std::uint16_t qclass) {
    o.code = rc;
    write_header(out, q, rc, false, question ? 1 : 0, 0, 0);
    if (question) {
      out.insert(out.end(), question->wire, question->wire + question->wire_len);
      put16(out, qtype);
      put16(out, qclass);
    }
    return o;
  };

  const unsigned opcode = (q.query_flags_hi >> 3) & 0xF;
  if (opcode != 0) return fail(rcode::notimp, nullptr, 0, 0);
  if (get16(m, 4) != 1) return fail(rcode::formerr, nullptr, 0, 0);
  const std::uint16_t ancount = get16(m, 6), nscount = get16(m, 8), arcount = get16(m, 10);

  parsed_name name;
  std::size_t pos = header_size;
  if (!read_name(m, pos, &name) || pos + 4 > m.size()) return fail(rcode::formerr, nullptr, 0, 0);
  const std::uint16_t qtype = get16(m, pos), qclass = get16(m, pos + 2);
  pos += 4;
  o.qtype = qtype;
  // The dotted name as the client wrote it, for logs.
  o.name.assign(name.key_len == 0 ? "." : "");
  for (std::size_t i = 0; i + 1 < name.wire_len;) {
    const std::size_t len = name.wire[i];
    o.name.append(reinterpret_cast<const char*>(name.wire + i + 1), len).push_back('.');
    i += 1 + len;
  }

  rr_header rr{};
  for (unsigned i = 0; i < unsigned{ancount} + nscount; ++i)
    if (!read_rr(m, pos, rr)) return fail(rcode::formerr, &name, qtype, qclass);
  bool edns = false, dnssec_ok = false;
  unsigned edns_version = 0;
  std::size_t client_size = 512;
  for (unsigned i = 0; i < arcount; ++i) {
    const std::size_t start = pos;
    if (!read_rr(m, pos, rr)) return fail(rcode::formerr, &name, qtype, qclass);
    if (rr.type != type_opt) continue;  // TSIG and friends: not ours to check
    if (edns || m[start] != 0 || !valid_options(m, rr)) return fail(rcode::formerr, &name, qtype, qclass);
    edns = true;
    client_size = std::max<std::size_t>(512, rr.klass);
    edns_version = (rr.ttl >> 16) & 0xFF;
    dnssec_ok = (rr.ttl & 0x8000) != 0;
  }
  o.edns = edns;
  const std::uint16_t ar = edns ? 1 : 0;

  auto finish = [&](rcode rc, const std::vector<ipv4>* addresses) {
    o.code = rc;
    std::size_t n = addresses ? addresses->size() : 0;
    const std::size_t limit = via == transport::tcp ? max_message : edns ? std::min(client_size, edns_udp_size) : 512;
    const std::size_t fixed = header_size + name.wire_len + 4 + (edns ? opt_size : 0);
    if (fixed + n * answer_size > limit) {
      o.truncated = true;
      n = 0;
    }
    o.answers = static_cast<std::uint16_t>(n);
    out.reserve(fixed + n * answer_size);
    write_header(out, q, rc, o.truncated, 1, o.answers, ar);
    out.insert(out.end(), name.wire, name.wire + name.wire_len);
    put16(out, qtype);
    put16(out, qclass);
    for (std::size_t i = 0; i < n; ++i) {
      put16(out, 0xC000 | header_size);  // the question's name
      put16(out, type_a);
      put16(out, class_in);
      put32(out, answer_ttl);
      put16(out, 4);
      const ipv4& ip = (*addresses)[i];
      out.insert(out.end(), ip.begin(), ip.end());
    }
    if (edns) write_opt(out, rc, dnssec_ok);
    return o;
  };

  if (edns && edns_version != 0) return finish(rcode::badvers, nullptr);
  if (qclass != class_in && qclass != class_any) return finish(rcode::refused, nullptr);
  if (qtype == type_axfr || qtype == type_ixfr) return finish(rcode::refused, nullptr);
  // A label holding a '.' cannot be in the zone: look up "", which no zone
  // holds, so the name gets what unknown names get.
  const std::vector<ipv4>* found = z.find(name.plain ? std::string_view(name.key, name.key_len) : std::string_view());
  if (found == nullptr) return finish(rcode::nxdomain, nullptr);
  return finish(rcode::noerror, qtype == type_a || qtype == type_any ? found : nullptr);
}

std::vector<std::uint8_t> make_query(std::uint16_t id, std::string_view name, std::uint16_t qtype, bool edns) {
  std::vector<std::uint8_t> q;
  put16(q, id);
  q.push_back(0x01);  // RD
  q.push_back(0x00);
  put16(q, 1);
  put16(q, 0);
  put16(q, 0);
  put16(q, edns ? 1 : 0);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  while (!name.empty()) {
    const auto dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    q.push_back(static_cast<std::uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
    name.remove_prefix(dot == std::string_view::npos ? name.size() : dot + 1);
  }
  q.push_back(0);
  put16(q, qtype);
  put16(q, class_in);
  if (edns) {
    q.push_back(0);
    put16(q, type_opt);
    put16(q, 4096);
    put32(q, 0);
    put16(q, 0);
  }
  return q;
}

}  // namespace scalekit::net::dns
