#include "sim/trace.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "config/error.hpp"

namespace sparsim::sim {

int Trace::tid(int actor, Lane lane) {
  if (lane == Lane::host) return 0;
  return 1 + actor * kLanes + static_cast<int>(lane);
}

void Trace::add(int node, int actor, Lane lane, const std::string& name, const char* category, double start, double dur) {
  events_.push_back(Event{node, tid(actor, lane), name, category, start, dur});
}

void Trace::name_actor(int node, int actor, const std::string& label) { actor_names_[{node, actor}] = label; }

void Trace::write(const std::string& path, const std::string& scenario) const {
  using nlohmann::json;
  json events = json::array();
  std::set<int> nodes;
  for (const auto& [key, label] : actor_names_) {
    const auto [node, actor] = key;
    nodes.insert(node);
    const char* lanes[] = {"compute", "pp link", "dp link", "pcie", "ep link"};
    for (int l = 0; l < kLanes; ++l) {
      events.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", node}, {"tid", tid(actor, static_cast<Lane>(l))},
                        {"args", {{"name", label + " " + lanes[l]}}}});
    }
  }
  for (int node : nodes) {
    events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", node}, {"args", {{"name", "node " + std::to_string(node)}}}});
    events.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", node}, {"tid", 0}, {"args", {{"name", "host CPU"}}}});
  }
  for (const Event& e : events_) {
    events.push_back({{"ph", "X"}, {"name", e.name}, {"cat", e.category}, {"pid", e.pid}, {"tid", e.tid},
                      {"ts", e.start * 1e6}, {"dur", e.dur * 1e6}});
  }
  const json doc = {{"traceEvents", events}, {"displayTimeUnit", "ms"}, {"otherData", {{"scenario", scenario}, {"generator", "sparsim des"}}}};
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw InputError(Origin{"command line", 0, 0}, path, "cannot write the trace file");
    out << doc.dump() << "\n";
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace sparsim::sim
