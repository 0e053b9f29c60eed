#pragma once
// The Redis keys and channels of Celery on Redis, and those scalekit adds: the
// table of section 2 of the protocol spec, as code. Every name either side
// uses comes from here.
//
//   celery, celery\x06\x163, ...     queue lists, one per priority bucket (kombu)
//   _kombu.binding.<queue>           kombu's routing table
//   unacked, unacked_index,          reservations, their ages, and the lock
//   unacked_mutex                    held while stale ones are restored (kombu)
//   celery-task-meta-<id>            a result: key and pub/sub channel (Celery)
//   /<db>.celeryev/<type>            Celery's events (worker.heartbeat, task.received, ...)
//   celery-taskset-meta-<gid>.j/.t/.s  a chord's parts, extra count and size (Redis backend)
//   /<db>.celery.pidbox              remote control requests (kombu fanout)
//   _kombu.binding.reply.celery.pidbox  where a remote control's reply goes
//   scalekit-deliveries-<id>         deliveries of a task not yet finished
//   scalekit-dead-letters-<queue>    refused and poison messages
//   scalekit-worker-<name>-<pid>     a live worker's status, for `worker --status`
//
// Thread safety: pure functions and constants; use them from any thread.

#include <string>
#include <string_view>
#include <vector>

namespace scalekit::taskqueue::celery {

/// kombu's separator in priority queue names and binding members.
inline constexpr std::string_view sep = "\x06\x16";

/// The Redis list that holds `queue`'s messages of `priority` (0..9; bucket 0,
/// 3, 6 or 9; out-of-range priorities clamp): "celery", "celery\x06\x163", ...
std::string queue_key(std::string_view queue, int priority = 0);
/// Every list of `queue`, in the order workers pop them (0, 3, 6, 9).
std::vector<std::string> queue_keys(std::string_view queue);
/// The queue a list key belongs to ("celery\x06\x169" -> "celery").
std::string queue_of_key(std::string_view key);

/// kombu's routing table of `queue`, a set: "_kombu.binding.<queue>".
std::string binding_key(std::string_view queue);
/// kombu's routing table entry for `queue` (the member of binding_key(queue)):
/// <queue> SEP SEP <queue>.
std::string binding_member(std::string_view queue);

/// kombu's reservations: a hash of delivery tag -> [envelope, exchange, routing_key].
inline constexpr const char* unacked_key = "unacked";
/// kombu's reservation times: a sorted set of delivery tag -> unix time.
inline constexpr const char* unacked_index_key = "unacked_index";
/// kombu's lock around the restore of stale reservations.
inline constexpr const char* unacked_mutex_key = "unacked_mutex";

/// What every result key and result channel starts with.
inline constexpr std::string_view meta_key_prefix = "celery-task-meta-";
/// The result of task `task_id`: the key the meta is stored under, and the
/// channel it is published on (pub/sub ignores the database number).
std::string meta_key(std::string_view task_id);

/// The channel of Celery's worker-heartbeat events in database `db`: "/0.celeryev/worker.heartbeat".
std::string heartbeat_channel(int db);
/// The channel of an event of `type` ("task-received": "/0.celeryev/task.received").
std::string event_channel(int db, std::string_view type);

/// A chord's keys in Celery's Redis backend, for group `group_id`: `part` "j"
/// (a sorted set of the parts' results), "t" (a count added to the size) or
/// "s" (the size): "celery-taskset-meta-<gid>.j".
std::string chord_key(std::string_view group_id, std::string_view part);

/// The fanout channel of remote control requests (kombu's "celery.pidbox"
/// exchange): "/0.celery.pidbox".
std::string pidbox_channel(int db);
/// kombu's routing table of the reply exchange: its members name the reply
/// queue of each routing key (`<key> SEP SEP <queue>`).
inline constexpr const char* reply_binding_key = "_kombu.binding.reply.celery.pidbox";

/// scalekit's count of the unfinished deliveries of task `task_id`.
std::string deliveries_key(std::string_view task_id);
/// scalekit's dead-letter list of `queue`.
std::string dead_letter_key(std::string_view queue);
/// What every worker status key starts with (SCAN MATCH <prefix>*).
inline constexpr const char* worker_key_prefix = "scalekit-worker-";
/// The status key of worker `name` in process `pid`.
std::string worker_key(std::string_view name, long pid);

}  // namespace scalekit::taskqueue::celery
