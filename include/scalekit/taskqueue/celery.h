#pragma once
// Celery 5.2's formats on Redis (docs/spec/celery-redis-protocol.md), and the
// Celery tasks scalekit implements in C++: an umbrella over one header per
// concept, all in namespace scalekit::taskqueue::celery.
//
//   ids.h            UUIDs, Python's clocks, the host name
//   base64.h         RFC 4648 base64
//   json_text.h      JSON as text: values split without losing big integers
//   arguments.h      Python's binding of args and kwargs to a task's parameters
//   keys.h           Redis key and channel names (queues, priorities, unacked, results, ...)
//   envelope.h       task messages: build, parse, mark redelivered, unacked entries
//   result_meta.h    result metas: build, parse
//   packing.h        bytes packed into a JSON string (scalekit.run's results)
//   registry.h       Celery tasks implemented in C++, their outcomes
//   builtin_tasks.h  scalekit.run, bench_tasks.add, scalekit.sleep
//
// No I/O in any of them: the worker and the client (worker.h, client.h) move
// these strings through Redis. Include the one you need; this header is for
// code that uses most of them.

#include "scalekit/taskqueue/arguments.h"
#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/builtin_tasks.h"
#include "scalekit/taskqueue/envelope.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/json_text.h"
#include "scalekit/taskqueue/keys.h"
#include "scalekit/taskqueue/packing.h"
#include "scalekit/taskqueue/registry.h"
#include "scalekit/taskqueue/result_meta.h"
