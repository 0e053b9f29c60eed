#pragma once
// The requests a service sweep sends (open_loop.h's request_fn), one per
// service, each a client of the service's own protocol written on the core
// event loop: a fresh connection (or UDP socket) per request, as the seed's
// clients do, so the server's accept path is part of what is measured.

#include <cstdint>
#include <string>

#include "open_loop.h"

namespace scalekit::scale {

/// sort-service: an 8-byte big-endian length and a JSON array of `numbers`
/// integers (fixed, pseudo-random); good when the reply is a JSON array.
open_loop::request_fn sort_service_request(int port, std::uint64_t numbers);

/// A JSON array of `numbers` pseudo-random integers (the same every time).
std::string random_json_array(std::uint64_t numbers);

/// dns serve: an A query over UDP for one of `names` names in turn
/// (facebook.com, yougov.com, wipo.int, then made-up ones the server answers
/// with its default address); good when a reply with the query's id comes.
open_loop::request_fn dns_request(int port, std::uint64_t names);

/// serve: GET /mandelbrot.png?w=SIZE&h=SIZE&n=256 with Connection: close;
/// good on a 200.
open_loop::request_fn serve_request(int port, std::uint64_t size);

}  // namespace scalekit::scale
