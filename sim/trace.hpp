// Chrome trace JSON (chrome://tracing, Perfetto): one process per node, one lane (thread) per
// device group and link class, plus the node's host CPU. Event categories are the breakdown's
// categories (compute, tp, pp, dp, ep, h2d, d2h, host_optimizer, optimizer).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sparsim::sim {

enum class Lane { compute, pp_link, dp_link, pcie, ep_link, host };

class Trace {
 public:
  /// An interval of `dur` seconds starting at `start` seconds.
  void add(int node, int actor, Lane lane, const std::string& name, const char* category, double start, double dur);
  void name_actor(int node, int actor, const std::string& label);
  /// Writes the trace atomically. Throws InputError when the file cannot be written.
  void write(const std::string& path, const std::string& scenario) const;
  size_t size() const { return events_.size(); }

 private:
  struct Event {
    int pid, tid;
    std::string name;
    const char* category;
    double start, dur;
  };
  static int tid(int actor, Lane lane);
  static constexpr int kLanes = 5;  ///< device lanes per actor (all but host)
  std::vector<Event> events_;
  std::map<std::pair<int, int>, std::string> actor_names_;  ///< (node, actor) -> label
};

}  // namespace sparsim::sim
