#pragma once
// /fleet/events: the dashboard's live feed, a Server-Sent Events stream that a
// worker's loop writes: at once the history and a snapshot, then a snapshot
// and the newest sample every `period`, until the client leaves or the worker
// stops (a stopping worker ends the stream; the browser reconnects, to
// another worker, within the retry delay). With `serve --broker`, each
// snapshot also has "broker": the distributed workers (broker_watch.h).

#include <chrono>
#include <stop_token>

#include "scalekit/net/http.h"
#include "scalekit/serve/scoreboard.h"
#include "scalekit/serve/web/fleet.h"
#include "web/broker_watch.h"

namespace scalekit::serve::web {

/// The streamed response. `board`, `history` and `broker` (nullptr: no
/// broker) must outlive it (the worker's); used on the loop's thread only.
net::http_response fleet_events(const scoreboard& board, const fleet_history& history, broker_watch* broker,
                                std::stop_token stop, std::chrono::milliseconds period);

}  // namespace scalekit::serve::web
