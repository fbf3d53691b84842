#include "sim/des/footprint.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "workload/footprint.hpp"
#include "workload/layout.hpp"
#include "workload/memory.hpp"

namespace sparsim::sim::des {

Footprint footprint(const Scenario& sc, const Fold& fold, const FootprintConstants& k) {
  const Plan& p = sc.plan;
  const workload::Layout l = workload::layout_of(sc);
  Footprint f;
  const double r = double(fold.replicas), pp = p.pp, v = p.virtual_stages, m = double(l.micro_batches);
  f.nodes = double(sc.cluster.nodes) * r / double(p.dp);  // the replicas fill whole nodes (fold.hpp)
  f.actors = r * pp;
  // Platform (platform.cpp): a full root zone with a route between every two nodes; in each node
  // g = devices / tp actor hosts, a route between every two of them and four to the gateway
  // and the CPU each (g (g - 1) + 4 g = g (g + 3)).
  const double g = double(sc.cluster.node.devices / std::max(1, p.tp));
  f.routes = f.nodes * (f.nodes - 1) + f.nodes * g * (g + 3);
  // Step graph (graph.cpp): per actor a forward and a backward per micro-batch and chunk; per
  // replica a p2p each way across each of the pp v - 1 chunk boundaries per micro-batch; per
  // actor the gradient buckets and at most five ops after them (expert all-reduce, d2h, host
  // Adam, h2d, device Adam).
  const double compute = f.actors * 2 * m * v;
  const double p2p = p.pp > 1 ? r * m * 2 * (pp * v - 1) : 0.0;
  double buckets = 0;
  if (p.dp > 1) {
    const double grads = workload::device_params(sc, l).dense * workload::param_bytes(sc.training.precision).grad;
    buckets = f.actors * (p.overlap_dp ? std::max(1.0, std::ceil(grads / p.bucket)) : 1.0);
  }
  f.ops = compute + p2p + buckets + 5 * f.actors;
  // A compute op of a chunk with sparse layers is cut into pieces: per sparse layer its compute
  // parts and up to four all-to-alls (full recomputation), plus one.
  if (sc.model.moe) {
    const double sparse_per_chunk = std::ceil(double(sc.model.moe->layers.size()) / (pp * v));
    f.segments = compute * (6 * sparse_per_chunk + 1);
  }
  f.routing = workload::sparse_traffic_bytes(sc);
  f.bytes = k.base + k.route * f.routes + k.actor * f.actors + k.op * f.ops + k.segment * f.segments + f.routing;
  return f;
}

void require_fits(const Scenario& sc, const Fold& fold) {
  const Footprint f = footprint(sc, fold);
  std::string kept = fold.replicas == sc.plan.dp ? std::string("every replica simulated")
                                                 : fmt::format("{} of {} replicas simulated", fold.replicas, sc.plan.dp);
  if (!fold.unfolded.empty()) kept += ": " + fold.unfolded;
  workload::require_memory(sc, "cluster.nodes",
                           fmt::format("the des backend ({}; {:.4g} nodes with {:.4g} routes between "
                                       "them, {:.4g} actors, {:.4g} step-graph ops)",
                                       kept, f.nodes, f.routes, f.actors, f.ops),
                           f.bytes, "use --backend analytic, or fewer nodes");
}

}  // namespace sparsim::sim::des
