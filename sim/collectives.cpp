#include "sim/collectives.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "config/error.hpp"

namespace sparsim::sim {

Level slowest_level(const Geometry& g) {
  if (g.nodes() > 1 && g.per_node > 1) {
    return Level{std::min(g.intra.bandwidth, g.inter.bandwidth), std::max(g.intra.latency, g.inter.latency)};
  }
  return g.nodes() > 1 ? g.inter : g.intra;
}

Level ring_level(const Geometry& g) {
  if (g.nodes() > 1 && g.per_node > 1)
    return Level{std::min(g.intra.bandwidth, g.per_node * g.inter.bandwidth), std::max(g.intra.latency, g.inter.latency)};
  return slowest_level(g);
}

namespace {

// One node's inter-node level: each rank gets its share of the node's NICs (all ranks of the
// node communicate at once in a symmetric plan); latency = NIC + switch hops.
Level inter_level(const Cluster& c, std::int64_t nodes_spanned) {
  const Node& n = c.node;
  const double share = n.nic.count * n.nic.bandwidth * n.nic.efficiency / n.devices;
  const int hops = (c.network.topology == Topology::flat || nodes_spanned <= c.network.nodes_per_leaf) ? 1 : 3;
  return Level{share, n.nic.latency + hops * c.network.latency};
}

Level intra_level(const Node& n, std::int64_t span) {
  // transfers run at the achievable fraction of the links' rate (intra_node.efficiency)
  if (span <= n.intra.group_size) return Level{n.intra.bandwidth * n.intra.efficiency, n.intra.latency};
  return Level{n.intra.inter_group_bandwidth * n.intra.efficiency, n.intra.inter_group_latency};
}

}  // namespace

Geometry geometry(const Cluster& c, const workload::Group& grp) {
  const int dpn = c.node.devices;
  Geometry g;
  g.size = grp.size;
  // (a stride below dpn: per_node <= dpn, an int)
  g.per_node = grp.stride >= dpn ? 1 : static_cast<int>(std::min<std::int64_t>(grp.size, dpn / grp.stride));
  g.per_node = std::max(1, g.per_node);
  // Local indices of the group inside a node are 0, stride, 2*stride...: their span decides
  // whether traffic stays inside one fast group (NVSwitch, one HCCS ring of 4).
  const std::int64_t span = (g.per_node - 1) * grp.stride + 1;
  g.intra = intra_level(c.node, span);
  const std::int64_t node_stride = std::max<std::int64_t>(1, grp.stride / dpn);
  const std::int64_t nodes = g.size / g.per_node;
  g.inter = inter_level(c, (nodes - 1) * node_stride + 1);
  return g;
}

double ring_all_reduce(const Geometry& g, double bytes) {
  const double p = g.size;
  if (p <= 1) return 0.0;
  const Level l = ring_level(g);
  return 2 * (p - 1) / p * bytes / l.bandwidth + 2 * (p - 1) * l.latency;
}

double all_gather(const Geometry& g, double bytes) {
  const double p = g.size;
  if (p <= 1) return 0.0;
  const Level l = ring_level(g);
  return (p - 1) / p * bytes / l.bandwidth + (p - 1) * l.latency;
}

double hierarchical_all_reduce(const Geometry& g, double bytes) {
  if (g.size <= 1) return 0.0;
  const double n = g.per_node, k = g.nodes();
  if (n == 1 || k == 1) return ring_all_reduce(g, bytes);
  // reduce-scatter and all-gather inside the node: (n-1)/n * S/B_intra + (n-1) a_intra each
  const double intra = (n - 1) / n * bytes / g.intra.bandwidth + (n - 1) * g.intra.latency;
  // n parallel rings across nodes, each on S/n bytes
  const double inter = 2 * (k - 1) / k * (bytes / n) / g.inter.bandwidth + 2 * (k - 1) * g.inter.latency;
  return 2 * intra + inter;
}

double tree_all_reduce(const Geometry& g, double bytes) {
  if (g.size <= 1) return 0.0;
  const Level l = slowest_level(g);
  return 2 * bytes / l.bandwidth + 2 * std::ceil(std::log2(double(g.size))) * l.latency;
}

double all_reduce(CollectiveAlgo algo, const Geometry& g, double bytes) {
  switch (algo) {
    case CollectiveAlgo::ring: return ring_all_reduce(g, bytes);
    case CollectiveAlgo::hierarchical_ring: return hierarchical_all_reduce(g, bytes);
    case CollectiveAlgo::tree: return tree_all_reduce(g, bytes);
    default: break;
  }
  SPARSIM_UNREACHABLE(std::string("not an all-reduce algorithm: ") + to_string(algo));
}

double all_to_all(const Geometry& g, double bytes) {
  if (g.size <= 1) return 0.0;
  const Level l = slowest_level(g);
  return (g.size - 1) * l.latency + bytes / l.bandwidth;
}

double hierarchical_all_to_all(const Geometry& g, double intra_bytes, double inter_bytes) {
  if (g.size <= 1) return 0.0;
  return (g.per_node - 1) * g.intra.latency + intra_bytes / g.intra.bandwidth + double(g.nodes() - 1) * g.inter.latency +
         inter_bytes / g.inter.bandwidth;
}

double p2p(const Level& l, double bytes) { return l.latency + bytes / l.bandwidth; }

Level neighbour_level(const Cluster& c, const workload::Group& grp) {
  const int dpn = c.node.devices;
  if (grp.stride >= dpn) return inter_level(c, 2);
  return intra_level(c.node, grp.stride + 1);
}

}  // namespace sparsim::sim
