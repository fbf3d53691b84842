// Alpha-beta costs of collectives on the two-level topology (inside a node, across nodes).
// One cost function per algorithm, shared by the analytic backend and the tests (and the oracle
// of the discrete-event backend on an idle network). Sizes in bytes, times in seconds.
#pragma once

#include <cstdint>

#include "config/scenario.hpp"
#include "workload/layout.hpp"

namespace sparsim::sim {

struct Level {
  double bandwidth = 0;  ///< bytes/s per rank per direction
  double latency = 0;    ///< s per message
};

/// How a group of ranks maps onto the machine.
struct Geometry {
  std::int64_t size = 1;  ///< p ranks (a data-parallel group grows with the cluster)
  int per_node = 1;       ///< ranks of the group inside one node
  Level intra;            ///< between ranks of the group inside a node
  Level inter;            ///< between nodes: the rank's share of the node's NICs
  std::int64_t nodes() const { return size / per_node; }
};

Geometry geometry(const Cluster& c, const workload::Group& g);

/// The level that paces a flat algorithm over the group: the slower of the two levels when the
/// group has ranks inside and across nodes (bandwidth min, latency max).
Level slowest_level(const Geometry& g);

/// The level that paces a ring over the group: inside a node its links; across nodes the ring's
/// node-crossing hop, whose traffic NCCL spreads over the node's NICs (one channel per NIC, so
/// the rings of a node's per_node ranks cross on per_node NIC shares): bandwidth
/// min(intra, per_node x the rank's NIC share), latency the slower one.
Level ring_level(const Geometry& g);

/// Ring all-reduce of `bytes` over p ranks on ring_level: 2(p-1)/p * S/B + 2(p-1) * a.
double ring_all_reduce(const Geometry& g, double bytes);
/// Reduce-scatter intra-node, ring all-reduce of S/n_local across nodes, all-gather intra-node.
double hierarchical_all_reduce(const Geometry& g, double bytes);
/// Pipelined (double) binary tree: 2 * S/B + 2 * ceil(log2 p) * a.
double tree_all_reduce(const Geometry& g, double bytes);
double all_reduce(CollectiveAlgo algo, const Geometry& g, double bytes);
/// Ring all-gather (or reduce-scatter) where `bytes` is the full gathered size, on ring_level:
/// (p-1)/p * S/B + (p-1) * a.
double all_gather(const Geometry& g, double bytes);
/// Pairwise all-to-all: p-1 rounds whose largest messages add up to `bytes` (uneven all-to-all,
/// workload::SparseLayerTraffic::pairwise_bytes): (p-1) * a + S/B on the slowest level the
/// group spans.
double all_to_all(const Geometry& g, double bytes);
/// Hierarchical all-to-all, intra-node first (plan.collectives.ep: hierarchical;
/// workload::SparseLayerTraffic::per_node): per_node - 1 rounds on the node's links carrying
/// `intra_bytes`, then nodes - 1 rounds between nodes carrying `inter_bytes`:
///   (L-1) a_intra + intra/B_intra + (N-1) a_inter + inter/B_inter.
/// Fewer, larger messages cross the network, and what stays inside a node moves at its rate.
double hierarchical_all_to_all(const Geometry& g, double intra_bytes, double inter_bytes);
/// One message of `bytes` over one link level: a + S/B.
double p2p(const Level& l, double bytes);
/// The level a point-to-point message between neighbours of group `g` crosses.
Level neighbour_level(const Cluster& c, const workload::Group& g);

}  // namespace sparsim::sim
