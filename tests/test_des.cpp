#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "sim/isolate.hpp"
#include "sim/analytic.hpp"
#include "sim/des/des_backend.hpp"
#include "sim/des/fold.hpp"
#include "sim/graph.hpp"
#include "workload/layout.hpp"
#include "workload/memory.hpp"
#include "workload/sparse.hpp"

using namespace sparsim;

namespace {
// Unfused attention: its longer forwards leave one pipeline message per link at a time, the
// precondition of the exact replay below (with flash attention's shorter forwards consecutive
// activations overlap on a link, and the DES rightly slows them down).
Scenario tiny(const std::vector<std::string>& sets = {}) {
  std::vector<std::string> all = {"model.attention=unfused"};
  all.insert(all.end(), sets.begin(), sets.end());
  return config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny.yaml", all).scenario;
}
// "F01 B00 ...": pass, chunk and micro-batch of each piece of work
std::string code(const std::vector<sim::Work>& ws) {
  std::string s;
  for (const sim::Work& w : ws) s += (w.backward ? "B" : "F") + std::to_string(w.chunk) + std::to_string(w.micro_batch) + " ";
  return s;
}
nlohmann::json des(const Scenario& sc, const std::string& trace = "", bool fold = true) {
  return sim::in_child([&] { return sim::to_json(sim::des_step(sc, sim::DesOptions{trace, fold})); });
}
// Every number of two result JSONs, to a relative `eps`; returns how many it compared.
int same_numbers(const nlohmann::json& a, const nlohmann::json& b, double eps, const std::string& path = "") {
  int n = 0;
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) n += same_numbers(it.value(), b.at(it.key()), eps, path + "/" + it.key());
  } else if (a.is_array()) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) n += same_numbers(a[i], b[i], eps, path + "/" + std::to_string(i));
  } else if (a.is_number()) {
    INFO(path);
    CHECK(a.get<double>() == Approx(b.get<double>()).epsilon(eps).margin(1e-300));
    ++n;
  } else {
    INFO(path);
    CHECK(a == b);
  }
  return n;
}
}  // namespace

TEST_CASE("graph: stage orders of GPipe, 1F1B and interleaved 1F1B", "[graph]") {
  using sim::Work;
  // GPipe: all forwards, then all backwards.
  CHECK(code(sim::stage_order(Schedule::gpipe, 2, 1, 3, 0)) == "F00 F01 F02 B00 B01 B02 ");
  // 1F1B, p=3, m=4: stage 0 warms up with p-1-0 = 2 forwards, stage 2 with none.
  CHECK(code(sim::stage_order(Schedule::one_f_one_b, 3, 1, 4, 0)) == "F00 F01 F02 B00 F03 B01 B02 B03 ");
  CHECK(code(sim::stage_order(Schedule::one_f_one_b, 3, 1, 4, 2)) == "F00 B00 F01 B01 F02 B02 F03 B03 ");
  // Interleaved, p=2, v=2, m=2: the k-th forward is chunk (k/p)%v of micro-batch k%p; stage 0
  // warms up with (p-1)*2 + (v-1)*p = 4 forwards (all of them), stage 1 with 2.
  CHECK(code(sim::stage_order(Schedule::interleaved, 2, 2, 2, 0)) == "F00 F01 F10 F11 B10 B11 B00 B01 ");
  CHECK(code(sim::stage_order(Schedule::interleaved, 2, 2, 2, 1)) == "F00 F01 F10 B10 F11 B11 B00 B01 ");
}

TEST_CASE("graph: plan.overlap_ep warms up deeper and pairs each steady forward with the backward after it", "[graph][overlap]") {
  using sim::Work;
  auto pairs = [&](Schedule s, int pp, int v, int m, int stage) {
    std::string out;
    for (const auto& [f, b] : sim::overlap_pairs(s, pp, v, m, stage)) out += code({f, b}) + "| ";
    return out;
  };
  // pp 1: one forward more before the first backward, then F(i+1) beside B(i).
  CHECK(code(sim::stage_order(Schedule::one_f_one_b, 1, 1, 3, 0, true)) == "F00 F01 B00 F02 B01 B02 ");
  CHECK(pairs(Schedule::one_f_one_b, 1, 1, 3, 0) == "F01 B00 | F02 B01 | ");
  // 1F1B, p=3, m=4: warm-up 2(p-1-s)+1, so stage 2 pairs three times and stage 0 (warm-up 5 > m) never.
  CHECK(code(sim::stage_order(Schedule::one_f_one_b, 3, 1, 4, 2, true)) == "F00 F01 B00 F02 B01 F03 B02 B03 ");
  CHECK(pairs(Schedule::one_f_one_b, 3, 1, 4, 2) == "F01 B00 | F02 B01 | F03 B02 | ");
  CHECK(pairs(Schedule::one_f_one_b, 3, 1, 4, 0).empty());
  // Interleaved, p=2, v=2, m=4, stage 1: warm-up (p-1-s)*2 + (v-1)*p + 1 = 3 chunk passes.
  CHECK(code(sim::stage_order(Schedule::interleaved, 2, 2, 4, 1, true)) == "F00 F01 F10 F11 B10 F02 B11 F03 B00 F12 B01 F13 B12 B13 B02 B03 ");
  CHECK(pairs(Schedule::interleaved, 2, 2, 4, 1) == "F11 B10 | F02 B11 | F03 B00 | F12 B01 | F13 B12 | ");
  CHECK(pairs(Schedule::gpipe, 2, 1, 4, 1).empty());
}

TEST_CASE("schedule: two passes side by side share compute and links, and hide one's all-to-alls under the other's compute",
          "[overlap]") {
  using sim::Phase;
  using R = sim::Resource;
  const Phase c1{1, R::compute}, c2{2, R::compute}, n1{1, R::network}, n2{2, R::network}, l1{1, R::latency}, i1{1, R::node_links};
  CHECK(sim::paired_time({c2}, {c2, c1}) == Approx(5));                // compute only: one after the other
  CHECK(sim::paired_time({c2}, {n2}) == Approx(2));                    // fully hidden
  CHECK(sim::paired_time({c1, n1}, {n1, c1}) == Approx(2));            // each under the other
  CHECK(sim::paired_time({n2}, {n2}) == Approx(4));                    // one network, shared
  CHECK(sim::paired_time({n1}, {i1}) == Approx(1));                    // the node's links and the network are two
  CHECK(sim::paired_time({l1}, {l1}) == Approx(1));                    // latencies are not shared
  CHECK(sim::paired_time({c1, n2}, {c1}) == Approx(4));                // both compute at half rate, then the all-to-all
  CHECK(sim::paired_time({}, {c1, n1}) == Approx(2));
  // Random streams: no less than either stream or any resource's total, no more than both in turn.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> len(0.0, 3.0);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Phase> a, b;
    double total[4] = {0, 0, 0, 0}, sa = 0, sb = 0;
    for (auto* s : {&a, &b}) {
      const int n = static_cast<int>(rng() % 7);
      for (int i = 0; i < n; ++i) {
        const Phase p{len(rng), static_cast<R>(rng() % 4)};
        s->push_back(p);
        total[static_cast<int>(p.on)] += p.seconds;
        (s == &a ? sa : sb) += p.seconds;
      }
    }
    const double t = sim::paired_time(a, b);
    CHECK(t <= (sa + sb) * (1 + 1e-12) + 1e-12);
    CHECK(t >= std::max({sa, sb, total[0], total[1], total[2]}) * (1 - 1e-12) - 1e-12);
  }
}

TEST_CASE("des = analytic: plan.overlap_ep hides all-to-alls under the paired pass's compute", "[des][overlap]") {
  // pp 1 (no pipeline messages): the DES runs each pair's passes side by side, the backward on a
  // second actor of the host, the all-to-alls as flows; the analytic backend's fluid model of
  // the same phases (sim::paired_time) gives the same step. RRE (pairwise inside the actor's
  // node), a top-2 gate over the network, and the hierarchical all-to-all (node links, then
  // the network: the two streams share neither with the other's other phase).
  const std::string f = std::string(SPARSIM_TEST_DATA) + "/tiny-moe.yaml";
  for (const auto& sets : std::vector<std::vector<std::string>>{
           {},
           {"model.moe.router=topk", "model.moe.domains=1", "model.moe.top_k=2"},
           {"plan.tp=1", "plan.dp=16", "plan.ep=8", "training.micro_batch=1", "training.global_batch=64",
            "model.moe.domain_data=mixed", "plan.collectives.ep=hierarchical"}}) {
    std::vector<std::string> on = sets;
    on.push_back("plan.overlap_ep=true");
    const Scenario plain = config::load_scenario(f, sets).scenario, overlapped = config::load_scenario(f, on).scenario;
    const sim::StepResult a0 = sim::analytic_step(plain), a1 = sim::analytic_step(overlapped);
    const auto d1 = des(overlapped);
    INFO((sets.empty() ? std::string("rre") : sets.front()));
    CHECK(d1["step_time_s"].get<double>() == Approx(a1.step_time).epsilon(1e-5));  // SimGrid's float resolution
    CHECK(d1["breakdown_s"]["exposed_comm"]["ep"].get<double>() == Approx(a1.breakdown.ep).epsilon(1e-4));
    CHECK(a1.breakdown.ep < a0.breakdown.ep);
    CHECK(a1.breakdown.compute == Approx(a0.breakdown.compute).epsilon(1e-12));
    // one more micro-batch of activations in flight
    CHECK(a1.memory.activations > a0.memory.activations);
  }
  // A dense model has nothing to overlap: the plan ignores the key (with a warning), both backends.
  const Scenario dense = tiny({"plan.overlap_ep=true"}), plain = tiny();
  CHECK(des(dense)["step_time_s"].get<double>() == des(plain)["step_time_s"].get<double>());
  const sim::StepResult d = sim::analytic_step(dense);
  CHECK(d.step_time == sim::analytic_step(plain).step_time);
  CHECK(d.memory.activations == sim::analytic_step(plain).memory.activations);
  REQUIRE(d.warnings.size() == 1);
  CHECK_THAT(d.warnings.front(), Catch::Contains("a dense model has no all-to-all to overlap; ignored"));
}

TEST_CASE("des = analytic: plan.etp, experts over fewer devices of the tensor-parallel group", "[des][etp]") {
  // The DES times compute from the same block times: the sub-group's expert GEMMs and its etp
  // all-reduce; the all-to-all stays between the ranks (tensor-parallel groups).
  for (const char* etp : {"plan.etp=2", "plan.etp=1"}) {
    const Scenario sc = config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny-moe.yaml", {"model.moe.experts=16", etp}).scenario;
    INFO(etp);
    CHECK(des(sc)["step_time_s"].get<double>() == Approx(sim::analytic_step(sc).step_time).epsilon(1e-6));
  }
}

TEST_CASE("graph: the longest path of a GPipe step is the flow-shop closed form", "[graph]") {
  // GPipe with eager messages: sum f + (m-1) max f + sum b + (m-1) max b + 2(p-1)c, plus the
  // exposed gradient buckets and the optimizer: exactly the analytic backend's terms.
  for (const char* p : {"plan.pp=2", "plan.pp=4"}) {
    const Scenario sc = tiny({"plan.schedule=gpipe", p, p == std::string("plan.pp=2") ? "plan.dp=2" : "plan.dp=1"});
    const auto t = sim::longest_path(sim::build_step_graph(sc));
    REQUIRE(t.makespan == Approx(sim::analytic_step(sc).step_time).epsilon(1e-12));
  }
}

TEST_CASE("des: on an idle network the DES replays the graph exactly", "[des]") {
  // No contention (non-blocking fabric, one flow per link): every op starts when the graph says.
  for (const auto& sets : std::vector<std::vector<std::string>>{
           {"plan.schedule=gpipe"}, {"plan.schedule=1f1b"}, {"plan.pp=1", "plan.dp=4"},
           {"plan.pp=1", "plan.dp=4", "plan.collectives.dp=ring"}, {"plan.pp=1", "plan.dp=4", "plan.collectives.dp=tree"},
           {"plan.placement=offload"}, {"plan.zero=3"}}) {
    const Scenario sc = tiny(sets);
    const auto t = sim::longest_path(sim::build_step_graph(sc));
    const auto r = des(sc);
    INFO(sets.front());
    REQUIRE(r["backend"] == "des");
    CHECK(r["step_time_s"].get<double>() == Approx(t.makespan).epsilon(1e-6));
  }
}

TEST_CASE("des: an oversubscribed fat tree slows the gradient all-reduce; the analytic backend does not see it", "[des][contention]") {
  // 4 nodes of tests/data/node.yaml, 2 per leaf; tp=4 puts one actor (4 devices) on each node;
  // dp=4 rings over the nodes: flows 0->1 and 2->3 stay in a leaf, 1->2 and 3->0 cross a leaf
  // uplink each. The NIC path of an actor carries 4 x 5 GB/s = 20 GB/s. A leaf uplink carries
  // 2 nodes x 20 GB/s / oversubscription: 40 GB/s at 1:1 (no slowdown), 10 GB/s at 4:1, so the
  // crossing flows run at half speed and the ring finishes when they do.
  //   ring all-reduce bandwidth term: 2(p-1)/p * S / B = 1.5 * S / B, S = 4 devices x grads
  //   extra time at 4:1 = 1.5 * S / 10e9 - 1.5 * S / 20e9 = 1.5 * S / 20e9
  std::vector<std::string> sets{"cluster.nodes=4", "plan.tp=4", "plan.pp=1", "plan.dp=4", "cluster.network.nodes_per_leaf=2",
                                "plan.overlap_dp=false", "plan.collectives.dp=ring"};
  const Scenario idle = tiny(sets);
  sets.push_back("cluster.network.oversubscription=4");
  const Scenario busy = tiny(sets);
  const double S = 4 * workload::device_params(busy, workload::layout_of(busy)).total() * 2;  // bf16 gradients of 4 devices
  const double a_idle = sim::analytic_step(idle).step_time, a_busy = sim::analytic_step(busy).step_time;
  const double d_idle = des(idle)["step_time_s"].get<double>();
  const double d_busy = des(busy)["step_time_s"].get<double>();
  REQUIRE(a_busy == a_idle);                                  // analytic: blind to contention
  REQUIRE(d_idle == Approx(a_idle).epsilon(1e-6));            // idle: the DES matches the closed form
  REQUIRE(d_busy - d_idle == Approx(1.5 * S / 20e9).epsilon(1e-6));  // contended: the hand-derived slowdown
}

TEST_CASE("des: simulating a period of identical replicas gives the full run's result, contention included", "[des][fold]") {
  // fold.hpp: the DES keeps R replicas, one or two periods of them (a node's actors, an
  // expert-parallel group, a leaf of a blocking fabric; at least two nodes, or leaves), and
  // closes the ring over them. Each variant below folds
  // (R < dp) and must give what simulating every replica gives, every number of the result.
  // tests/data/node.yaml: 4 devices per node in two fast pairs (group_size 2), 2 NICs.
  const std::string dense = std::string(SPARSIM_TEST_DATA) + "/tiny.yaml", moe = std::string(SPARSIM_TEST_DATA) + "/tiny-moe.yaml";
  struct Case {
    std::string file;
    std::vector<std::string> sets;
    std::int64_t replicas;  // R, derived in the comment
  };
  const std::vector<std::string> tp1{"model.attention=unfused", "cluster.nodes=16", "plan.tp=1", "plan.pp=2", "plan.dp=32",
                                     "training.micro_batch=1", "training.global_batch=64"};
  auto with = [](std::vector<std::string> v, std::initializer_list<std::string> more) {
    v.insert(v.end(), more);
    return v;
  };
  const std::vector<Case> cases{
      // tp 1: q = 4 replicas per node, period 4, R = 8 of 32; the hierarchical ring's node-crossing
      // flow (d -> d + 4), NCCL's rings (inside the node and to the next node), the tree
      {dense, tp1, 8},
      {dense, with(tp1, {"plan.collectives.dp=ring"}), 8},
      {dense, with(tp1, {"plan.collectives.dp=tree"}), 8},
      // tp 2: q = 2, period 2, R = 4 of 32 (neighbouring actors talk across the node's two pairs)
      {dense, with(tp1, {"plan.tp=2", "plan.dp=16", "plan.collectives.dp=ring"}), 4},
      // a blocking fabric (4:1, 2 nodes per leaf): tp 4, one actor per node, a leaf holds 2
      // replicas of a stage; period 2, R = 4 of 8; ring flows cross the oversubscribed uplinks
      {dense, {"model.attention=unfused", "cluster.nodes=16", "plan.tp=4", "plan.pp=2", "plan.dp=8", "plan.collectives.dp=ring",
               "cluster.network.nodes_per_leaf=2", "cluster.network.oversubscription=4", "training.global_batch=32"}, 4},
      // expert parallelism: q = 4, ep 8, period 8, which spans two nodes: R = 8 of 64, one expert
      // group, the ring's wrap 7 -> 0 crossing nodes as 7 -> 8 does; pairwise and hierarchical
      // all-to-alls, the ECSS host path (the node's CPU and DRAM shared by its 4 actors)
      {moe, {"cluster.nodes=16", "plan.tp=1", "plan.dp=64", "plan.ep=8", "training.micro_batch=1", "training.global_batch=128",
             "model.moe.domain_data=mixed"}, 8},
      {moe, {"cluster.nodes=16", "plan.tp=1", "plan.dp=64", "plan.ep=8", "training.micro_batch=1", "training.global_batch=128",
             "model.moe.domain_data=mixed", "plan.collectives.ep=hierarchical", "plan.placement=ecss"}, 8},
      // a blocking fabric and expert groups: tp 4 (q = 1), 2 nodes per leaf at 4:1, ep 4: period
      // 4 = two leaves, R = 4 of 16
      {moe, {"cluster.nodes=16", "plan.dp=16", "plan.ep=4", "cluster.network.nodes_per_leaf=2",
             "cluster.network.oversubscription=4", "training.global_batch=64"}, 4},
  };
  for (const Case& c : cases) {
    const Scenario sc = config::load_scenario(c.file, c.sets).scenario;
    INFO(c.sets.back());
    REQUIRE(sim::des::fold_of(sc).replicas == c.replicas);
    const auto folded = des(sc), every = des(sc, "", false);
    REQUIRE(folded["verdict"] == "runs");
    CHECK(same_numbers(folded, every, 1e-9) > 20);
  }
  // A blocking fabric whose leaves hold two stages' actors (dp 3 x 1 node < 2 nodes per leaf) folds nothing.
  const Scenario split = config::load_scenario(dense, {"cluster.nodes=6", "plan.tp=4", "plan.pp=2", "plan.dp=3",
                                                       "cluster.network.nodes_per_leaf=2", "cluster.network.oversubscription=4",
                                                       "training.global_batch=12"}).scenario;
  CHECK(sim::des::fold_of(split).replicas == 3);
  CHECK_THAT(sim::des::fold_of(split).unfolded, Catch::Contains("leaf"));
}

TEST_CASE("des: --trace writes a Chrome trace with lanes and breakdown categories", "[des][trace]") {
  const std::string path = (std::filesystem::temp_directory_path() / "sparsim-test-trace.json").string();
  des(tiny(), path);
  std::ifstream in(path);
  REQUIRE(in.good());
  const auto doc = nlohmann::json::parse(in);
  const std::set<std::string> known{"compute", "tp", "pp", "dp", "ep", "h2d", "d2h", "host_optimizer", "optimizer"};
  int complete = 0;
  bool micro_batch_named = false, lane_named = false;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "X") {
      ++complete;
      REQUIRE(known.count(e["cat"].get<std::string>()) == 1);
      micro_batch_named = micro_batch_named || e["name"].get<std::string>().find("mb") != std::string::npos;
    }
    if (e["ph"] == "M" && e["name"] == "thread_name") lane_named = true;
  }
  // tiny: replica 0 has 2 stages x 4 micro-batches x (F + B) = 16 compute events at least
  REQUIRE(complete >= 16);
  REQUIRE(micro_batch_named);
  REQUIRE(lane_named);
  std::remove(path.c_str());
}

TEST_CASE("des: expert-parallel all-to-alls as flows match the closed form on an idle network", "[des][sparse]") {
  // tiny-moe: one actor (4 devices) per node, so every all-to-all flow crosses the actor's NIC
  // path (4 x 5 GB/s). RRE sends to the one peer of its domain group; a uniform top-1 gate sends
  // equal bytes to all 3 peers, which share the NIC: either way the busiest rank's bytes / B plus
  // (G-1) alpha, the closed form. Sparse ops add no other shared link, so DES == graph.
  for (const auto& sets : std::vector<std::vector<std::string>>{
           {}, {"model.moe.router=topk", "model.moe.domains=1", "model.moe.top_k=1", "model.moe.capacity_factor=8"},
           {"plan.placement=ecss"}, {"plan.placement=offload"}}) {
    const Scenario sc = config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny-moe.yaml", sets).scenario;
    const auto t = sim::longest_path(sim::build_step_graph(sc));
    const auto r = des(sc);
    INFO((sets.empty() ? std::string("rre") : sets.front()));
    CHECK(r["step_time_s"].get<double>() == Approx(t.makespan).epsilon(1e-6));
    CHECK(r["breakdown_s"]["exposed_comm"]["ep"].get<double>() > 0);
  }
}

TEST_CASE("des: the hierarchical all-to-all as flows, node first then between nodes, matches its closed form", "[des][sparse][a2a]") {
  // tiny-moe with ep 8 over 2 nodes of 4 single-device ranks (test_sparse.cpp has its phases by
  // hand): dispatch runs 3 rounds on the node's links, then 1 round over the NICs; combine the
  // reverse. On an idle network the DES meets the graph, whose all-to-all is the closed form,
  // and both beat the pairwise exchange.
  std::vector<std::string> sets{"plan.tp=1", "plan.dp=16", "plan.ep=8", "training.micro_batch=1", "training.global_batch=64",
                                "model.moe.domain_data=mixed"};
  const Scenario flat = config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny-moe.yaml", sets).scenario;
  sets.push_back("plan.collectives.ep=hierarchical");
  const Scenario hier = config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny-moe.yaml", sets).scenario;
  const auto r = des(hier), f = des(flat);
  CHECK(r["step_time_s"].get<double>() == Approx(sim::longest_path(sim::build_step_graph(hier)).makespan).epsilon(1e-6));
  CHECK(r["breakdown_s"]["exposed_comm"]["ep"].get<double>() == Approx(sim::analytic_step(hier).breakdown.ep).epsilon(1e-6));
  CHECK(r["breakdown_s"]["exposed_comm"]["ep"].get<double>() < f["breakdown_s"]["exposed_comm"]["ep"].get<double>());
}

TEST_CASE("des = analytic: a host that shares the devices' cores runs the ECSS host path after the device optimizer",
          "[des][ecss]") {
  const std::string f = std::string(SPARSIM_TEST_DATA) + "/tiny-moe.yaml";
  const Scenario beside = config::load_scenario(f, {"plan.placement=ecss"}).scenario;
  const Scenario shared =
      config::load_scenario(f, {"plan.placement=ecss", "cluster.node.host.shares_device_cores=true"}).scenario;
  REQUIRE(shared.cluster.node.host.shares_device_cores);
  const workload::Layout l = workload::layout_of(shared);
  const auto phase = sim::optimizer_phase(shared, l, workload::sparse_traffic(shared, l));
  REQUIRE(phase.device_optimizer > 0);
  const sim::StepResult a = sim::analytic_step(beside), b = sim::analytic_step(shared);
  // beside: the device optimizer hides the start of the host path; shared: nothing is hidden
  CHECK(b.breakdown.d2h + b.breakdown.host_optimizer + b.breakdown.h2d ==
        Approx(phase.d2h + phase.host_optimizer + phase.h2d).epsilon(1e-9));
  CHECK(b.step_time - a.step_time == Approx(std::min(phase.device_optimizer, phase.d2h + phase.host_optimizer + phase.h2d)).epsilon(1e-6));
  const nlohmann::json d = des(shared);
  const auto& bd = d.at("breakdown_s");
  CHECK(bd.at("d2h").get<double>() + bd.at("host_optimizer").get<double>() + bd.at("h2d").get<double>() ==
        Approx(phase.d2h + phase.host_optimizer + phase.h2d).epsilon(1e-6));
}

TEST_CASE("des and graph: ranks that time-share cores run the expert phases for their processor-sharing makespan",
          "[des][sparse][shared]") {
  // One node of 4 devices (tp = 1), a top-1 gate, on 16 cores and as 4 ranks on 2 cores. The
  // test node has two fast groups of 2 devices: in the DES, actors of different groups talk over
  // the inter-group level, as in the closed forms, so an even load gives DES = graph = analytic.
  const std::vector<std::string> plan{"cluster.nodes=1", "plan.tp=1", "plan.dp=4", "plan.ep=4", "training.micro_batch=4",
                                      "model.moe.router=topk", "model.moe.domains=1", "model.moe.top_k=1",
                                      "model.moe.capacity_factor=8"};
  const std::string f = std::string(SPARSIM_TEST_DATA) + "/tiny-moe.yaml";
  const std::vector<std::string> cores{"cluster.node.host.shares_device_cores=true", "cluster.node.host.cores=2"};
  const std::vector<std::string> zipf{"model.moe.load.distribution=zipf", "model.moe.load.zipf_s=1"};
  auto load = [&](std::vector<std::vector<std::string>> parts) {
    std::vector<std::string> sets = plan;
    for (const auto& p : parts) sets.insert(sets.end(), p.begin(), p.end());
    return config::load_scenario(f, sets).scenario;
  };
  auto graph = [](const Scenario& sc) { return sim::longest_path(sim::build_step_graph(sc)).makespan; };
  const Scenario even = load({}), even_shared = load({cores});
  REQUIRE(even.cluster.node.intra.group_size < even.cluster.node.devices);
  for (const Scenario* sc : {&even, &even_shared}) {
    CHECK(graph(*sc) == Approx(sim::analytic_step(*sc).step_time).epsilon(1e-6));
    CHECK(des(*sc)["step_time_s"].get<double>() == Approx(graph(*sc)).epsilon(1e-6));
  }
  // A skewed load: the expert segments get shorter by the same time in both backends
  // (block_times gives them the shared makespan). The DES is a little faster than the closed
  // form on both: a pairwise round whose largest message stays inside a fast group ends sooner.
  const Scenario skew = load({zipf}), skew_shared = load({zipf, cores});
  REQUIRE(sim::time_shared_threads(skew_shared.cluster.node) == 2);
  const double graph_gain = graph(skew) - graph(skew_shared);
  const double des_gain = des(skew)["step_time_s"].get<double>() - des(skew_shared)["step_time_s"].get<double>();
  REQUIRE(graph_gain > 0);
  CHECK(graph_gain == Approx(sim::analytic_step(skew).step_time - sim::analytic_step(skew_shared).step_time).epsilon(1e-6));
  CHECK(des_gain == Approx(graph_gain).epsilon(1e-4));
  CHECK(des(skew)["step_time_s"].get<double>() <= graph(skew));
}

TEST_CASE("des = analytic: einsum dispatch at pp 1", "[des][einsum]") {
  const Scenario sc = config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny-moe.yaml",
                                            {"model.moe.router=topk", "model.moe.domains=1", "model.moe.dispatch=einsum"})
                          .scenario;
  const sim::StepResult a = sim::analytic_step(sc);
  const nlohmann::json d = des(sc);
  CHECK(d["step_time_s"].get<double>() == Approx(a.step_time).epsilon(1e-6));
  CHECK(d["tflops_per_device"].get<double>() == Approx(a.tflops_per_device).epsilon(1e-6));
  CHECK(d["mfu"].get<double>() == Approx(a.mfu).epsilon(1e-6));
}
