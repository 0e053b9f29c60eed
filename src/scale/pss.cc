// PSS of a process tree (pss.h).

#include "pss.h"

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stop_token>
#include <thread>

namespace scalekit::scale {

double pss_of(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/smaps_rollup");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Pss:", 0) == 0) return std::strtod(line.c_str() + 4, nullptr);
  return 0;
}

double pss_of_tree(const std::string& pid) {
  double sum = pss_of(pid);
  // Children are listed under the thread that made them.
  const std::string tasks_dir = "/proc/" + pid + "/task";
  DIR* tasks = ::opendir(tasks_dir.c_str());
  if (tasks == nullptr) return sum;
  while (const dirent* e = ::readdir(tasks)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream children(tasks_dir + "/" + e->d_name + "/children");
    for (std::string child; children >> child;) sum += pss_of(child);
  }
  ::closedir(tasks);
  return sum;
}

struct pss_sampler::state {
  double peak = 0;  // written by the thread until it is joined
  std::jthread thread;
};

pss_sampler::pss_sampler() : state_(std::make_unique<state>()) {
  state_->thread = std::jthread([s = state_.get()](std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    while (!stop.stop_requested()) {
      s->peak = std::max(s->peak, pss_of_tree("self"));
      cv.wait_for(lock, stop, std::chrono::milliseconds(20), [] { return false; });
    }
  });
}

pss_sampler::~pss_sampler() {
  if (state_->thread.joinable()) {
    state_->thread.request_stop();
    state_->thread.join();
  }
}

double pss_sampler::stop_and_peak() {
  if (state_->thread.joinable()) {
    state_->thread.request_stop();
    state_->thread.join();
  }
  state_->peak = std::max(state_->peak, pss_of_tree("self"));
  return state_->peak;
}

}  // namespace scalekit::scale
