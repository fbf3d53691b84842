// The result of one simulated (or measured) training step: the result JSON of DESIGN.md
// (contract), a readable table and CSV.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/counts.hpp"
#include "workload/memory.hpp"
#include "workload/verdict.hpp"

namespace sparsim::sim {

/// Where the time of one step goes, in seconds. Each term is time on the critical path, so the
/// terms add up to the step time.
struct Breakdown {
  double compute = 0;          ///< forward, backward and recomputation on the critical stage
  double tp = 0, pp = 0, dp = 0, ep = 0;  ///< exposed communication per parallel dimension
  double pipeline_bubble = 0;
  double h2d = 0, d2h = 0;     ///< exposed host<->device copies
  double host_optimizer = 0;   ///< exposed optimizer time on the host CPU
  double optimizer = 0;        ///< optimizer step on the device
  double total() const {
    return compute + tp + pp + dp + ep + pipeline_bubble + h2d + d2h + host_optimizer + optimizer;
  }
};

struct StepResult {
  std::string scenario;
  std::string backend;  ///< analytic | des | measured
  bool feasible = true;
  std::vector<std::string> infeasible;  ///< why the plan cannot run
  std::vector<std::string> warnings;
  double step_time = 0;        ///< s
  double tokens_per_s = 0;
  double tflops_per_device = 0;  ///< hardware FLOP/s per device (with recomputation), in TFLOP/s
  double mfu = 0;                ///< model FLOPs (no recomputation) / (devices * peak)
  double params_total = 0;
  double params_active = 0;    ///< per token
  std::int64_t devices = 0;        ///< up to kMaxCount
  std::int64_t micro_batches = 0;  ///< per pipeline per step
  double model_flops = 0;      ///< per step, fwd + bwd, no recomputation
  double hardware_flops = 0;   ///< per step, with recomputation
  Breakdown breakdown;
  workload::MemoryLedger memory;
  StepCounts counts;           ///< one device of the busiest stage, one step (absent in old JSON: zeros)
};

/// runs | does not fit (device or host) | infeasible plan, with why (workload/verdict.hpp).
workload::Verdict verdict(const StepResult& r);

/// The JSON writes the verdict beside `feasible` and `memory.fits`: "verdict": "runs" |
/// "does-not-fit" | "infeasible", "verdict_reason": "" | "device 40.9 of 32.0 GiB" | ...
nlohmann::json to_json(const StepResult& r);
/// Reads back what to_json wrote (results computed in a child process come back as JSON).
StepResult from_json(const nlohmann::json& j);
std::string to_table(const StepResult& r);
std::string csv_header();
std::string to_csv_row(const StepResult& r);

}  // namespace sparsim::sim
