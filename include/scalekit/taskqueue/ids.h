#pragma once
// Identifiers and clocks as Celery writes them: version-4 UUIDs (task ids,
// delivery tags, lock tokens), Python's time.time() and naive-UTC isoformat()
// (result metas' date_done), and this machine's host name (message origins,
// worker names). No I/O beyond reading the clock and the host name.
//
// Thread safety: every function here may be called from any thread.

#include <string>

namespace scalekit::taskqueue::celery {

/// A random (version 4, RFC 4122 variant) UUID, lower case with hyphens:
/// "4c129d8f-b3df-4941-8186-717672cea253". Each thread has its own generator,
/// seeded from std::random_device, the pid and the clock, so forked worker
/// processes do not repeat each other's ids.
std::string new_uuid();

/// The current time as Python's naive UTC datetime.isoformat(), always with
/// microseconds: "2026-11-22T09:22:16.623328".
std::string utc_isoformat_now();

/// Unix time `t` as Python's isoformat() of an aware UTC datetime, as Celery
/// writes eta and expires: "2026-11-22T09:22:16.623328+00:00".
std::string utc_isoformat(double t);

/// Seconds since the Unix epoch, as Python's time.time().
double unix_now();

/// This machine's host name ("localhost" when it has none).
std::string host_name();

}  // namespace scalekit::taskqueue::celery
