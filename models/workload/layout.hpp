// Where the ranks of a plan live and whether the plan is possible at all.
// Rank order (Megatron-LM): tensor-parallel ranks are adjacent, then data-parallel (expert-
// parallel groups are consecutive data-parallel ranks), then pipeline stages:
//   rank = tp_rank + t * (dp_rank + d * pp_rank)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/scenario.hpp"

namespace sparsim::workload {

/// A communication group: `size` ranks `stride` apart in the rank order (data-parallel groups
/// and the pipeline's stride grow with the cluster: 64-bit).
struct Group {
  std::int64_t size = 1;
  std::int64_t stride = 1;
};

struct Layout {
  Group tp, dp, pp, ep;
  std::int64_t micro_batches = 0;  ///< m per pipeline per step
  int layers_per_stage = 0;  ///< per model chunk: L / (p * v)
};

Layout layout_of(const Scenario& sc);

/// Reasons the plan cannot run (empty when it can): degrees that do not divide, devices that
/// do not multiply out. Memory is checked separately (memory.hpp).
std::vector<std::string> infeasibility(const Scenario& sc);

/// Whether plan.overlap_ep pairs passes: on a model with sparse layers (a dense model has no
/// all-to-all to overlap and ignores it, with a warning). Both backends and the memory ledger ask.
bool overlaps_ep(const Scenario& sc);

/// Advice that does not make the plan impossible (e.g. TP crossing nodes). `l`: layout_of(sc)
/// (defined for any plan the loader accepts, possible or not).
std::vector<std::string> plan_warnings(const Scenario& sc, const Layout& l);

}  // namespace sparsim::workload
