#include "sim/des/platform.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "config/error.hpp"
#include "sim/analytic.hpp"
#include "sim/collectives.hpp"

namespace sparsim::sim::des {

namespace sg4 = simgrid::s4u;
using Dir = sg4::LinkInRoute::Direction;

std::int64_t first_device(const Scenario& sc, int actor, std::int64_t replicas) {
  const Plan& p = sc.plan;
  return p.tp * (actor / p.pp + replicas * (actor % p.pp));
}

std::int64_t first_device(const Scenario& sc, int actor) { return first_device(sc, actor, sc.plan.dp); }

std::int64_t node_of(const Scenario& sc, int actor) { return first_device(sc, actor) / sc.cluster.node.devices; }

namespace {

// Names built with append: GCC 12 reports a false -Wrestrict on "x" + std::to_string(i) + "y".
std::string label(const char* prefix, int i, const char* suffix = "") {
  std::string s(prefix);
  s.append(std::to_string(i)).append(suffix);
  return s;
}

sg4::SplitDuplexLink* duplex(sg4::NetZone* z, const std::string& name, double bw) {
  auto* l = z->create_split_duplex_link(name, bw);
  l->set_latency(0);
  l->seal();
  return l;
}

}  // namespace

Platform build_platform(sg4::Engine& e, const Scenario& sc, std::int64_t replicas) {
  // Exact fluid model: no TCP factors, no cross-traffic, no gamma cap (simgrid-3.32.md, §1).
  e.set_config("network/model:CM02");
  e.set_config("network/crosstraffic:0");
  e.set_config("network/TCP-gamma:0");
  e.set_config("maxmin/precision:1e-3");
  e.set_config("contexts/stack-size:64");

  const Plan& p = sc.plan;
  const Node& node = sc.cluster.node;
  const double t = p.tp;
  // des_step refuses a platform that would not fit in memory (footprint.hpp) long before its
  // nodes or actors outgrow an int
  SPARSIM_ASSERT(node.devices % p.tp == 0, "des: tp must divide devices per node (checked by the backend)");
  const int groups_per_node = node.devices / p.tp;
  SPARSIM_ASSERT(replicas <= p.dp && replicas * p.pp % groups_per_node == 0, "des: the replicas fill whole nodes");
  const std::int64_t simulated_nodes = replicas * p.pp / groups_per_node;  // all of them: cluster.nodes
  SPARSIM_ASSERT(simulated_nodes <= std::numeric_limits<int>::max() && replicas * p.pp <= std::numeric_limits<int>::max(),
                 "des: more nodes or actors than an int holds");
  const int nodes = static_cast<int>(simulated_nodes);
  const Network& net = sc.cluster.network;
  const int per_leaf = net.topology == Topology::flat ? nodes : std::max(1, net.nodes_per_leaf);
  const int leaves = (nodes + per_leaf - 1) / per_leaf;

  // Per-rank levels, the same the closed forms use (collectives.cpp).
  const workload::Group neighbours{2, p.tp};
  const Geometry g = geometry(sc.cluster, neighbours);
  const double nic_share = node.nic.count * node.nic.bandwidth * node.nic.efficiency / node.devices;

  auto* root = sg4::create_full_zone("fabric");
  // Links first, in the root zone (creating them inside thousands of zones is quadratic).
  std::vector<sg4::SplitDuplexLink*> uplink(leaves);
  for (int l = 0; l < leaves; ++l) {
    uplink[l] = duplex(root, label("uplink", l), per_leaf * node.nic.count * node.nic.bandwidth / net.oversubscription);
  }
  // A leaf switch's backplane: non-blocking (it carries at most every NIC of its nodes at once).
  std::vector<sg4::Link*> leaf_switch(leaves);
  for (int l = 0; l < leaves; ++l) {
    leaf_switch[l] = root->create_link(label("leaf", l), 2.0 * per_leaf * node.nic.count * node.nic.bandwidth)
                         ->set_sharing_policy(sg4::Link::SharingPolicy::FATPIPE)
                         ->set_latency(0)
                         ->seal();
  }
  const int actors = static_cast<int>(replicas * p.pp);
  // A node of several fast groups (intra_node.group_size < devices: the two HCCS rings of an
  // Ascend 910 server) joins them over the inter-group level: actors of different groups talk
  // over their cross links, as the closed forms' slowest level says.
  const bool grouped = node.intra.group_size < node.devices;
  auto group_of = [&](int a) { return first_device(sc, a, replicas) % node.devices / node.intra.group_size; };
  std::vector<sg4::SplitDuplexLink*> intra(actors), cross(actors), nic(actors), pcie(actors);
  std::vector<sg4::Link*> dram(nodes);
  for (int a = 0; a < actors; ++a) {
    intra[a] = duplex(root, label("intra", a), t * g.intra.bandwidth);
    if (grouped) cross[a] = duplex(root, label("cross", a), t * node.intra.inter_group_bandwidth * node.intra.efficiency);
    nic[a] = duplex(root, label("nic", a), t * nic_share);
    pcie[a] = duplex(root, label("pcie", a), t * pcie_share(node));
  }
  for (int n = 0; n < nodes; ++n) {
    dram[n] = root->create_link(label("dram", n), node.host.memory_bandwidth)->set_latency(0)->seal();
  }

  Platform pf;
  pf.actor_host.resize(actors);
  pf.node_of_actor.resize(actors);
  pf.cpu.resize(nodes);
  std::vector<std::vector<int>> actors_of_node(nodes);
  for (int a = 0; a < actors; ++a) {
    pf.node_of_actor[a] = static_cast<int>(first_device(sc, a, replicas) / node.devices);
    actors_of_node[pf.node_of_actor[a]].push_back(a);
  }
  // Node zones directly under a full root zone, with explicit node-to-node routes: through both
  // leaves' uplinks when the nodes hang off different leaf switches, through nothing more than the
  // NICs (inside the node zones) otherwise. (Leaf star zones with gateways failed to route in
  // SimGrid 3.32 once a node held several actor hosts.)
  std::vector<sg4::NetZone*> zone(nodes);
  std::vector<simgrid::kernel::routing::NetPoint*> gateway(nodes);
  for (int n = 0; n < nodes; ++n) {
    auto* z = sg4::create_full_zone(label("node", n));
    z->set_parent(root);
    auto* gw = z->create_router(label("node", n, "-gw"));
    auto* cpu = z->create_host(label("cpu", n), node.host.flops)->seal();
    pf.cpu[n] = cpu;
    const auto& here = actors_of_node[n];
    SPARSIM_ASSERT(static_cast<int>(here.size()) == groups_per_node, "des: every node holds devices/tp actors");
    for (int a : here) pf.actor_host[a] = z->create_host(label("a", a), pf.device_speed)->seal();
    for (int a : here) {
      auto* h = pf.actor_host[a]->get_netpoint();
      for (int b : here) {
        if (a == b) continue;
        const bool apart = grouped && group_of(a) != group_of(b);
        z->add_route(h, pf.actor_host[b]->get_netpoint(), nullptr, nullptr,
                     {{(apart ? cross : intra)[a], Dir::UP}, {(apart ? cross : intra)[b], Dir::DOWN}}, false);
      }
      z->add_route(h, gw, nullptr, nullptr, {{nic[a], Dir::UP}}, false);
      z->add_route(gw, h, nullptr, nullptr, {{nic[a], Dir::DOWN}}, false);
      z->add_route(h, cpu->get_netpoint(), nullptr, nullptr, {{pcie[a], Dir::UP}, sg4::LinkInRoute(dram[n])}, false);
      z->add_route(cpu->get_netpoint(), h, nullptr, nullptr, {sg4::LinkInRoute(dram[n]), {pcie[a], Dir::DOWN}}, false);
    }
    z->seal();
    zone[n] = z;
    gateway[n] = gw;
  }
  for (int a = 0; a < nodes; ++a) {
    for (int b = 0; b < nodes; ++b) {
      if (a == b) continue;
      const int la = a / per_leaf, lb = b / per_leaf;
      std::vector<sg4::LinkInRoute> links;
      if (la != lb) links = {{uplink[la], Dir::UP}, {uplink[lb], Dir::DOWN}};
      else links = {sg4::LinkInRoute(leaf_switch[la])};
      root->add_route(zone[a]->get_netpoint(), zone[b]->get_netpoint(), gateway[a], gateway[b], links, false);
    }
  }
  root->seal();
  return pf;
}

}  // namespace sparsim::sim::des
