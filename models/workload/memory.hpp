// Memory per device and per host (bytes) for a plan: parameters, gradients, mixed-precision
// Adam state, activations (Korthikanti et al. 2022, with and without recomputation and sequence
// parallelism), ZeRO stages 0-3 and the placement of optimizer state.
#pragma once

#include "config/scenario.hpp"

namespace sparsim::workload {

/// Parameters held by the busiest device (first or last pipeline stage), before ZeRO.
struct DeviceParams {
  double dense = 0;    ///< replicated across data parallel ranks
  double experts = 0;  ///< expert FFNs held by this device (E/ep per sparse layer, split by t)
  double total() const { return dense + experts; }
};

DeviceParams device_params(const Scenario& sc);

struct MemoryLedger {
  double params = 0, grads = 0, optimizer = 0, activations = 0, buffers = 0;  ///< device bytes
  double device_capacity = 0;
  double host = 0;           ///< bytes used in one node's host DRAM
  double host_capacity = 0;
  double device_peak() const { return params + grads + optimizer + activations + buffers; }
  bool fits() const { return device_peak() <= device_capacity && host <= host_capacity; }
};

/// Activation bytes one layer keeps for backward, per micro-batch, on one device.
double layer_activation_bytes(const Scenario& sc, bool sparse_layer);

MemoryLedger memory(const Scenario& sc);

/// Bytes per parameter of weights, gradients and optimizer state (Adam: fp32 master, m, v).
struct ParamBytes {
  double weight = 2, grad = 2, optimizer = 12;
};
ParamBytes param_bytes(Precision p);

}  // namespace sparsim::workload
