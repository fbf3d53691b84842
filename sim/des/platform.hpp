// The SimGrid platform of a scenario (SimGrid 3.32 S4U; every SimGrid call of sparsim lives in
// sim/des/ so a later port touches only this folder). One host per pipeline-stage actor (a
// tensor-parallel group of t devices) and per node CPU. Links carry the group's aggregate:
//   intra_a  (split-duplex) t x the intra-node level between neighbouring groups
//   cross_a  (split-duplex) t x intra_node.inter_group_bandwidth, between actors of a node's
//            different fast groups (only when group_size < devices)
//   nic_a    (split-duplex) t x the device's share of the node's NICs (GPUDirect, per rail)
//   pcie_a   (split-duplex) t x the device's PCIe share; dram (shared) the host's DRAM bandwidth
//   uplink_l (split-duplex) leaf uplink: nodes_per_leaf x node NIC bandwidth / oversubscription
// All link latencies are 0: latency is charged by the backend with the same alpha terms as the
// closed forms, so flows share bottlenecks equally (max-min), see shared/notes/simgrid-3.32.md.
#pragma once

#include <simgrid/s4u.hpp>
#include <cstdint>
#include <vector>

#include "config/scenario.hpp"

namespace sparsim::sim::des {

struct Platform {
  std::vector<simgrid::s4u::Host*> actor_host;  ///< per actor a = d * pp + s
  std::vector<simgrid::s4u::Host*> cpu;         ///< per node
  std::vector<int> node_of_actor;
  double device_speed = 1e12;                    ///< FLOP/s of an actor host (ops are timed)
};

/// Sets SimGrid's configuration (exact fluid model) and builds the platform of the first
/// `replicas` data-parallel replicas (fold.hpp: plan.dp for all of them): their replicas x pp
/// actors on replicas x pp / (devices / tp) nodes. Call once per process, on a fresh engine.
Platform build_platform(simgrid::s4u::Engine& e, const Scenario& sc, std::int64_t replicas);

/// Node of actor a in the full cluster: the node of its first device.
std::int64_t node_of(const Scenario& sc, int actor);
/// Rank of actor a's first device in a run of `replicas` replicas: t * (d + replicas * s) for
/// replica d = a / pp, stage s = a % pp; in the full cluster replicas = plan.dp.
std::int64_t first_device(const Scenario& sc, int actor, std::int64_t replicas);
std::int64_t first_device(const Scenario& sc, int actor);

}  // namespace sparsim::sim::des
