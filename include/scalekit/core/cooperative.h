#pragma once
// round_robin<T>: the seed's cooperative scheduler (chapter 5, generator_tasks):
// named generator tasks, resumed one after another, each running until its next
// co_yield. One thread, no locks: a task switch is a coroutine resume.
//
//   round_robin<std::uint64_t> s;
//   s.add("square_mapper", square_mapper(number_generator(n)));
//   s.add("prime_filter", prime_filter(number_generator(n)));
//   auto results = s.run(rounds, on_switch, on_result);
//
// run() gives each unfinished task one step per round, in the order added, for
// at most `rounds` rounds or until all have finished. Not thread-safe.

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "scalekit/core/generator.h"

namespace scalekit::core {

template <typename T>
class round_robin {
 public:
  void add(std::string name, generator<T> task) { tasks_.push_back({std::move(name), std::move(task), false}); }

  /// on_switch(name) before each step; on_result(name, value) after a step that yielded.
  std::map<std::string, std::vector<T>> run(std::size_t rounds,
                                            const std::function<void(const std::string&)>& on_switch = {},
                                            const std::function<void(const std::string&, const T&)>& on_result = {}) {
    std::map<std::string, std::vector<T>> results;
    for (std::size_t r = 0; r < rounds; ++r) {
      bool any = false;
      for (auto& t : tasks_) {
        if (t.finished) continue;
        if (on_switch) on_switch(t.name);
        if (!t.gen.next()) {
          t.finished = true;
          continue;
        }
        any = true;
        switches_++;
        results[t.name].push_back(t.gen.value());
        if (on_result) on_result(t.name, t.gen.value());
      }
      if (!any) break;
    }
    return results;
  }

  /// Steps that yielded a value, over every run() so far.
  [[nodiscard]] std::size_t get_switches() const noexcept { return switches_; }

 private:
  struct entry {
    std::string name;
    generator<T> gen;
    bool finished;
  };
  std::vector<entry> tasks_;
  std::size_t switches_ = 0;
};

}  // namespace scalekit::core
