// Integration tests of the distributed queue with real parts: a private
// redis-server, scalekit workers, and Debian's Python Celery (client and
// worker) running the seed's mandelbrot_tasks.py.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "cli_helpers.h"
#include "redis_server.h"
#include "sanitizers.h"
#include "sha256.h"

using scalekit::testing::background_process;
using scalekit::testing::bin;
using scalekit::testing::command_result;
using scalekit::testing::redis_server;
using scalekit::testing::run_command;
using scalekit::testing::sha256_of;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;
using namespace std::chrono_literals;

namespace {

const std::string fixtures = SCALEKIT_SEEDS_DIR "/../celery";
const char* seed_64x48 = "9d5515d4cca99a230d76ba7f6b3877573e1d4a7bcd9ad0aadd7fead1f2486b43";
const char* seed_640x480 = "18dc0eb21ee0c7a0bd53e2670b7f3f613fe02964d7d53fbcc4dbfbc0ce38cd03";

// A broker, and the ways to reach it.
struct celery_env {
  redis_server redis;
  explicit celery_env(const std::string& redis_args = "") : redis(redis_args) {}
  std::string broker() const { return redis.url(); }
  // A Python command that finds the fixtures' modules and this broker.
  std::string python_cmd(const std::string& args) const {
    return "env SCALEKIT_BROKER=" + broker() + " PYTHONPATH=" + fixtures + " /usr/bin/python3 " + args;
  }
  // A fixture script in the foreground.
  command_result python(const std::string& script_and_args) const {
    return run_command(python_cmd(fixtures + "/" + script_and_args));
  }
  std::unique_ptr<background_process> python_in_background(const std::string& script_and_args) const {
    return std::make_unique<background_process>(python_cmd(fixtures + "/" + script_and_args), "py-client");
  }
  std::unique_ptr<background_process> scalekit_worker(const std::string& extra = "") const {
    auto w = std::make_unique<background_process>(bin + " worker --broker " + broker() + " --loglevel info " + extra,
                                                  "sk-worker");
    EXPECT_TRUE(w->wait_for_log("consuming")) << w->log();
    return w;
  }
  std::unique_ptr<background_process> python_worker(int concurrency = 2, const std::string& queues = "celery") const {
    auto w = std::make_unique<background_process>(
        python_cmd("-m celery -A mandelbrot_tasks worker --concurrency=" + std::to_string(concurrency) + " -Q " +
                   queues + " --loglevel=INFO --without-gossip --without-mingle"),
        "py-worker");
    EXPECT_TRUE(w->wait_for_log("ready.", 60s)) << w->log();
    return w;
  }
  std::string cli(const std::string& args) const { return redis.cli(args).out; }
  /// The 64x48 image on the distributed executor, written to `out`, running in the background.
  std::unique_ptr<background_process> distributed_mandelbrot(const std::string& out) const {
    return std::make_unique<background_process>(
        bin + " mandelbrot -W 64 -H 48 --executor distributed --broker " + broker() + " -o " + out, "dist-job");
  }
};

// What canvas_calls.py prints for each form, as a Python Celery 5.2 worker
// serves them (checked: CliDist.APythonWorkerAnswersEveryFormAlike).
const std::vector<std::pair<std::string, std::string>> argument_forms = {
    {"positional", "5"},
    {"kwargs", "9"},
    {"mixed", "9"},
    {"bigint", "9223372036854775808"},
    {"huge", "633825300114114700748351602688"},
    {"floats", "0.30000000000000004"},
    {"strings", "\"scalekit\""},
    {"unknown_kwarg", "raised builtins.TypeError: add() got an unexpected keyword argument 'z'"},
    {"missing_arg", "raised builtins.TypeError: add() missing 1 required positional argument: 'y'"},
    {"too_many", "raised builtins.TypeError: add() takes 2 positional arguments but 3 were given"},
    {"twice", "raised builtins.TypeError: add() got multiple values for argument 'x'"},
    {"bad_operands", "raised builtins.TypeError: unsupported operand type(s) for +: 'int' and 'str'"},
    {"group", "[0, 2, 4, 6]"},
    {"countdown", "5"},
};

// The canvas (spec section 11): callbacks, chains passing their results on,
// chords counted in the Redis backend's keys, and their failures, as a Python
// Celery 5.2 worker gives them.
const std::vector<std::pair<std::string, std::string>> canvas_forms = {
    {"chain", "13"},
    {"chain3", "113"},
    {"chain_kwargs", "13"},
    {"chain_immutable", "10"},
    {"chain_fails", "raised builtins.TypeError: unsupported operand type(s) for +: 'int' and 'str'"},
    {"chord", "6"},
    {"chord_partial", "[0, 2, 4, 100]"},
    {"chord_of_add", "raised builtins.TypeError: can only concatenate list (not \"int\") to list"},
    {"chord_fails", "raised builtins.TypeError: unsupported operand type(s) for +: 'int' and 'str'"},
    {"chord_nested_fails", "raised builtins.TypeError: unsupported operand type(s) for +: 'int' and 'str'"},
    {"chain_chord", "7"},
    {"link", "103"},
    {"link_error", "15"},
};

// Time limits (headers.timelimit) and expiry, as a Python worker's prefork pool enforces them.
const std::vector<std::pair<std::string, std::string>> limit_forms = {
    {"time_limit", "raised billiard.exceptions.TimeLimitExceeded: TimeLimitExceeded(1,)"},
    {"soft_time_limit", "raised billiard.exceptions.SoftTimeLimitExceeded: SoftTimeLimitExceeded()"},
    {"expires", "raised celery.exceptions.TaskRevokedError: expired"},
};

// canvas_calls.py with every form of `forms`; its lines, and the expected ones.
std::pair<std::string, std::string> run_forms(const celery_env& env,
                                              const std::vector<std::pair<std::string, std::string>>& forms) {
  std::string names, expected;
  for (const auto& [name, result] : forms) {
    names += " " + name;
    expected += name + " " + result + "\n";
  }
  return {env.python("canvas_calls.py" + names).out, expected};
}

std::string count_in(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return std::to_string(n);
}

}  // namespace

// The seed's own Python client, unmodified but for the broker URL, drawing
// with scalekit workers and no Python worker at all.
TEST(CliDist, ScalekitWorkerServesTheSeedsPythonClient) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 2");
  temp_dir dir("dist-seed");
  auto small = env.python("celery_mandelbrot.py 64 48 1000 " + (dir / "small.png"));
  ASSERT_EQ(small.exit_code, 0) << small.err << worker->log();
  EXPECT_NE(small.out.find(std::string("sha256(raw RGB) ") + seed_64x48), std::string::npos) << small.out;
  auto big = env.python("celery_mandelbrot.py 640 480 1000 " + (dir / "big.png"));
  ASSERT_EQ(big.exit_code, 0) << big.err;
  EXPECT_NE(big.out.find(std::string("sha256(raw RGB) ") + seed_640x480), std::string::npos) << big.out;
  EXPECT_EQ(env.cli("HLEN unacked"), "0\n");  // everything acknowledged
  EXPECT_EQ(env.cli("LLEN celery"), "0\n");
  EXPECT_EQ(env.cli("TTL celery-task-meta-nonexistent"), "-2\n");
  const std::string log = worker->stop();
  EXPECT_EQ(worker->exit_code(), 0) << log;
  EXPECT_NE(log.find("528 tasks received, 528 succeeded, 0 failed"), std::string::npos) << log;
}

TEST(CliDist, FailuresReachThePythonClientAsItsExceptions) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 1 --pool threads");
  EXPECT_EQ(env.python("call_task.py mandelbrot_tasks.mandelbrot_calc_row '[0, 4, 3, 1000]'").out,
            "{\"0\": [32, 16, 8], \"1\": [64, 32, 16], \"2\": [96, 48, 24], \"3\": [128, 64, 32]}\n");
  EXPECT_EQ(env.python("call_task.py mandelbrot_tasks.mandelbrot_calc_row '[5, 4, 3, 1000]'").out,
            "raised builtins.ValueError: y = 5 is out of range [0, 2]\n");
  EXPECT_EQ(env.python("call_task.py mandelbrot_tasks.mandelbrot_calc_row '[\"a\", 4, 3]'").out,
            "raised builtins.TypeError: y must be an integer, not \"a\"\n");
  EXPECT_EQ(env.python("call_task.py no.such_task '[]'").out,
            "raised celery.exceptions.NotRegistered: 'no.such_task'\n");
  EXPECT_EQ(env.python("call_task.py bench_tasks.add '[2, 3]' 30 3").out, "5\n5\n5\n");
  // Results expire as Celery's do (a day).
  const std::string key = env.cli("--scan --pattern celery-task-meta-*");
  ASSERT_FALSE(key.empty());
  const long ttl = std::stol(env.cli("TTL " + key.substr(0, key.find('\n'))));
  EXPECT_GT(ttl, 86000);
  EXPECT_LE(ttl, 86400);
}

// Keyword arguments, mixes, integers beyond 64 bits and Celery's TypeErrors
// for calls that do not fit the task, as a Python worker gives them.
TEST(CliDist, ArgumentsBindAsPythonBindsThem) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 2 --pool threads");
  const auto [out, expected] = run_forms(env, argument_forms);
  EXPECT_EQ(out, expected) << worker->log();
}

// The reference: a Python Celery worker gives every form's line as the tables say.
TEST(CliDist, APythonWorkerAnswersEveryFormAlike) {
  celery_env env;
  auto worker = env.python_worker();
  auto forms = argument_forms;
  forms.insert(forms.end(), canvas_forms.begin(), canvas_forms.end());
  forms.insert(forms.end(), limit_forms.begin(), limit_forms.end());
  const auto [out, expected] = run_forms(env, forms);
  EXPECT_EQ(out, expected) << worker->log();
}

// Chains, chords, callbacks and errbacks on scalekit workers alone; the
// chords' keys are gone once their bodies ran, and nothing stays reserved.
TEST(CliDist, CanvasRunsAsOnAPythonWorker) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 2 --pool threads");
  const auto [out, expected] = run_forms(env, canvas_forms);
  EXPECT_EQ(out, expected) << worker->log();
  // The failed chords leave their keys to expire, as Celery's backend does; the others are deleted.
  const std::string chord_keys = env.cli("--scan --pattern celery-taskset-meta-*");
  EXPECT_EQ(count_in(chord_keys, ".j"), "2") << chord_keys;
  EXPECT_EQ(count_in(chord_keys, ".s"), "2") << chord_keys;
  EXPECT_EQ(env.cli("HLEN unacked"), "0\n");
  const std::string log = worker->stop();
  EXPECT_NE(log.find("raised ChordError: Dependency"), std::string::npos) << log;
}

// A time limit fails the task when it passes, and the worker's own
// --time-limit covers messages that set none; the slot stays taken until the
// call really ends, and a stop does not wait for it.
TEST(CliDist, TimeLimitsAndExpiryAsOnAPythonWorker) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 2 --pool threads");
  const auto [out, expected] = run_forms(env, limit_forms);
  EXPECT_EQ(out, expected) << worker->log();
  EXPECT_NE(worker->log().find("Hard time limit (1s) exceeded for scalekit.sleep["), std::string::npos);
  worker->stop();

  auto limited = env.scalekit_worker("-c 1 --pool threads --time-limit 1");
  EXPECT_EQ(env.python("call_task.py scalekit.sleep '[30]' 10").out,
            "raised billiard.exceptions.TimeLimitExceeded: TimeLimitExceeded(1.0,)\n");
  const auto t0 = std::chrono::steady_clock::now();
  const std::string log = limited->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << log;
  EXPECT_EQ(limited->exit_code(), 0) << log;
}

// One chord, its header split between a Python Celery worker (queue 'py') and
// a scalekit worker (queue 'celery'): both count parts in the same Redis keys,
// and whichever counts the last part applies the body, on either worker.
TEST(CliDist, AChordHeaderServedByPythonAndScalekitWorkers) {
  celery_env env;
  auto sk = env.scalekit_worker("-c 2 --pool threads");
  auto py = env.python_worker(2, "py");
  const std::vector<std::pair<std::string, std::string>> mixed = {
      {"chord_mixed", "30"}, {"chord_mixed_py_body", "30"}, {"chord_mixed", "30"}, {"chord_mixed_py_body", "30"}};
  const auto [out, expected] = run_forms(env, mixed);
  EXPECT_EQ(out, expected) << sk->log() << py->log();
  // 4 chords of 6: 3 header tasks each on either side, and 2 bodies on either side.
  EXPECT_EQ(count_in(py->log(), "] succeeded in"), "14") << py->log();
  const std::string log = sk->stop();
  EXPECT_NE(log.find("14 succeeded, 0 failed"), std::string::npos) << log;
  EXPECT_EQ(env.cli("--scan --pattern celery-taskset-meta-*"), "");
}

// The other direction: scalekit publishes the seed's tasks, an unmodified
// Python Celery worker runs them.
TEST(CliDist, DistributedMandelbrotRunsOnAPythonCeleryWorker) {
  celery_env env;
  auto worker = env.python_worker(2);
  temp_dir dir("dist-py");
  auto r = run_command(bin + " mandelbrot -W 64 -H 48 --executor distributed --broker " + env.broker() + " -o " +
                       (dir / "m.rgb"));
  ASSERT_EQ(r.exit_code, 0) << r.err << worker->log();
  EXPECT_EQ(sha256_of(dir / "m.rgb"), seed_64x48);
  // Celery logs a task's success after storing its result: the last line may
  // come a moment after the image is complete.
  for (int i = 0; i < 100 && count_in(worker->log(), "succeeded in") != "48"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(count_in(worker->log(), "succeeded in"), "48") << worker->log();
  // scalekit.run is ours alone: a Python worker refuses it, and the job says so.
  auto native = run_command(bin + " mandelbrot -W 16 -H 8 --executor distributed --native-tasks --broker " +
                            env.broker() + " -o " + (dir / "n.rgb"));
  EXPECT_EQ(native.exit_code, 1);
  EXPECT_NE(native.err.find("NotRegistered"), std::string::npos) << native.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "n.rgb"));
}

TEST(CliDist, EveryTaskModeOnScalekitWorkersDrawsTheSeedImage) {
  celery_env env;
  auto a = env.scalekit_worker("-c 1");
  auto b = env.scalekit_worker("-c 1 --pool threads");
  temp_dir dir("dist-native");
  for (const char* mode : {"", "--native-tasks"}) {
    auto r = run_command(bin + " mandelbrot --executor distributed " + mode + " --broker " + env.broker() + " -o " +
                         (dir / "m.rgb"));
    ASSERT_EQ(r.exit_code, 0) << mode << r.err;
    EXPECT_EQ(sha256_of(dir / "m.rgb"), seed_640x480) << mode;
  }
  // Both workers took part.
  EXPECT_NE(a->log().find("succeeded"), std::string::npos);
  EXPECT_NE(b->log().find("succeeded"), std::string::npos);
}

// primes on the distributed executor: batches of numbers as scalekit.run
// tasks (the seed has no Celery task for primes), the lines the same as on
// one local thread, in input order; both workers took part.
TEST(CliDist, PrimesOnScalekitWorkersAnswerAsLocally) {
  celery_env env;
  auto a = env.scalekit_worker("-c 1");
  auto b = env.scalekit_worker("-c 1 --pool threads");
  for (const char* sub : {"check --algorithm trial --seed-list", "factor --max 1000000000000"}) {
    const std::string args = std::string("primes ") + sub + " --random 300 --seed 4 --batch 16";
    auto local = run_command(bin + " " + args + " --executor serial");
    ASSERT_EQ(local.exit_code, 0) << local.err;
    auto remote = run_command(bin + " " + args + " --executor distributed -j 2 --broker " + env.broker());
    ASSERT_EQ(remote.exit_code, 0) << sub << remote.err;
    EXPECT_EQ(remote.out, local.out) << sub;
    EXPECT_NE(remote.err.find("distributed, -j 2"), std::string::npos) << remote.err;
  }
  EXPECT_NE(a->log().find("scalekit.run"), std::string::npos) << a->log();
  // No Celery form to choose against: --native-tasks is not offered.
  EXPECT_EQ(run_command(bin + " primes check --help").out.find("--native-tasks"), std::string::npos);
  EXPECT_NE(b->log().find("succeeded"), std::string::npos) << b->log();
}

// A worker killed mid-job: its reservations go stale and another worker
// delivers them again; the image comes out whole and right.
TEST(CliDist, AKilledWorkersTasksAreDeliveredAgain) {
  celery_env env;
  auto doomed = env.scalekit_worker("-c 2 --visibility-timeout 1 --test-task-delay 300");
  temp_dir dir("dist-kill");
  auto job = env.distributed_mandelbrot(dir / "m.rgb");
  ASSERT_TRUE(doomed->wait_for_log("received")) << doomed->log();
  doomed->kill();  // holding reservations it will never finish
  EXPECT_NE(env.cli("HLEN unacked"), "0\n");
  auto rescuer = env.scalekit_worker("-c 2 --visibility-timeout 1");
  ASSERT_TRUE(job->wait_exit(60s)) << job->log() << rescuer->log();
  EXPECT_EQ(job->exit_code(), 0) << job->log();
  EXPECT_EQ(sha256_of(dir / "m.rgb"), seed_64x48);
  EXPECT_EQ(env.cli("HLEN unacked"), "0\n");
  const std::string log = rescuer->stop();
  EXPECT_EQ(log.find(" 0 restored from dead workers"), std::string::npos) << log;
}

// Redis goes away mid-job and comes back empty (no persistence): workers and
// the client reconnect, the client sends what the broker lost again, and the
// image is right.
TEST(CliDist, ARedisRestartMidJobLosesNothing) {
  celery_env env;
  auto w1 = env.scalekit_worker("-c 2 --test-task-delay 40");
  auto w2 = env.scalekit_worker("-c 2 --test-task-delay 40");
  temp_dir dir("dist-redis");
  auto job = env.distributed_mandelbrot(dir / "m.rgb");
  ASSERT_TRUE(w1->wait_for_log("succeeded")) << w1->log();
  env.redis.kill_hard();
  std::this_thread::sleep_for(300ms);
  env.redis.start();
  ASSERT_TRUE(job->wait_exit(60s)) << job->log() << w1->log();
  EXPECT_EQ(job->exit_code(), 0) << job->log();
  EXPECT_EQ(sha256_of(dir / "m.rgb"), seed_64x48);
  EXPECT_NE(job->log().find("the broker restarted"), std::string::npos) << job->log();
  EXPECT_NE(w1->log().find("broker unreachable"), std::string::npos) << w1->log();
}

// A task whose every delivery dies with its worker ends in the dead-letter
// list with a FAILURE the client sees, instead of looping forever.
TEST(CliDist, APoisonTaskGoesToTheDeadLetterList) {
  celery_env env;
  auto client = env.python_in_background("call_task.py scalekit.sleep '[600]' 120");
  for (int delivery = 1; delivery <= 3; ++delivery) {
    auto w = env.scalekit_worker("-c 1 --pool threads --visibility-timeout 1 --max-deliveries 3");
    ASSERT_TRUE(w->wait_for_log("received", 30s)) << delivery << w->log();
    w->kill();
  }
  auto last = env.scalekit_worker("-c 1 --pool threads --visibility-timeout 1 --max-deliveries 3");
  ASSERT_TRUE(last->wait_for_log("moved to scalekit-dead-letters-celery", 30s)) << last->log();
  ASSERT_TRUE(client->wait_exit(30s));
  EXPECT_NE(client->out().find("raised billiard.exceptions.WorkerLostError: task scalekit.sleep was delivered 4 times"),
            std::string::npos)
      << client->out() << client->log();
  EXPECT_EQ(env.cli("LLEN scalekit-dead-letters-celery"), "1\n");
  EXPECT_NE(env.cli("TTL scalekit-dead-letters-celery"), "-1\n");  // our keys expire
  EXPECT_EQ(env.cli("HLEN unacked"), "0\n");
}

// SIGTERM: running tasks get the grace period, then go back to the queue
// exactly once, and the next worker finishes them.
TEST(CliDist, SigtermRequeuesUnfinishedTasksOnce) {
  celery_env env;
  auto client = env.python_in_background("call_task.py scalekit.sleep '[3]' 60");
  auto w = env.scalekit_worker("-c 1 --pool threads --grace 0.3");
  ASSERT_TRUE(w->wait_for_log("received")) << w->log();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string log = w->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << log;
  EXPECT_EQ(w->exit_code(), 0) << log;
  EXPECT_NE(log.find("requeued unfinished task"), std::string::npos) << log;
  EXPECT_EQ(env.cli("LLEN celery"), "1\n");
  EXPECT_EQ(env.cli("HLEN unacked"), "0\n");
  auto next = env.scalekit_worker("-c 1 --pool threads");
  ASSERT_TRUE(client->wait_exit(30s));
  EXPECT_EQ(client->out(), "3\n");
}

TEST(CliDist, BadMessagesAreDeadLetteredAndTheWorkerGoesOn) {
  celery_env env;
  auto w = env.scalekit_worker("-c 1 --pool threads");
  env.cli("LPUSH celery 'not json at all'");
  env.cli(
      "LPUSH celery '{\"headers\": {\"task\": \"x\", \"id\": \"abc\"}, \"properties\": {\"delivery_tag\": \"t\"}, "
      "\"content-type\": \"application/x-python-serialize\", \"body\": \"\"}'");
  ASSERT_TRUE(w->wait_for_log("only application/json")) << w->log();
  EXPECT_NE(w->log().find("bad message in queue 'celery': not JSON"), std::string::npos) << w->log();
  EXPECT_EQ(env.cli("LLEN scalekit-dead-letters-celery"), "2\n");
  EXPECT_NE(env.cli("GET celery-task-meta-abc").find("DecodeError"), std::string::npos);  // the id was readable
  EXPECT_EQ(env.python("call_task.py bench_tasks.add '[40, 2]'").out, "42\n");            // still serving
}

// Prefetch one per free slot: a long task does not hold short ones hostage
// while another worker is free.
TEST(CliDist, ABusyWorkerDoesNotHoardTasks) {
  celery_env env;
  auto busy = env.scalekit_worker("-c 1 --pool threads");
  auto slow = env.python_in_background("call_task.py scalekit.sleep '[3]' 60");
  ASSERT_TRUE(busy->wait_for_log("received")) << busy->log();
  auto idle = env.scalekit_worker("-c 1 --pool threads");
  EXPECT_EQ(env.python("call_task.py bench_tasks.add '[1, 1]' 10 5").out, "2\n2\n2\n2\n2\n");
  EXPECT_EQ(count_in(busy->log(), "received"), "1") << busy->log();  // only its long task
  EXPECT_EQ(count_in(idle->log(), "succeeded"), "5") << idle->log();
}

TEST(CliDist, StatusShowsLiveWorkersAndSaysWhenNothingConsumes) {
  celery_env env;
  {
    auto w = env.scalekit_worker("-c 3 --pool threads");
    std::this_thread::sleep_for(300ms);  // its first heartbeat
    auto s = run_command(bin + " worker --status --broker " + env.broker());
    EXPECT_EQ(s.exit_code, 0) << s.out << s.err;
    EXPECT_NE(s.out.find("1 live workers"), std::string::npos) << s.out;
    EXPECT_NE(s.out.find("threads x3"), std::string::npos) << s.out;
    EXPECT_NE(s.out.find("health: idle"), std::string::npos) << s.out;
  }  // stopped: it says goodbye
  auto client = env.python_in_background("call_task.py bench_tasks.add '[1, 2]' 5");
  std::this_thread::sleep_for(1500ms);  // Python's start and publish
  auto s = run_command(bin + " --json worker --status --broker " + env.broker());
  EXPECT_EQ(s.exit_code, 1) << s.out << s.err;
  EXPECT_NE(s.out.find("\"consuming\":false"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("\"waiting\":1"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("not consuming: 1 tasks wait and no worker is alive"), std::string::npos) << s.out;
}

TEST(CliDist, BadUsage) {
  EXPECT_EQ(run_command(bin + " worker --broker http://x").exit_code, 2);
  EXPECT_EQ(run_command(bin + " worker --broker redis://h:1/99").exit_code, 2);
  EXPECT_EQ(run_command(bin + " mandelbrot --executor distributed --broker nope -o /tmp/x.rgb").exit_code, 2);
  EXPECT_EQ(run_command(bin + " worker --pool gevent").exit_code, 2);
}

// A task due in 2099 waits outside the worker's only slot, its reservation
// held: the queue keeps moving. At a stop it goes back to the queue at once.
TEST(CliDist, AFarFutureTaskDoesNotHoldTheOnlySlot) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 1 --pool threads");
  const std::string far_id =
      env.python("apply.py bench_tasks.add '[1, 2]' '{\"eta\": \"2099-01-01T00:00:00+00:00\"}'").out;
  ASSERT_FALSE(far_id.empty());
  ASSERT_TRUE(worker->wait_for_log("received")) << worker->log();
  EXPECT_EQ(env.python("call_task.py bench_tasks.add '[2, 3]' 10 3").out, "5\n5\n5\n") << worker->log();
  EXPECT_EQ(env.cli("HLEN unacked"), "1\n");  // the far one, reserved
  const auto t0 = std::chrono::steady_clock::now();
  const std::string log = worker->stop();  // grace 30 s: nothing runs, so no wait
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s) << log;
  EXPECT_NE(log.find("requeued unfinished task " + far_id.substr(0, far_id.size() - 1)), std::string::npos) << log;
  EXPECT_EQ(env.cli("LLEN celery"), "1\n");
  EXPECT_EQ(env.cli("HLEN unacked"), "0\n");
}

// A countdown task runs when it is due, not before, and meanwhile the slot
// serves others.
TEST(CliDist, ACountdownTaskRunsWhenDueAndLetsOthersPass) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 1 --pool threads");
  const auto t0 = std::chrono::steady_clock::now();
  auto later = env.python_in_background("apply.py bench_tasks.add '[40, 2]' '{\"countdown\": 3}' --wait 20");
  ASSERT_TRUE(worker->wait_for_log("received")) << worker->log();
  EXPECT_EQ(env.python("call_task.py bench_tasks.add '[1, 1]'").out, "2\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2800ms);  // before the countdown ended
  ASSERT_TRUE(later->wait_exit(20s));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_NE(later->out().find("\n42\n"), std::string::npos) << later->out();
}

// While a task waits for its eta its reservation is kept fresh: another
// worker's restorer, with a visibility timeout shorter than the wait, does not
// deliver it a second time.
TEST(CliDist, AWaitingTasksReservationStaysFresh) {
  celery_env env;
  auto a = env.scalekit_worker("-c 1 --pool threads --visibility-timeout 1");
  env.python("apply.py bench_tasks.add '[1, 2]' '{\"countdown\": 4}'");
  ASSERT_TRUE(a->wait_for_log("received")) << a->log();
  auto b = env.scalekit_worker("-c 1 --pool threads --visibility-timeout 1");
  ASSERT_TRUE(a->wait_for_log("succeeded", 20s)) << a->log();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(count_in(b->log(), "received"), "0") << b->log();
  EXPECT_EQ(env.cli("HLEN unacked"), "0\n");
}

// An expiry before the eta ends the wait: REVOKED is stored and the message acknowledged.
TEST(CliDist, AnExpiryBeforeTheEtaRevokesTheWaitingTask) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 1 --pool threads");
  const auto r = env.python(
      "apply.py bench_tasks.add '[1, 2]' '{\"eta\": \"2099-01-01T00:00:00+00:00\", \"expires\": 2}' --wait 20");
  EXPECT_NE(r.out.find("raised celery.exceptions.TaskRevokedError: expired"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(env.cli("HLEN unacked"), "0\n");
  EXPECT_EQ(env.cli("LLEN celery"), "0\n");
}

// A message over --max-message-size is not parsed: dead-lettered, its FAILURE
// stored, and the worker's memory stays near the message's size.
TEST(CliDist, AnOversizedMessageIsRefusedWithAFailure) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 1 --pool threads --max-message-size 1000000");
  const std::string out = env.python("canvas_calls.py big_message --timeout 30").out;
  EXPECT_NE(out.find("raised kombu.exceptions.LimitExceeded: message of 26"), std::string::npos) << out;
  EXPECT_NE(out.find("bytes is larger than the limit of 1000000 bytes"), std::string::npos) << out;
  EXPECT_EQ(env.cli("LLEN scalekit-dead-letters-celery"), "1\n");
  EXPECT_EQ(env.cli("HLEN unacked"), "0\n");
  EXPECT_EQ(env.python("call_task.py bench_tasks.add '[40, 2]'").out, "42\n");  // still serving
  // The dead letter is the worker's usual entry, written in Redis by the take script.
  const auto entry = nlohmann::json::parse(env.cli("LINDEX scalekit-dead-letters-celery 0"));
  const auto message = nlohmann::json::parse(entry["message"].get<std::string>());  // the envelope, whole
  EXPECT_EQ(message["headers"]["task"], "bench_tasks.add");
  EXPECT_GT(message["body"].get<std::string>().size(), 20'000'000u);
  EXPECT_EQ(entry["reason"].get<std::string>().rfind("message of 26", 0), 0u) << entry["reason"];
  EXPECT_EQ(entry["worker"].get<std::string>().rfind("scalekit@", 0), 0u) << entry["worker"];
  // The message is 26.7 MB. The take script refuses it inside Redis, and the idle worker was woken
  // by Redis's announcement of the write, which names the list and carries no value (spec 5.1):
  // the message never reached the worker, whose peak stays below the message's size.
  const std::string status = slurp("/proc/" + std::to_string(worker->pid()) + "/status");
  const auto at = status.find("VmHWM:");
  ASSERT_NE(at, std::string::npos);
  const long peak_kb = std::stol(status.substr(at + 6));
  EXPECT_LT(peak_kb, scalekit::testing::sanitized ? 200 * 1024 : 26 * 1024) << status;  // ASan: its shadow memory
}

// Redis that refuses client tracking (here: CLIENT renamed away, as before
// Redis 6.0): the idle worker waits with BLMOVE instead, says so, and serves.
TEST(CliDist, WithoutClientTrackingAnIdleWorkerWaitsWithBlmove) {
  celery_env env("--rename-command CLIENT ''");
  auto worker = env.scalekit_worker("-c 1 --pool threads");
  ASSERT_TRUE(worker->wait_for_log("waiting for messages with BLMOVE")) << worker->log();
  EXPECT_EQ(env.python("call_task.py bench_tasks.add '[40, 2]'").out, "42\n");
  celery_env tracked;
  auto announced = tracked.scalekit_worker("-c 1 --pool threads");
  EXPECT_EQ(tracked.python("call_task.py bench_tasks.add '[40, 2]'").out, "42\n");
  EXPECT_EQ(announced->log().find("BLMOVE"), std::string::npos) << announced->log();
}

// Celery's own tools list and steer scalekit workers (remote control, spec
// section 12): `celery status`, `inspect ...` and `control ...` as
// subprocesses, beside a Python Celery worker.
TEST(CliDist, CeleryToolsListAndSteerScalekitWorkers) {
  celery_env env;
  auto a = env.scalekit_worker("-c 1 --pool threads -n sk-a@test");
  auto b = env.scalekit_worker("-c 1 --pool threads -n sk-b@test");
  auto py = env.python_worker(1, "py");
  const auto celery = [&env](const std::string& args) {
    return run_command("cd " + fixtures + " && " + env.python_cmd("-m celery -A mandelbrot_tasks " + args));
  };
  const auto status = celery("status");
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("sk-a@test: OK"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("sk-b@test: OK"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("3 nodes online."), std::string::npos) << status.out;

  const auto ping = celery("inspect ping -d sk-a@test");
  EXPECT_NE(ping.out.find("sk-a@test: OK"), std::string::npos) << ping.out;
  EXPECT_NE(ping.out.find("pong"), std::string::npos) << ping.out;
  EXPECT_EQ(ping.out.find("sk-b@test"), std::string::npos) << ping.out;  // destination honoured

  const auto queues = celery("inspect active_queues -j -d sk-b@test");
  EXPECT_NE(queues.out.find("\"routing_key\": \"celery\""), std::string::npos) << queues.out;
  const auto registered = celery("inspect registered -d sk-b@test");
  EXPECT_NE(registered.out.find("* bench_tasks.add"), std::string::npos) << registered.out;

  // A running task shows in `inspect active`, a countdown task in `inspect scheduled`.
  auto busy = env.python_in_background("call_task.py scalekit.sleep '[3]' 20 2");
  auto later = env.python_in_background("canvas_calls.py countdown");
  ASSERT_TRUE(a->wait_for_log("scalekit.sleep") && b->wait_for_log("scalekit.sleep")) << a->log() << b->log();
  const auto active = celery("inspect active -j");
  EXPECT_EQ(count_in(active.out, "\"name\": \"scalekit.sleep\""), "2") << active.out;
  const auto stats = celery("inspect stats -d sk-a@test");
  EXPECT_NE(stats.out.find("\"max-concurrency\": 1"), std::string::npos) << stats.out;

  const auto grow = celery("control pool_grow 2 -d sk-a@test");
  EXPECT_NE(grow.out.find("pool will grow"), std::string::npos) << grow.out;
  EXPECT_TRUE(a->wait_for_log("pool_grow 2: 3 slots")) << a->log();
  const auto shrink = celery("control pool_shrink 1 -d sk-a@test");
  EXPECT_NE(shrink.out.find("pool will shrink"), std::string::npos) << shrink.out;

  // `celery control shutdown` stops a scalekit worker as SIGTERM does.
  EXPECT_TRUE(later->wait_exit(20s)) << later->log();
  EXPECT_EQ(later->out(), "countdown 5\n");
  EXPECT_TRUE(busy->wait_exit(20s));
  celery("control shutdown -d sk-b@test");
  EXPECT_TRUE(b->wait_exit(5s)) << b->log();
  EXPECT_EQ(b->exit_code(), 0);
  EXPECT_NE(b->log().find("Got shutdown from remote"), std::string::npos) << b->log();
  const auto after = celery("status");
  EXPECT_NE(after.out.find("2 nodes online."), std::string::npos) << after.out;
}

// `app.control.revoke`: a countdown task held by the worker, a task revoked
// before it was published, and a running one with terminate=True all end
// REVOKED; other tasks still run; `inspect revoked` lists the ids; and a stop
// right after a terminate does not wait for the terminated call.
TEST(CliDist, RevokeReachesHeldQueuedAndRunningTasks) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 2 --pool threads");
  const auto out = env.python("control_calls.py revoke_countdown revoke_queued terminate after_revoke revoked_list");
  EXPECT_EQ(out.out,
            "revoke_countdown raised celery.exceptions.TaskRevokedError: revoked\n"
            "revoke_queued raised celery.exceptions.TaskRevokedError: revoked\n"
            "terminate raised celery.exceptions.TaskRevokedError: terminated (within 5 s)\n"
            "after_revoke 42\n"
            "revoked_list all listed\n")
      << out.err << worker->log();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string log = worker->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << log;  // not the 30 s left of the terminated sleep
  EXPECT_EQ(worker->exit_code(), 0) << log;
  EXPECT_NE(log.find("Discarding revoked task"), std::string::npos) << log;
  EXPECT_EQ(env.cli("HLEN unacked"), "0\n");
}

// With worker processes, terminate=True ends the process that runs the call
// (as Celery's prefork pool does): with one slot, the next task runs at once
// instead of after the 30 s the terminated sleep had left.
TEST(CliDist, TerminateEndsTheWorkerProcessOfTheCall) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 1 --pool processes");
  const auto out = env.python("control_calls.py terminate after_revoke");
  EXPECT_EQ(out.out,
            "terminate raised celery.exceptions.TaskRevokedError: terminated (within 5 s)\n"
            "after_revoke 42\n")
      << out.err << worker->log();
  const std::string log = worker->stop();
  EXPECT_NE(log.find("revoked with terminate=True, signal 15"), std::string::npos) << log;
  EXPECT_EQ(worker->exit_code(), 0) << log;
}

// Mingle: a Celery worker that starts beside scalekit workers asks them for
// the ids they were told to revoke (hello), and they answer with theirs and
// take its; scalekit's answer is one Celery's LimitedSet reads. A scalekit
// worker that starts asks the same of every worker already running.
TEST(CliDist, MingleSharesRevokedIdsWithCeleryWorkers) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 1 --pool threads -n sk@test");
  const auto out = env.python("control_calls.py revoke_queued hello");
  EXPECT_EQ(out.out,
            "revoke_queued raised celery.exceptions.TaskRevokedError: revoked\n"
            "hello 1 replies, all listed\n")
      << out.err << worker->log();
  // A real Celery worker with mingle on (the default) learns the revoked ids.
  background_process py(env.python_cmd("-m celery -A mandelbrot_tasks worker -n py@test --concurrency=1 "
                                       "--loglevel=INFO --without-gossip"),
                        "py-worker");
  ASSERT_TRUE(py.wait_for_log("ready.", 60s)) << py.log();
  EXPECT_NE(py.log().find("mingle: sync with 1 nodes"), std::string::npos) << py.log();
  const auto revoked = run_command("cd " + fixtures + " && " +
                                   env.python_cmd("-m celery -A mandelbrot_tasks inspect revoked -j -d py@test"));
  EXPECT_EQ(std::count(revoked.out.begin(), revoked.out.end(), '-'), 8) << revoked.out;  // two uuids
  // And the other way: a scalekit worker that starts now learns them from
  // both (the Python worker's LimitedSet data, the scalekit worker's), and
  // a task revoked before it started is not run.
  auto late = env.scalekit_worker("-c 1 --pool threads -n sk-late@test");
  ASSERT_TRUE(late->wait_for_log("mingle: ")) << late->log();
  EXPECT_NE(late->log().find("mingle: sync with 2 nodes (4 revoked ids)"), std::string::npos) << late->log();
  const auto late_revoked = run_command(
      "cd " + fixtures + " && " + env.python_cmd("-m celery -A mandelbrot_tasks inspect revoked -j -d sk-late@test"));
  EXPECT_EQ(std::count(late_revoked.out.begin(), late_revoked.out.end(), '-'), 9)
      << late_revoked.out;  // sk-late, two uuids
  const std::string log = worker->stop();
  EXPECT_NE(log.find("sync with py@test (0 revoked ids received)"), std::string::npos) << log;
  // Alone, a worker does not wait for replies.
  celery_env alone;
  auto first = alone.scalekit_worker("-c 1 --pool threads");
  ASSERT_TRUE(first->wait_for_log("mingle: ")) << first->log();
  EXPECT_NE(first->log().find("mingle: all alone"), std::string::npos) << first->log();
}

// Celery's own event receiver (app.events.Receiver) sees a scalekit task's
// whole life as a Python worker's (-E: the lines below are what a Python
// worker with -E gives), and the worker's heartbeats; without -E, a remote
// enable_events switches task events on.
TEST(CliDist, CelerysEventReceiverSeesScalekitTasks) {
  const std::string tasks =
      "succeeds task-received task-started task-succeeded\n"
      "  received bench_tasks.add (2, 3) {}\n"
      "  result 5\n"
      "fails task-received task-started task-failed\n"
      "  received bench_tasks.add (1, 'a') {}\n"
      "  exception TypeError(\"unsupported operand type(s) for +: 'int' and 'str'\")\n";
  celery_env env;
  {
    auto worker = env.scalekit_worker("-c 2 --pool threads -E -n sk@test");
    const auto out = env.python("watch_events.py");
    EXPECT_EQ(out.out, tasks +
                           "revoked task-revoked\n"
                           "  terminated False expired False\n"
                           "heartbeats from sk@test\n")
        << out.err << worker->log();
  }
  auto quiet = env.scalekit_worker("-c 2 --pool threads -n sk@test");
  const auto out = env.python("watch_events.py --enable --no-revoke");
  EXPECT_EQ(out.out, "enable_events ['task events enabled']\n" + tasks + "heartbeats from sk@test\n")
      << out.err << quiet->log();
}

// --autoretry-for (Celery's autoretry_for): a TypeError is retried twice (same
// id, after the delay; the client sees RETRY) and then fails for good with the
// original exception, as Celery re-raises it after max_retries.
TEST(CliDist, AutoretryRetriesThenFailsWithTheOriginalError) {
  celery_env env;
  auto worker =
      env.scalekit_worker("-c 2 --pool threads --autoretry-for builtins.TypeError --max-retries 2 --retry-delay 0.3");
  EXPECT_EQ(env.python("control_calls.py retry").out,
            "retry RETRY FAILURE -> raised builtins.TypeError: unsupported operand type(s) for +: 'int' and 'str'\n")
      << worker->log();
  const std::string log = worker->stop();
  EXPECT_EQ(count_in(log, "retry: Retry in 0.3s: TypeError("), "2") << log;
  EXPECT_NE(log.find("3 tasks received, 0 succeeded, 3 failed"), std::string::npos) << log;
  EXPECT_EQ(env.cli("HLEN unacked"), "0\n");
}

// Per-task rate limits (Celery's rate_limit): --rate-limit at start, and the
// remote `rate_limit` command on a running worker; 6 adds at 5/s cannot all
// start within less than a second (a lower bound: what the limit guarantees).
TEST(CliDist, RateLimitsSpaceATasksStarts) {
  celery_env env;
  {
    auto worker = env.scalekit_worker("-c 2 --pool threads --rate-limit bench_tasks.add=5/s");
    EXPECT_EQ(env.python("control_calls.py rate_spacing").out, "rate_spacing [0, 2, 4, 6, 8, 10] spaced\n")
        << worker->log();
  }
  auto worker = env.scalekit_worker("-c 2 --pool threads");
  EXPECT_EQ(env.python("control_calls.py rate_limit").out,
            "rate_limit ['new rate limit set successfully'] [0, 2, 4, 6, 8, 10] spaced\n")
      << worker->log();
  EXPECT_NE(run_command(bin + " worker --broker " + env.broker() + " --rate-limit bench_tasks.add=fast")
                .err.find("'fast' is not a rate"),
            std::string::npos);
}

// What arrives on the pidbox channel but is not a request (not JSON, no
// method, too large) is logged and ignored; the worker still answers.
TEST(CliDist, BadControlMessagesAreIgnored) {
  celery_env env;
  auto worker = env.scalekit_worker("-c 1 --pool threads -n sk@test");
  const auto ping = [&env] {
    return run_command("cd " + fixtures + " && " + env.python_cmd("-m celery -A mandelbrot_tasks inspect ping")).out;
  };
  // Answered: the worker has subscribed (a PUBLISH before that reaches no one).
  ASSERT_NE(ping().find("sk@test: OK"), std::string::npos) << worker->log();
  env.cli("PUBLISH /0.celery.pidbox not-json");
  env.cli(
      "PUBLISH /0.celery.pidbox '{\"body\": \"e30=\", \"content-type\": \"application/json\", "
      "\"properties\": {\"body_encoding\": \"base64\"}}'");
  temp_dir dir("pidbox");
  {
    std::ofstream big(dir / "big");
    big << std::string(2 << 20, 'x');
  }
  // In a subshell: run_command gives the command </dev/null, which would win.
  run_command("(redis-cli -p " + std::to_string(env.redis.port()) + " -x PUBLISH /0.celery.pidbox < " + (dir / "big") +
              ")");
  EXPECT_TRUE(worker->wait_for_log("ignored a message of 2097152 bytes")) << worker->log();
  EXPECT_NE(worker->log().find("ignored a message: control message is not a JSON object"), std::string::npos);
  EXPECT_NE(worker->log().find("ignored a message: control message names no method"), std::string::npos);
  EXPECT_NE(ping().find("sk@test: OK"), std::string::npos) << worker->log();
}
