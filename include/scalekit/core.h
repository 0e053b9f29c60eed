#pragma once
// Umbrella header for scalekit::core, the concurrency runtime the jobs are made of.
#include "scalekit/core/bounded_queue.h"  // bounded_queue<T>, queue_op
#include "scalekit/core/executor.h"       // executor, make_executor, executor_kind
#include "scalekit/core/limiter.h"        // count_limiter, lock_limiter, semaphore_limiter
#include "scalekit/core/process_pool.h"   // process_pool, run_worker_if_requested
#include "scalekit/core/rate_limiter.h"   // rate_limiter
#include "scalekit/core/stats.h"          // latency_histogram, executor_stats
#include "scalekit/core/status.h"         // status, result<T>
#include "scalekit/core/task.h"           // task_registry, task_call
#include "scalekit/core/thread_pool.h"    // thread_pool
#include "scalekit/core/wire.h"           // wire_writer, wire_reader
