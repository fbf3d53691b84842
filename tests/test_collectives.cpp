#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "sim/collectives.hpp"

using namespace sparsim;
using sim::geometry;

// tests/data/node.yaml: 4 devices in HCCS-like groups of 2 (100 GB/s, 1 us inside a group,
// 25 GB/s, 4 us between groups); 2 NICs of 80 Gbps per node -> 2 * 10 GB/s / 4 devices = 5 GB/s
// per device; NIC latency 3 us + one switch hop of 1 us = 4 us across nodes.
TEST_CASE("collectives: alpha-beta closed forms on the two-level topology", "[collectives]") {
  const Scenario s = config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny.yaml").scenario;
  const Cluster& c = s.cluster;
  const double S = 1e8;

  // Two ranks inside one group: 2(p-1)/p S/B + 2(p-1)a = 1e8/1e11 + 2e-6
  const auto pair = geometry(c, {2, 1});
  REQUIRE(pair.per_node == 2);
  REQUIRE(sim::ring_all_reduce(pair, S) == Approx(1e-3 + 2e-6).epsilon(1e-12));

  // Four ranks of one node span both groups: the ring runs at 25 GB/s, 4 us:
  // 2*3/4 * 1e8/25e9 + 6 * 4e-6
  const auto node = geometry(c, {4, 1});
  REQUIRE(sim::ring_all_reduce(node, S) == Approx(6e-3 + 24e-6).epsilon(1e-12));

  // Two ranks on two nodes (stride 4): 1e8/5e9 + 2 * 4e-6
  const auto across = geometry(c, {2, 4});
  REQUIRE(across.per_node == 1);
  REQUIRE(sim::ring_all_reduce(across, S) == Approx(0.02 + 8e-6).epsilon(1e-12));

  // Hierarchical over 8 ranks (4 per node, 2 nodes): reduce-scatter and all-gather inside the
  // node, 3/4 * 1e8/25e9 + 3 * 4e-6 each; across nodes 2 * 1/2 * (1e8/4)/5e9 + 2 * 4e-6.
  const auto all = geometry(c, {8, 1});
  REQUIRE(sim::hierarchical_all_reduce(all, S) == Approx(2 * (3e-3 + 12e-6) + 5e-3 + 8e-6).epsilon(1e-12));
  // The flat ring over the same 8 ranks (ring_level): inside a node 25 GB/s; the node-crossing
  // hop on the node's 4 NIC shares, 4 x 5 GB/s = 20 GB/s (NCCL's rings cross on every NIC);
  // latency the slower 4 us: 2*7/8 * 1e8/20e9 + 14 * 4e-6
  REQUIRE(sim::ring_all_reduce(all, S) == Approx(0.00875 + 56e-6).epsilon(1e-12));
  // Tree: 2 S/B + 2 ceil(log2 8) a = 0.04 + 24e-6
  REQUIRE(sim::tree_all_reduce(all, S) == Approx(0.04 + 24e-6).epsilon(1e-12));
  // All-gather of the full 1e8 bytes over 8, on the same ring: 7/8 * 1e8/20e9 + 7 * 4e-6
  REQUIRE(sim::all_gather(all, S) == Approx(0.004375 + 28e-6).epsilon(1e-12));
  // One rank: nothing to do.
  REQUIRE(sim::ring_all_reduce(geometry(c, {1, 1}), S) == 0.0);
}

TEST_CASE("collectives: a group spread over more leaves pays three switch hops", "[collectives]") {
  // 8 nodes, 2 per leaf: a group with one rank per node spans 4 leaves -> 3 hops of 1 us plus
  // the NIC's 3 us = 6 us per message.
  const Scenario s = config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny.yaml",
                                           {"cluster.nodes=8", "cluster.network.nodes_per_leaf=2"})
                         .scenario;
  const auto g = geometry(s.cluster, {8, 4});
  REQUIRE(g.inter.latency == Approx(6e-6).epsilon(1e-12));
  const auto near = geometry(s.cluster, {2, 4});
  REQUIRE(near.inter.latency == Approx(4e-6).epsilon(1e-12));
}
