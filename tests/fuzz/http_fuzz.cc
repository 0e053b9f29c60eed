// libFuzzer target: any bytes as a stream of HTTP requests on one connection,
// through the whole request parser (head, bodies, chunks, trailers, pipelined
// requests). Parsing must never crash or read out of bounds; the bytes fed
// whole, in pieces of a few bytes and byte by byte must give the same
// requests and the same refusal (a server gets whatever pieces the network
// makes); what it accepts must be well formed and within the bounds; a reply
// formatted for it must declare its body's true length.
//
// The first byte is a knob: its low bit picks tiny bounds (so the bounds'
// code is reached), the rest the size of the pieces.

#include <cstdlib>
#include <string>
#include <vector>

#include "scalekit/net/http.h"

namespace net = scalekit::net;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && std::string_view("\"(),/:;<=>?@[\\]{}").find(c) == std::string_view::npos;
}

// What the request says must be what the parser promises.
void check_request(const net::http_request& r, const net::http_limits& lim) {
  check(!r.method.empty());
  for (char c : r.method) check(token_char(c));
  check(!r.target.empty() && (r.target[0] == '/' || (r.target == "*" && r.method == "OPTIONS")));
  for (char c : r.target) check(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f);
  check(r.minor_version == 0 || r.minor_version == 1);
  check(r.body.size() <= lim.max_body);
  check(!(r.chunked && r.content_length));
  if (r.content_length) check(r.body.size() == *r.content_length);
  if (!r.chunked && !r.content_length) check(r.body.empty());
  check(!r.chunked || r.minor_version == 1);
  check(r.headers.size() <= lim.max_headers);
  int hosts = 0;
  for (const auto& h : r.headers) {
    check(!h.name.empty());
    for (char c : h.name) check(token_char(c) && !(c >= 'A' && c <= 'Z'));
    for (char c : h.value) {
      const auto u = static_cast<unsigned char>(c);
      check(u == '\t' || (u >= 0x20 && u != 0x7f));
    }
    check(h.value.empty() ||
          (h.value.front() != ' ' && h.value.front() != '\t' && h.value.back() != ' ' && h.value.back() != '\t'));
    if (h.name == "host") ++hosts;
  }
  check(hosts <= 1 && (r.minor_version == 0 || hosts == 1));
  const std::string body(r.target.size() % 97, 'x');
  const std::string reply = net::format_response({200, "text/plain", body, {}, {}, {}}, r.keep_alive, false);
  check(reply.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  check(reply.size() >= body.size() && reply.compare(reply.size() - body.size(), body.size(), body) == 0);
}

// Feed `in` in pieces ending at `cuts`, as a server would: the requests (in
// a comparable form) and the refusal, if any.
std::string transcript(std::string_view in, const std::vector<std::size_t>& cuts, const net::http_limits& lim) {
  net::http_request_parser p(lim);
  std::string out, pending;
  std::size_t from = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(in.size());
  for (std::size_t end : ends) {
    pending.append(in.substr(from, end - from));
    from = end;
    for (;;) {
      const std::size_t n = p.feed(pending);
      check(n <= pending.size());
      pending.erase(0, n);
      check(p.buffered() <= 2 * (lim.max_body + lim.max_request_line + lim.max_header_bytes) + 4096);
      if (p.phase() == net::http_parse_phase::failed) {
        const int s = p.error().status;
        check(s == 400 || s == 413 || s == 414 || s == 417 || s == 431 || s == 505);
        return out + "error " + std::to_string(s) + " " + p.error().message;
      }
      if (p.phase() == net::http_parse_phase::complete) {
        const net::http_request r = p.take();
        check_request(r, lim);
        out += r.method + ' ' + r.target + ' ' + std::to_string(r.minor_version) + (r.keep_alive ? 'k' : 'c') +
               (r.expect_continue ? 'e' : '-') + std::to_string(r.headers.size()) + ':' + r.body + '\n';
        continue;
      }
      if (n == 0 || pending.empty()) break;
    }
  }
  return out + "incomplete " + std::to_string(pending.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned knob = data[0];
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  net::http_limits lim;
  if (knob & 1) {
    lim.max_request_line = 40;
    lim.max_header_bytes = 80;
    lim.max_headers = 3;
    lim.max_body = 24;
  }
  const std::string whole = transcript(in, {}, lim);
  std::vector<std::size_t> cuts;
  const std::size_t step = (knob >> 1) % 13 + 1;
  for (std::size_t at = step; at < in.size(); at += step) cuts.push_back(at);
  check(transcript(in, cuts, lim) == whole);
  if (in.size() <= 4096) {
    cuts.clear();
    for (std::size_t at = 1; at < in.size(); ++at) cuts.push_back(at);
    check(transcript(in, cuts, lim) == whole);
  }
  return 0;
}
