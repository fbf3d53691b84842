// The configurations `sparsim validate` measures on this machine, and the files that describe
// each one to the reference trainer (trainer YAML) and to the simulator (scenario YAML with the
// run's routing).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sparsim::validation {

struct Case {
  std::string name, router, placement;  ///< router: dense | topk | rre; placement: device | ecss
  int ranks = 1;
  bool grouped = false;  ///< rre: PanGu-Σ's grouped domain data (else every domain on every rank)
  /// "<name>-np<ranks>": the prefix of the case's files.
  std::string tag() const { return name + "-np" + std::to_string(ranks); }
};

/// Every router / placement with 1 rank, the sparse ones with 4, and RRE+ECSS with 4 ranks in
/// PanGu-Σ's layout, each rank reading its experts' domain. Quick: without dense and RRE with 4.
std::vector<Case> cases(bool quick);

/// The model every case trains: s = 64, h = 256, a = 4, f = 1024, L = 2, layer 1 sparse with
/// E = 8 experts (top-k: k = 2, capacity factor 1.25 per sequence; RRE: 2 domains), 8 sequences
/// per step.
inline constexpr int kSeq = 64, kExperts = 8, kTopK = 2, kSequences = 8;
inline constexpr double kCapacityFactor = 1.25;

/// The trainer config of a case (calibration/trainer/README.md), `steps` in all, the first
/// `warmup` untimed.
std::string trainer_yaml(const Case& c, int steps, int warmup);

/// The scenario of a case on node file `node`, with `routing` (routing_yaml) under model.moe.
std::string scenario_yaml(const Case& c, const std::string& node, const std::string& routing);

/// The routing of a measured run as scenario keys under model.moe: RRE gets the trainer's seed,
/// the data's domain shares and per-domain token histograms (written as files `dir/tag.domainD.hist`),
/// the learned gate the load it developed in a typical timed step.
std::string routing_yaml(const Case& c, const nlohmann::json& routing, const std::filesystem::path& dir);

/// Of per-step expert loads (choices per expert, before capacity), the step of median load on
/// the busiest of `ranks` ranks after each expert keeps at most `capacity`, and of median
/// concentration (sum of squared shares) among equal ones.
std::vector<double> typical_step(std::vector<std::vector<double>> steps, int ranks, double capacity);

}  // namespace sparsim::validation
