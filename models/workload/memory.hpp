// Memory per device and per host (bytes) for a plan: parameters, gradients, mixed-precision
// Adam state, activations (Korthikanti et al. 2022, with and without recomputation and sequence
// parallelism), ZeRO stages 0-3 and the placement of optimizer state.
#pragma once

#include <vector>

#include "config/scenario.hpp"
#include "workload/layout.hpp"
#include "workload/params.hpp"
#include "workload/sparse.hpp"
#include "workload/verdict.hpp"

namespace sparsim::workload {

/// Parameters held by the busiest device (first or last pipeline stage), before ZeRO.
struct DeviceParams {
  double dense = 0;    ///< replicated across data parallel ranks
  double experts = 0;  ///< expert FFNs held by this device (E/ep per sparse layer, split by t)
  double total() const { return dense + experts; }
};

/// `l`: layout_of(sc).
DeviceParams device_params(const Scenario& sc, const Layout& l);

struct MemoryLedger {
  double params = 0, grads = 0, optimizer = 0, activations = 0, buffers = 0;  ///< device bytes
  double device_capacity = 0;
  double host = 0;           ///< bytes used in one node's host DRAM
  double host_capacity = 0;
  double device_peak() const { return params + grads + optimizer + activations + buffers; }
  MemoryFit fit() const { return {device_peak(), device_capacity, host, host_capacity}; }
  bool fits() const { return fit().device_fits() && fit().host_fits(); }
};

/// Activation bytes one layer keeps for backward, per micro-batch, on one device.
double layer_activation_bytes(const Scenario& sc, bool sparse_layer, double expert_tokens = -1);

/// Expert parameters of one device that a step activates (ECSS moves and updates only these):
/// per sparse layer of the busiest stage, activated experts of the busiest rank x expert / t.
/// With `ep_rank` >= 0: those of that expert-parallel rank, an expert being activated when its
/// tokens over the step's micro-batches (SparseLayerTraffic::rank_expert_tokens) reach one.
/// An assumed model.moe.activated replaces the count: d.experts x that fraction.
/// `l`: layout_of(sc); `d`: device_params(sc, l).
double activated_expert_params(const Scenario& sc, const Layout& l, const DeviceParams& d,
                               const std::vector<SparseLayerTraffic>& traffic, int ep_rank = -1);

/// `l`: layout_of(sc); `traffic`: the sparse_traffic() of the scenario when already computed (else
/// computed here).
MemoryLedger memory(const Scenario& sc, const Layout& l, const std::vector<SparseLayerTraffic>* traffic = nullptr);

/// Bytes per parameter of weights, gradients and optimizer state (Adam: fp32 master, m, v).
struct ParamBytes {
  double weight = 2, grad = 2, optimizer = 12;
};
ParamBytes param_bytes(Precision p);

/// Bytes per parameter of the data-parallel gradient reduction: plan.grad_reduce's precision, else
/// the training precision's gradient.
double grad_reduce_bytes(const Scenario& sc);

/// Parameters of one ZeRO-3 / FSDP unit of a layer on one device before sharding over data
/// parallelism: a dense layer, or a sparse layer's dense part with its E/ep experts; split by tp.
/// `c`: count_params(sc.model).
double zero3_unit_params(const Scenario& sc, const ParamCount& c, bool sparse_layer);

}  // namespace sparsim::workload
