// A result's one answer to "does this plan run on this cluster?" (DESIGN.md: the `verdict`
// beside `feasible` and `memory.fits`): it runs, it does not fit in device or host memory, or
// the plan is infeasible (degrees that do not divide, devices that do not multiply out, ...).
// Results write it (sim/result.hpp); reports read it back, or derive it from older results.
#pragma once

#include <string>
#include <vector>

#include "config/enums.hpp"

namespace sparsim::workload {

enum class VerdictKind { runs, does_not_fit, infeasible };

/// Memory against capacity, what a memory verdict needs.
struct MemoryFit {
  double device_peak = 0, device_capacity = 0;  ///< bytes per device
  double host = 0, host_capacity = 0;           ///< bytes per node's host DRAM
  bool device_fits() const { return device_peak <= device_capacity; }
  bool host_fits() const { return host <= host_capacity; }
};

struct Verdict {
  VerdictKind kind = VerdictKind::runs;
  /// Why not, for a person: empty when it runs; "device 40.9 of 32.0 GiB" and/or "host 2100.3
  /// of 1862.6 GiB per node" (joined by "; "); the plan's infeasibilities joined by "; ".
  std::string reason;

  /// The JSON word: "runs", "does-not-fit", "infeasible" (names<VerdictKind>()).
  const char* word() const;
  /// For tables: "runs", "does not fit (device 40.9 of 32.0 GiB)", "infeasible plan (...)".
  std::string text() const;
};

/// Infeasible first (an infeasible plan has no memory to fit), then memory: device, host.
Verdict verdict_of(bool feasible, const std::vector<std::string>& infeasible, const MemoryFit& m);

}  // namespace sparsim::workload

namespace sparsim {
template <>
const Names<workload::VerdictKind>& names<workload::VerdictKind>();
}  // namespace sparsim
