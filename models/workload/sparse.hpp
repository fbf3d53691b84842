// What the router does to one sparse layer of a scenario, per micro-batch: tokens per expert on
// every expert-parallel rank, the busiest rank (it sets the pace of the expert GEMMs), the uneven
// all-to-all bytes of dispatch (and, transposed, combine), and the experts a step activates.
// Symbols: T = b*s tokens per micro-batch per rank, E experts, ep expert-parallel ranks, h, eb.
#pragma once

#include <vector>

#include "config/scenario.hpp"
#include "workload/layout.hpp"

namespace sparsim::workload {

struct SparseLayerTraffic {
  int layer = 0;
  double mean_rank_tokens = 0;   ///< token-expert assignments per rank, averaged over ranks
  double busiest_rank_tokens = 0;  ///< the same on the busiest rank
  double dropped_fraction = 0;   ///< tokens over capacity (learned gates)
  double a2a_bytes = 0;          ///< max over ranks of bytes sent or received by one rank (all t devices), network only
  std::vector<std::vector<double>> dispatch;  ///< [src][dst] bytes per rank (t devices together)
  /// Pairwise all-to-all (G-1 rounds; in round k rank r sends to r+k of its group): sum over
  /// rounds of the largest message of the round, max over groups. The bytes a rank's link
  /// carries on the critical path; equals a2a_bytes for a balanced exchange. Combine (the
  /// transpose) has the same rounds in reverse order.
  double pairwise_bytes = 0;
  /// The hierarchical all-to-all (plan.collectives.ep: hierarchical, intra-node first): `per_node`
  /// ranks of a group share a node (1: the plan's all-to-all is pairwise, one rank per node, or
  /// the group inside one node: it stays pairwise).
  /// Phase 1, inside the node: rank (n, i) sends rank (n, j) what it has for every node's rank of
  /// local index j, in per_node - 1 pairwise rounds; phase 2, between nodes: rank (n, j) sends
  /// rank (m, j) what its node has for (m, j), in nodes - 1 rounds. Each: the sum over rounds of
  /// the round's largest message, max over groups, as pairwise_bytes.
  int per_node = 1;
  double intra_phase_bytes = 0, inter_phase_bytes = 0;
  int group = 1;                 ///< ranks of one all-to-all (ep; ep / D for grouped RRE)
  double activated_experts = 0;  ///< experts of the busiest rank that receive >= 1 token in a step
  int local_experts = 0;         ///< E / ep
  std::vector<double> busiest_expert_tokens;  ///< per micro-batch, each local expert of the busiest rank
  /// per micro-batch, each local expert of every rank: [rank][local expert] (ranks that
  /// time-share cores finish their experts at different times, see sim::shared_makespan)
  std::vector<std::vector<double>> rank_expert_tokens;
  /// [k]: device_experts(*this, -1, 2^k).tokens for every power of two 2^k up to a node's
  /// devices that divides local_experts (the busiest sub-group under plan.etp = tp / 2^k; [0]
  /// the busiest rank's)
  std::vector<double> busiest_group_tokens;
};

/// The experts one device computes for one micro-batch under expert tensor parallelism
/// (plan.etp): an expert-parallel rank's tp devices split its local experts into `groups` = tp /
/// etp sub-groups of consecutive experts, each expert over the etp devices of its sub-group.
/// `rank` < 0: the busiest sub-group of any rank (it paces the step). With one group, the
/// rank's experts (rank < 0: the busiest rank's).
struct DeviceExperts {
  double tokens = 0;               ///< token-expert assignments of the sub-group
  int experts = 0;                 ///< its experts
  std::vector<double> expert_tokens;  ///< each of its experts'
};
DeviceExperts device_experts(const SparseLayerTraffic& tr, int rank, int groups);
/// device_experts(tr, -1, groups).tokens, from tr.busiest_group_tokens when it has them.
double busiest_group_tokens(const SparseLayerTraffic& tr, int groups);

/// What RRE and hash routing take from the model alone: each sparse layer's level-2 table (drawn
/// per layer) folded with the token-ID histograms (routing::rre_local_shares), in the order of
/// model.moe.layers; empty for a learned gate. It does not depend on the plan, so a plan search
/// builds it once (the tables' shuffles over the vocabulary, and histogram files read once) and
/// passes it to every sparse_traffic call.
struct RouterShares {
  std::vector<std::vector<std::vector<double>>> per_layer;
};
RouterShares router_shares(const Scenario& sc);

/// One entry per sparse layer (in the order of model.moe.layers), for layout `l` = layout_of(sc).
/// Throws InputError when a token histogram file is bad.
/// `shares`: router_shares(sc) of a scenario with the same model (null: built here).
std::vector<SparseLayerTraffic> sparse_traffic(const Scenario& sc, const Layout& l, const RouterShares* shares = nullptr);

}  // namespace sparsim::workload
