#pragma once
// Celery's canvas as a worker applies it (spec section 11): signatures in, the
// task messages to publish out. What Signature.apply_async does in Python's
// worker when a task's body carries callbacks, a chain or a chord, without the
// I/O: the worker publishes the messages in the transaction that stores the
// task's result (so a result never exists without its follow-ups).
//
//   {"task": "bench_tasks.add", "args": [10], "kwargs": {}, "options": {"task_id": ...},
//    "subtask_type": null, "immutable": false}
//          │ apply_signature(sig, {"3"}, {parent_id, root_id, chain: [...]})
//          ▼
//   canvas_effects: LPUSH celery <envelope of add(3, 10) with that task_id and chain>
//
// Kinds applied: a task (subtask_type null), "chain" (its first task, the rest
// as the message's chain), "group" (every member, one group id, partial
// arguments to each) and "chord" (its header as a group whose members carry
// the body, and the chord's size set in the Redis backend first, as Celery's
// set_chord_size does). Arguments stay JSON text (json_text.h): integers of
// any size pass through exactly.
//
// Thread safety: pure functions; use them from any thread.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scalekit::taskqueue::celery {

/// A task message to publish: LPUSH `list_key` `envelope`.
struct outgoing_message {
  std::string list_key, envelope, task_id;
};

/// What applying signatures produced, in the order Celery produces it.
struct canvas_effects {
  /// Chord sizes to set before the messages go out: (key, size); Celery's
  /// backend sets them with SETEX (result_expires) and a PUBLISH on the key.
  std::vector<std::pair<std::string, std::string>> chord_sizes;
  std::vector<outgoing_message> messages;
  /// The published tasks as Celery's result tuples, for the parent's meta:
  /// [[["<id>", null], null], ...].
  [[nodiscard]] std::string children_json() const;
};

/// Signature.apply_async's keyword arguments, as JSON texts, in order.
/// Later values replace earlier ones; null values are dropped (as Celery drops
/// options set to None).
class apply_options {
 public:
  apply_options& set(std::string key, std::string json);
  /// Helpers for string options ("parent_id", "root_id", "task_id", ...): an
  /// empty `value` sets nothing.
  apply_options& set_string(std::string key, std::string_view value);
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& values() const { return values_; }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

/// Apply signature `sig` (JSON text) as Celery's Signature.apply_async(
/// args=partial_args, **options) does: `partial_args` (JSON texts) go before
/// the signature's own arguments unless it is immutable; `options` are merged
/// over its options, except a group_id it already has. Appends to `out`.
/// Options understood: task_id, group_id, group_index, chord, link,
/// link_error, chain, root_id, parent_id, reply_to, queue (a name or
/// {"name": ...}), routing_key, priority, countdown, eta, expires (seconds or
/// ISO 8601), time_limit, soft_time_limit, retries, ignore_result; others are
/// ignored. A message goes to the list of its queue (default "celery", as
/// Celery's task_default_queue) and priority.
/// @throws std::invalid_argument naming the problem when `sig` is not a
/// signature or `options` are not JSON.
void apply_signature(std::string_view sig, const std::vector<std::string>& partial_args, const apply_options& options,
                     canvas_effects& out);

/// The signatures of `json`: the elements of a list, or `json` itself when it
/// is one signature (Celery's maybe_list); none for null or "".
/// @throws std::invalid_argument when `json` is neither.
std::vector<std::string> signature_list(std::string_view json);

/// The value of option `key` of signature `sig` as JSON text, "" when absent
/// or null. @throws std::invalid_argument when `sig` is not a signature.
std::string signature_option(std::string_view sig, std::string_view key);

}  // namespace scalekit::taskqueue::celery
