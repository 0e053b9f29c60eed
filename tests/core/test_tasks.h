#pragma once
// Tasks the core tests run on every executor. Registered once by test_main.cc,
// so that process-pool workers (re-executions of the test binary) know them too.
void register_test_tasks();
