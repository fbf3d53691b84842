#include "sim/des/platform.hpp"

#include <algorithm>
#include <string>

#include "config/error.hpp"
#include "sim/analytic.hpp"
#include "sim/collectives.hpp"

namespace sparsim::sim::des {

namespace sg4 = simgrid::s4u;
using Dir = sg4::LinkInRoute::Direction;

int node_of(const Scenario& sc, int actor) {
  const Plan& p = sc.plan;
  const int d = actor / p.pp, s = actor % p.pp;
  return p.tp * (d + p.dp * s) / sc.cluster.node.devices;
}

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

Platform build_platform(sg4::Engine& e, const Scenario& sc) {
  // Exact fluid model: no TCP factors, no cross-traffic, no gamma cap (simgrid-3.32.md, §1).
  e.set_config("network/model:CM02");
  e.set_config("network/crosstraffic:0");
  e.set_config("network/TCP-gamma:0");
  e.set_config("maxmin/precision:1e-3");
  e.set_config("contexts/stack-size:64");

  const Plan& p = sc.plan;
  const Node& node = sc.cluster.node;
  const double t = p.tp;
  const int nodes = sc.cluster.nodes;
  const int groups_per_node = node.devices / p.tp;
  SPARSIM_ASSERT(node.devices % p.tp == 0, "des: tp must divide devices per node (checked by the backend)");
  const Network& net = sc.cluster.network;
  const int per_leaf = net.topology == Topology::flat ? nodes : std::max(1, net.nodes_per_leaf);
  const int leaves = (nodes + per_leaf - 1) / per_leaf;

  // Per-rank levels, the same the closed forms use (collectives.cpp).
  const workload::Group neighbours{2, p.tp};
  const Geometry g = geometry(sc.cluster, neighbours);
  const double nic_share = node.nic.count * node.nic.bandwidth / node.devices;

  auto* root = sg4::create_star_zone("fabric");
  // Links first, in the root zone (creating them inside thousands of zones is quadratic).
  std::vector<sg4::SplitDuplexLink*> uplink(leaves);
  for (int l = 0; l < leaves; ++l) {
    uplink[l] = duplex(root, label("uplink", l), per_leaf * node.nic.count * node.nic.bandwidth / net.oversubscription);
  }
  const int actors = p.dp * p.pp;
  std::vector<sg4::SplitDuplexLink*> intra(actors), nic(actors), pcie(actors);
  std::vector<sg4::Link*> dram(nodes);
  for (int a = 0; a < actors; ++a) {
    intra[a] = duplex(root, label("intra", a), t * g.intra.bandwidth);
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
    pf.node_of_actor[a] = node_of(sc, a);
    actors_of_node[pf.node_of_actor[a]].push_back(a);
  }
  for (int l = 0; l < leaves; ++l) {
    auto* leaf = sg4::create_star_zone(label("leaf", l));
    leaf->set_parent(root);
    auto* leaf_gw = leaf->create_router(label("leaf", l, "-gw"));
    for (int n = l * per_leaf; n < std::min(nodes, (l + 1) * per_leaf); ++n) {
      auto* z = sg4::create_full_zone(label("node", n));
      z->set_parent(leaf);
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
          z->add_route(h, pf.actor_host[b]->get_netpoint(), nullptr, nullptr,
                       {{intra[a], Dir::UP}, {intra[b], Dir::DOWN}}, false);
        }
        z->add_route(h, gw, nullptr, nullptr, {{nic[a], Dir::UP}}, false);
        z->add_route(gw, h, nullptr, nullptr, {{nic[a], Dir::DOWN}}, false);
        z->add_route(h, cpu->get_netpoint(), nullptr, nullptr, {{pcie[a], Dir::UP}, sg4::LinkInRoute(dram[n])}, false);
        z->add_route(cpu->get_netpoint(), h, nullptr, nullptr, {sg4::LinkInRoute(dram[n]), {pcie[a], Dir::DOWN}}, false);
      }
      z->seal();
      leaf->add_route(z->get_netpoint(), nullptr, gw, nullptr, {}, true);
    }
    leaf->seal();
    if (leaves > 1) {
      root->add_route(leaf->get_netpoint(), nullptr, leaf_gw, nullptr, {{uplink[l], Dir::UP}}, true);
    } else {
      root->add_route(leaf->get_netpoint(), nullptr, leaf_gw, nullptr, {}, true);
    }
  }
  root->seal();
  return pf;
}

}  // namespace sparsim::sim::des
