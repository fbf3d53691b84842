#include "sim/des/fold.hpp"

#include <numeric>

namespace sparsim::sim::des {

Fold unfolded(const Scenario& sc) { return Fold{sc.plan.dp, ""}; }

Fold fold_of(const Scenario& sc) {
  const Plan& p = sc.plan;
  const Node& node = sc.cluster.node;
  const Network& net = sc.cluster.network;
  Fold none = unfolded(sc);
  if (p.tp > node.devices || node.devices % p.tp != 0) {
    none.unfolded = "tensor parallelism spans nodes";  // des_step refuses such a plan
    return none;
  }
  const std::int64_t q = node.devices / p.tp;  // actors (replicas of one stage) per node
  if (p.dp % q != 0) {
    none.unfolded = "a node holds actors of two pipeline stages (plan.dp is not a multiple of devices / tp)";
    return none;
  }
  std::int64_t period = std::lcm(q, std::int64_t{p.ep});
  std::int64_t block = q;  // the largest unit whose edge a flow can cross: a node, or a blocking leaf
  // platform.cpp: a leaf's uplink carries nodes_per_leaf x the node's NICs / oversubscription;
  // its NIC links, nodes_per_leaf x the NICs x their efficiency
  const bool blocking = net.topology != Topology::flat && net.oversubscription * node.nic.efficiency > 1.0;
  if (blocking) {
    const std::int64_t leaf = std::int64_t{std::max(1, net.nodes_per_leaf)} * q;
    if (p.dp % leaf != 0) {
      none.unfolded =
          "a leaf of the blocking fabric holds actors of two pipeline stages (plan.dp is not a multiple of "
          "nodes_per_leaf x devices / tp)";
      return none;
    }
    period = std::lcm(period, leaf);
    block = leaf;
  }
  const std::int64_t replicas = period >= 2 * block ? period : 2 * period;
  if (p.dp % period != 0 || p.dp <= replicas) return none;
  return Fold{replicas, ""};
}

}  // namespace sparsim::sim::des
