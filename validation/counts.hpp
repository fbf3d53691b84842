// The exact half of validate: what the reference trainer computed and moved in each timed step
// (trainer::StepCounts, in its routing JSON's counts_per_step) against what the simulator counts
// for the same scenario and the same routing (sim::step_counts). GEMM FLOPs, expert GEMM FLOPs,
// h2d / d2h bytes, all-to-all bytes sent and gradient all-reduce bytes must be equal: a model
// that charges an op the trainer does not run (or misses one) fails here on any machine.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "workload/sparse.hpp"

namespace sparsim::validation {

struct CountMismatch {
  std::size_t step = 0;  ///< index among the timed steps
  std::string what;      ///< gemm_flops, expert_gemm_flops, h2d_bytes, d2h_bytes, ep_bytes, dp_bytes
  double trainer = 0, simulator = 0;
};

/// The routing of one trainer step on rank 0 (its counts_per_step entry's "layers") as the
/// simulator's traffic: rank 0's tokens per local expert and its row and column of the dispatch
/// matrix (rows of h elements of the scenario's precision); other ranks' entries are zero.
std::vector<workload::SparseLayerTraffic> step_traffic(const Scenario& sc, const nlohmann::json& step);

/// Every timed step of a run (`routing`: the trainer's routing JSON) against sim::step_counts
/// for rank 0 on `sc`. Empty when all agree; a run without counts_per_step is one mismatch.
std::vector<CountMismatch> check_counts(const Scenario& sc, const nlohmann::json& routing);

}  // namespace sparsim::validation
