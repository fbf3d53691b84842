#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "config/error.hpp"
#include "config/loader.hpp"
#include "routing/routing.hpp"
#include "sim/analytic.hpp"
#include "workload/layout.hpp"
#include "workload/memory.hpp"
#include "workload/sparse.hpp"

using namespace sparsim;
namespace fs = std::filesystem;

namespace {
Scenario tiny_moe(const std::vector<std::string>& sets = {}) {
  return config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny-moe.yaml", sets).scenario;
}
Scenario pangu(const char* variant) {
  return config::load_scenario(std::string(SPARSIM_SOURCE_DIR) + "/scenarios/pangu-sigma/pangu-sigma-" + variant + "-512.yaml")
      .scenario;
}
// tiny-moe: h=256, f=1024; one expert FFN = 2hf + f + h = 525,568 parameters.
constexpr double kExpert = 525568;
// The model's figures of a scenario at its own layout.
std::vector<workload::SparseLayerTraffic> traffic_of(const Scenario& sc) {
  return workload::sparse_traffic(sc, workload::layout_of(sc));
}
workload::MemoryLedger memory_of(const Scenario& sc) { return workload::memory(sc, workload::layout_of(sc)); }
}  // namespace

TEST_CASE("sparse: RRE tokens per expert and grouped all-to-all bytes, by hand", "[sparse]") {
  // T = b*s = 2*128 = 256 tokens per rank per micro-batch. D=2 domains of G=4 experts; ep=4
  // ranks of 2 experts: ranks 0,1 hold domain 0 and carry only its samples (grouped layout).
  // V=1000 over G=4 gives 250 IDs per expert and a uniform histogram: each source rank sends
  // 256/4 = 64 tokens to every expert of its group. Rank 0's experts 0,1 receive 64 from ranks
  // 0 and 1 each: 256 tokens; it sends 128 tokens to rank 1 and none to ranks 2,3:
  // 128 * h * 2 bytes = 65,536 bytes.
  const auto t = traffic_of(tiny_moe());
  REQUIRE(t.size() == 2);
  for (const auto& layer : t) {
    REQUIRE(layer.group == 2);
    REQUIRE(layer.busiest_rank_tokens == Approx(256).epsilon(1e-12));
    REQUIRE(layer.mean_rank_tokens == Approx(256).epsilon(1e-12));
    REQUIRE(layer.dispatch[0][1] == Approx(65536).epsilon(1e-12));
    REQUIRE(layer.dispatch[0][2] == 0);
    REQUIRE(layer.dispatch[0][3] == 0);
    REQUIRE(layer.a2a_bytes == Approx(65536).epsilon(1e-12));
    REQUIRE(layer.pairwise_bytes == Approx(65536).epsilon(1e-12));  // one round of 2 ranks
    REQUIRE(layer.activated_experts == 2);
  }
}

TEST_CASE("sparse: a skewed learned gate loads the busiest rank and slows the step", "[sparse]") {
  // top-1 gate over E=8 with Zipf s=1 shares 1/(i+1)/H8, H8 = 761/280; no capacity limit
  // (c=8). Rank 0 holds experts 0,1: share (1 + 1/2)/H8; it receives that share of the 256
  // tokens of each of the 4 ranks: 1024 * 1.5 * 280/761 = 565.2 tokens (uniform: 256).
  // It receives 3 * 256 * share tokens of h*2 bytes from the other ranks.
  const std::vector<std::string> gate{"model.moe.router=topk", "model.moe.domains=1", "model.moe.top_k=1",
                                      "model.moe.capacity_factor=8"};
  auto skew = gate;
  skew.insert(skew.end(), {"model.moe.load.distribution=zipf", "model.moe.load.zipf_s=1"});
  const double share = 1.5 * 280.0 / 761.0;
  const auto u = traffic_of(tiny_moe(gate)).front();
  const auto z = traffic_of(tiny_moe(skew)).front();
  REQUIRE(u.busiest_rank_tokens == Approx(256).epsilon(1e-9));
  REQUIRE(z.busiest_rank_tokens == Approx(1024 * share).epsilon(1e-9));
  REQUIRE(z.a2a_bytes == Approx(3 * 256 * share * 256 * 2).epsilon(1e-9));
  // Pairwise rounds k = 1..3: every round has some rank send to rank 0, the largest message
  // (every source row is the same expected gate load): the same 3 * 256 * share * h * 2.
  REQUIRE(z.pairwise_bytes == Approx(3 * 256 * share * 256 * 2).epsilon(1e-9));
  REQUIRE(sim::analytic_step(tiny_moe(skew)).step_time > sim::analytic_step(tiny_moe(gate)).step_time);
}

TEST_CASE("sparse: memory per placement, by hand", "[sparse][memory]") {
  // Per device (tp=4, pp=1): dense part = 2 dense layers x 789,760 + 2 sparse layers x
  // (attention 263,168 + layernorms 1,024) + embedding 289,280 = 2,397,184 / 4 = 599,296;
  // experts = 2 sparse layers x 8/4 experts x 525,568 / 4 = 525,568.
  const double dense = 599296, experts = 2 * 2 * kExpert / 4;
  const Scenario sc = tiny_moe();
  const auto d = workload::device_params(sc, workload::layout_of(sc));
  REQUIRE(d.dense == dense);
  REQUIRE(d.experts == experts);
  // device: 16-bit weights and grads, 12 B of Adam state per parameter.
  auto m = memory_of(tiny_moe({"plan.placement=device"}));
  REQUIRE(m.params == 2 * (dense + experts));
  REQUIRE(m.optimizer == 12 * (dense + experts));
  REQUIRE(m.host == 0);
  // offload: all Adam state in host DRAM, 4 devices per node.
  m = memory_of(tiny_moe({"plan.placement=offload"}));
  REQUIRE(m.optimizer == 0);
  REQUIRE(m.host == 12 * (dense + experts) * 4);
  // ecss: dense Adam state on the device; experts' fp32 master, m, v and a 16-bit copy on the
  // host (14 B); every expert is activated (uniform routing), so the device holds all of them.
  m = memory_of(tiny_moe({"plan.placement=ecss"}));
  REQUIRE(m.optimizer == 12 * dense);
  REQUIRE(m.params == 2 * (dense + experts));
  REQUIRE(m.host == 14 * experts * 4);
}

TEST_CASE("sparse: ECSS moves and updates exactly the activated experts", "[sparse][ecss]") {
  // With every token equal to token ID 0, each domain group routes all tokens to the one expert
  // the table gives ID 0: the busiest rank activates 1 of its 2 experts per layer, so the step
  // moves half the device's expert parameters: 525,568 / 2 x 2 bytes each way over the
  // device's PCIe share min(20 GB/s, 20/2 switch, 100/4 DRAM) = 10 GB/s, plus 2 us.
  const std::string hist = std::string(SPARSIM_TEST_DATA) + "/one-token.hist";
  const Scenario sc = tiny_moe({"plan.placement=ecss", "model.moe.token_histogram.distribution=file",
                                "model.moe.token_histogram.file=" + hist});
  const auto traffic = traffic_of(sc);
  for (const auto& t : traffic) REQUIRE(t.activated_experts == 1);
  const double active = kExpert / 2;
  const workload::Layout l = workload::layout_of(sc);
  REQUIRE(workload::activated_expert_params(sc, l, workload::device_params(sc, l), traffic) == Approx(active).epsilon(1e-12));
  const auto phase = sim::optimizer_phase(sc, l, traffic);
  REQUIRE(phase.d2h == Approx(2e-6 + active * 2 / 10e9).epsilon(1e-12));
  REQUIRE(phase.h2d == Approx(2e-6 + active * 2 / 10e9).epsilon(1e-12));
  // Host Adam for the node's 4 devices: (24 + 2 + 2) B per parameter through 100 GB/s DRAM, or
  // 10 FLOP per parameter at 1 TFLOP/s, whichever is slower.
  REQUIRE(phase.host_optimizer == Approx(std::max(4 * active * 28 / 100e9, 10 * 4 * active / 1e12)).epsilon(1e-12));
  // offload (plain heterogeneous training) moves every dense parameter of the device and every
  // expert, activated or not: a framework's optimizer over all parameters.
  const Scenario offload = tiny_moe({"plan.placement=offload"});
  const auto off = sim::optimizer_phase(offload, workload::layout_of(offload), traffic);
  REQUIRE(off.d2h == Approx(2e-6 + (599296 + kExpert) * 2 / 10e9).epsilon(1e-12));
  REQUIRE(off.h2d == Approx(2e-6 + (599296 + kExpert) * 2 / 10e9).epsilon(1e-12));
  // device placement updates the same parameters with the device's Adam.
  const Scenario dev = tiny_moe({});
  const auto on_device = sim::optimizer_phase(dev, workload::layout_of(dev), traffic);
  REQUIRE(on_device.device_optimizer == Approx(sim::device_adam_time(dev.cluster.node.device, 599296 + active, dev.training.precision)).epsilon(1e-12));
  REQUIRE(on_device.device_optimizer < sim::device_adam_time(dev.cluster.node.device, 599296 + kExpert, dev.training.precision));
}

TEST_CASE("sparse: the 1.085T PanGu-Sigma fits 512 Ascend 910 with ECSS, not on the devices alone", "[sparse][pangu]") {
  // Per device (tp 8, ep 64): 80 experts of 209.7M / 8 = 2.1B expert parameters plus 1.39B dense
  // ones; 16-bit weights and grads and Adam state (experts unsharded: dp/ep = 1) exceed 32 GiB.
  // ECSS keeps expert Adam state in host DRAM (2 TB per server).
  const auto device = memory_of(pangu("rre"));
  const auto ecss = memory_of(pangu("rre-ecss"));
  REQUIRE(device.device_peak() > device.device_capacity);
  REQUIRE_FALSE(device.fits());
  REQUIRE(ecss.device_peak() <= ecss.device_capacity);
  REQUIRE(ecss.host <= ecss.host_capacity);
  REQUIRE(ecss.fits());
}

TEST_CASE("sparse: RRE with every domain on every rank (domain_data: mixed) sends across the groups", "[sparse][rre]") {
  // As the grouped case above, but each rank holds 128 tokens of each domain (the reference
  // trainer's random slices of the batch): 32 to each of the 8 experts. Rank 0's experts 0,1
  // still get 4 x 2 x 32 = 256 tokens; it sends 64 tokens (32,768 bytes) to each of the 3 other
  // ranks, and the all-to-all spans all 4 ranks: 3 pairwise rounds of 32,768 bytes.
  const auto t = traffic_of(tiny_moe({"model.moe.domain_data=mixed"}));
  REQUIRE(t.size() == 2);
  for (const auto& layer : t) {
    REQUIRE(layer.group == 4);
    REQUIRE(layer.busiest_rank_tokens == Approx(256).epsilon(1e-12));
    for (int r = 1; r < 4; ++r) REQUIRE(layer.dispatch[0][r] == Approx(32768).epsilon(1e-12));
    REQUIRE(layer.a2a_bytes == Approx(3 * 32768).epsilon(1e-12));
    REQUIRE(layer.pairwise_bytes == Approx(3 * 32768).epsilon(1e-12));
  }
  CHECK_THROWS_AS(tiny_moe({"model.moe.domain_data=scattered"}), InputError);
}

TEST_CASE("sparse: the hierarchical all-to-all's two phases and its closed form, by hand", "[sparse][a2a]") {
  // tiny-moe on 16 devices (nodes of 4) with tp 1, dp 16, ep 8, micro-batch 1 (128 tokens), every
  // domain on every rank: RRE sends each rank's 64 tokens of a domain evenly to that domain's 4
  // experts' ranks, 16 tokens = 16 x 256 x 2 = 8,192 bytes to each of the 8 ranks. A group of 8
  // ranks spans L = 4 per node, N = 2 nodes. Pairwise: 7 rounds of 8,192 = 57,344 bytes.
  // Hierarchical, inside the node: rank (n, i) sends (n, j) what goes to local index j on both
  // nodes, 2 x 8,192, in 3 rounds: 49,152; between nodes: (n, j) sends (m, j) what its 4 node
  // ranks have for it, 4 x 8,192, in 1 round: 32,768.
  const std::vector<std::string> sets{"plan.tp=1", "plan.dp=16", "plan.ep=8", "training.micro_batch=1", "training.global_batch=64",
                                      "model.moe.domain_data=mixed", "plan.collectives.ep=hierarchical"};
  const Scenario sc = tiny_moe(sets);
  const auto t = traffic_of(sc);
  REQUIRE(t.size() == 2);
  for (const auto& layer : t) {
    REQUIRE(layer.group == 8);
    REQUIRE(layer.dispatch[0][1] == Approx(8192).epsilon(1e-12));
    REQUIRE(layer.pairwise_bytes == Approx(7 * 8192).epsilon(1e-12));
    REQUIRE(layer.per_node == 4);
    REQUIRE(layer.intra_phase_bytes == Approx(3 * 2 * 8192).epsilon(1e-12));
    REQUIRE(layer.inter_phase_bytes == Approx(4 * 8192).epsilon(1e-12));
  }
  // The step's all-to-all: (L-1) a_intra + intra/B_intra + (N-1) a_inter + inter/B_inter on the
  // group's geometry; pairwise, (G-1) a + S/B on the slowest level.
  const sim::Geometry g = sim::geometry(sc.cluster, workload::Group{8, 1});
  REQUIRE(g.per_node == 4);
  const double hier = 3 * g.intra.latency + 49152 / g.intra.bandwidth + 1 * g.inter.latency + 32768 / g.inter.bandwidth;
  const auto blocks = sim::block_times(sc, workload::layout_of(sc), t);
  CHECK(blocks.parts[0].a2a == Approx(hier).epsilon(1e-12));
  const Scenario flat = tiny_moe({sets.begin(), sets.end() - 1});
  const auto flat_blocks = sim::block_times(flat, workload::layout_of(flat), traffic_of(flat));
  CHECK(flat_blocks.parts[0].a2a == Approx(sim::all_to_all(g, 57344)).epsilon(1e-12));
  CHECK(blocks.parts[0].a2a < flat_blocks.parts[0].a2a);
  // one node (tp 4: one rank per node; or the group inside a node): the same as pairwise
  const auto one = traffic_of(tiny_moe({"plan.collectives.ep=hierarchical"}));
  CHECK(one[0].per_node == 1);
}

TEST_CASE("sparse: RRE with one token histogram per domain routes each domain by its own", "[sparse][rre]") {
  // Domain 0's tokens are all ID 0, domain 1's all ID 1: each domain group sends every token to
  // the one expert its table gives that ID, so each layer activates one expert per group.
  const fs::path dir = fs::temp_directory_path() / ("sparsim-hist-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "d0.hist") << "0 100\n";
  std::ofstream(dir / "d1.hist") << "1 100\n";
  const std::string files = "[" + (dir / "d0.hist").string() + ", " + (dir / "d1.hist").string() + "]";
  const Scenario sc = tiny_moe({"model.moe.token_histogram.distribution=file", "model.moe.token_histogram.files=" + files});
  REQUIRE(sc.model.moe->token_histogram.files.size() == 2);
  for (const auto& t : traffic_of(sc)) {
    const std::vector<int> table = routing::rre_table(routing::RreSpec{1000, 8, 2, 0}, t.layer);
    std::vector<double> id0(1000, 0.0), id1(1000, 0.0);
    id0[0] = 1, id1[1] = 1;
    const std::vector<double> tokens = routing::rre_expert_tokens(routing::RreSpec{1000, 8, 2, 0}, table, {1.0, 1.0}, {id0, id1});
    // by hand: expert table[0] of group 0 and expert 4 + table[1] of group 1 get all the tokens
    REQUIRE(tokens[static_cast<std::size_t>(table[0])] == Approx(1.0));
    REQUIRE(tokens[static_cast<std::size_t>(4 + table[1])] == Approx(1.0));
    REQUIRE(t.activated_experts == 1);
  }
  CHECK_THROWS_AS(tiny_moe({"model.moe.token_histogram.distribution=file",
                            "model.moe.token_histogram.files=[" + (dir / "d0.hist").string() + "]"}),
                  InputError);
  fs::remove_all(dir);
}

TEST_CASE("sparse: ranks that time-share cores finish their experts by processor sharing", "[sparse][shared]") {
  // Four jobs of 1, 3, 5 and 7 ms of CPU on 2 threads: 2 ms until the first is done (4 at half
  // a thread each), 3 more for the second (3 at 2/3), 2 for the third, 2 for the last: 9 ms.
  // Their fair-share times (half a thread each) are twice their CPU.
  CHECK(sim::shared_makespan({2, 6, 10, 14}, 2) == Approx(9).epsilon(1e-12));
  CHECK(sim::shared_makespan({14, 2, 10, 6}, 2) == Approx(9).epsilon(1e-12));  // any order
  CHECK(sim::shared_makespan({5, 5, 5, 5}, 2) == Approx(5).epsilon(1e-12));    // even: the fair share
  CHECK(sim::shared_makespan({0, 0, 0, 8}, 2) == Approx(4).epsilon(1e-12));    // alone: a whole thread
  CHECK(sim::shared_makespan({3, 1}, 4) == Approx(3).epsilon(1e-12));          // fewer jobs than threads
  CHECK(sim::shared_makespan({}, 2) == 0);

  // tiny-moe on one node of 4 devices that are 4 ranks on 2 cores, one device each (tp = 1),
  // a top-1 gate with a Zipf load: one rank computes the most. The expert phases last the
  // processor-sharing makespan of the 4 ranks' experts, less than the busiest rank's at its
  // fair share; the rest of the layer is even and keeps its time. (The seed permutes which
  // experts the Zipf shares go to.)
  const std::vector<std::string> plan{"cluster.nodes=1", "plan.tp=1", "plan.dp=4", "plan.ep=4", "training.micro_batch=4",
                                      "model.moe.router=topk", "model.moe.domains=1", "model.moe.top_k=1",
                                      "model.moe.capacity_factor=8", "model.moe.load.distribution=zipf",
                                      "model.moe.load.zipf_s=1", "cluster.node.host.shares_device_cores=true"};
  auto with_cores = [&](int cores) {
    auto sets = plan;
    sets.push_back("cluster.node.host.cores=" + std::to_string(cores));
    return tiny_moe(sets);
  };
  const Scenario own = with_cores(4), shared = with_cores(2);
  REQUIRE(sim::time_shared_threads(own.cluster.node) == 0);
  REQUIRE(sim::time_shared_threads(shared.cluster.node) == 2);
  // host.threads (default: cores) counts hardware threads: 4 on 2 cores leave each rank its own
  auto smt = plan;
  smt.insert(smt.end(), {"cluster.node.host.cores=2", "cluster.node.host.threads=4"});
  CHECK(sim::time_shared_threads(tiny_moe(smt).cluster.node) == 0);
  smt.back() = "cluster.node.host.threads=1";
  CHECK_THROWS_AS(tiny_moe(smt), InputError);  // fewer threads than cores
  const auto traffic = traffic_of(shared);
  const auto& t = traffic.front();
  REQUIRE(t.rank_expert_tokens.size() == 4);
  REQUIRE(std::count(t.rank_expert_tokens.begin(), t.rank_expert_tokens.end(), t.busiest_expert_tokens) >= 1);
  const sim::BlockTimes a = sim::block_times(own, workload::layout_of(own), traffic),
                        b = sim::block_times(shared, workload::layout_of(shared), traffic);
  CHECK(b.parts[0].pre.forward == a.parts[0].pre.forward);
  CHECK(b.parts[0].experts.forward < a.parts[0].experts.forward);
  CHECK(b.parts[0].experts.backward < a.parts[0].experts.backward);
  // by hand: each rank's experts alone, then shared
  std::vector<double> fwd;
  for (const auto& mine : t.rank_expert_tokens) {
    double sum = 0;
    for (double x : mine) sum += x;
    const Scenario& sc = shared;
    const auto w = workload::expert_block(workload::shape_of(sc), sum, t.local_experts, sc.model.moe->expert_ffn_hidden,
                                          sc.plan.recompute, mine);
    double f = 0;
    for (const auto& op : w.forward.ops) f += sim::op_time(op, sc.cluster.node.device, sc.training.precision);
    fwd.push_back(f);
  }
  CHECK(*std::max_element(fwd.begin(), fwd.end()) == Approx(a.parts[0].experts.forward).epsilon(1e-12));
  CHECK(b.parts[0].experts.forward == Approx(sim::shared_makespan(fwd, 2)).epsilon(1e-12));
  CHECK(sim::analytic_step(shared).step_time < sim::analytic_step(own).step_time);
  // an even load: every rank has the same experts' work, so sharing changes nothing
  auto even = plan;
  even.erase(std::remove(even.begin(), even.end(), "model.moe.load.distribution=zipf"), even.end());
  even.erase(std::remove(even.begin(), even.end(), "model.moe.load.zipf_s=1"), even.end());
  auto even_cores = [&](int cores) {
    auto sets = even;
    sets.push_back("cluster.node.host.cores=" + std::to_string(cores));
    return tiny_moe(sets);
  };
  CHECK(sim::analytic_step(even_cores(2)).step_time == Approx(sim::analytic_step(even_cores(4)).step_time).epsilon(1e-12));
}

TEST_CASE("sparse: an assumed model.moe.activated replaces the routing model's count", "[sparse][ecss]") {
  const std::string hist = std::string(SPARSIM_TEST_DATA) + "/one-token.hist";
  const std::vector<std::string> one_token{"plan.placement=ecss", "model.moe.token_histogram.distribution=file",
                                           "model.moe.token_histogram.file=" + hist};
  const Scenario counted = tiny_moe(one_token);
  std::vector<std::string> sets = one_token;
  sets.push_back("model.moe.activated=0.25");
  const Scenario assumed = tiny_moe(sets);
  const workload::Layout l = workload::layout_of(counted);
  const workload::DeviceParams dp = workload::device_params(counted, l);
  REQUIRE(workload::activated_expert_params(counted, l, dp, traffic_of(counted)) == Approx(kExpert / 2).epsilon(1e-12));
  REQUIRE(workload::activated_expert_params(assumed, l, dp, traffic_of(assumed)) == Approx(kExpert * 0.25).epsilon(1e-12));
  // 'counted' is the default, written or not
  sets.back() = "model.moe.activated=counted";
  REQUIRE(tiny_moe(sets).model.moe->activated == 0);
  for (const char* bad : {"0", "1.5", "-0.1", "half", "0.5x"}) {
    sets.back() = std::string("model.moe.activated=") + bad;
    try {
      tiny_moe(sets);
      FAIL("accepted model.moe.activated=" << bad);
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), Catch::Contains("model.moe.activated") && Catch::Contains("expected 'counted' or a fraction"));
    }
  }
}

TEST_CASE("sparse: the host path layer by layer is a flow shop over d2h, host Adam and h2d", "[sparse][host_overlap]") {
  using Job = sim::OptimizerPhase::Job;
  // Two half jobs, each 0.5 s per resource. The first's gradients are final 1 s before the
  // backward ends and its weights due at the next forward's start, the second's final at the
  // end and due 1 s into the forward. First: d2h -1..-0.5, Adam -0.5..0, h2d 0..0.5 (0.5 late);
  // second: d2h 0..0.5, Adam 0.5..1, h2d 1..1.5 (0.5 late). 0.5 s exposed, all of it h2d.
  const std::vector<Job> jobs{{0.5, -1.0, 0.0}, {0.5, 0.0, 1.0}};
  auto x = sim::OptimizerPhase::expose(1, 1, 1, 0, jobs, false);
  CHECK(x.d2h == 0);
  CHECK(x.host_optimizer == 0);
  CHECK(x.h2d == Approx(0.5).epsilon(1e-12));
  // A device optimizer of 0.25 s delays the next forward: 0.25 s exposed.
  x = sim::OptimizerPhase::expose(1, 1, 1, 0.25, jobs, false);
  CHECK(x.host() == Approx(0.25).epsilon(1e-12));
  CHECK(x.device_optimizer == 0.25);
  // No jobs: all of it after the backward, the device optimizer hiding its start.
  x = sim::OptimizerPhase::expose(1, 1, 1, 0.25, {}, false);
  CHECK(x.d2h == 0.75);
  CHECK(x.host_optimizer == 1);
  CHECK(x.h2d == 1);
  // A host that is the devices' cores overlaps nothing.
  x = sim::OptimizerPhase::expose(1, 1, 1, 0.25, jobs, true);
  CHECK(x.host() == 3);
}

TEST_CASE("sparse: host_overlap layers hides PanGu-Sigma's host path behind the layers, and needs a router that routes ahead",
          "[sparse][host_overlap][pangu]") {
  const sim::StepResult overlapped = sim::analytic_step(pangu("rre-ecss"));
  auto sc = config::load_scenario(std::string(SPARSIM_SOURCE_DIR) + "/scenarios/pangu-sigma/pangu-sigma-rre-ecss-512.yaml",
                                  {"plan.host_overlap=none"})
                .scenario;
  const sim::StepResult after = sim::analytic_step(sc);
  REQUIRE(overlapped.feasible);
  const auto host = [](const sim::StepResult& r) { return r.breakdown.d2h + r.breakdown.host_optimizer + r.breakdown.h2d; };
  CHECK(host(overlapped) < host(after));
  CHECK(overlapped.step_time < after.step_time);
  CHECK(overlapped.step_time - after.step_time == Approx(host(overlapped) - host(after)).epsilon(1e-9));
  // A learned gate with ecss cannot fetch ahead; the device placement has no host path.
  for (const auto& sets : std::vector<std::vector<std::string>>{{"plan.placement=ecss", "plan.host_overlap=layers"},
                                                                 {"plan.host_overlap=layers"}}) {
    const Scenario bad = config::load_scenario(
                             std::string(SPARSIM_SOURCE_DIR) + "/scenarios/pangu-sigma/pangu-sigma-moe-512.yaml", sets)
                             .scenario;
    const sim::StepResult r = sim::analytic_step(bad);
    REQUIRE_FALSE(r.feasible);
    CHECK_THAT(r.infeasible.front(), Catch::Contains("host_overlap layers"));
  }
}

TEST_CASE("sparse: the MoE baseline of the 6.3x moves and updates every expert on the host", "[sparse][pangu]") {
  const Scenario sc = pangu("moe-offload");
  const workload::Layout l = workload::layout_of(sc);
  const workload::DeviceParams dp = workload::device_params(sc, l);
  const auto traffic = workload::sparse_traffic(sc, l);
  // zero 1 shards the dense part over dp 64; the experts (dp / ep = 1 replica) are not sharded
  REQUIRE(sim::host_path_params(sc, l, dp, traffic) == Approx(dp.dense / 64 + dp.experts).epsilon(1e-12));
  const sim::StepResult r = sim::analytic_step(sc);
  REQUIRE(r.feasible);
  CHECK(r.memory.fits());
}

TEST_CASE("sparse: shared experts are a dense FFN of every sparse layer, in parameters, FLOPs and memory", "[sparse][shared]") {
  // tiny-moe: h 256, 2 sparse layers, tp 4; a shared expert of FFN 512 (mlp: 2hf + f + h).
  const Scenario plain = tiny_moe();
  const Scenario shared = tiny_moe({"model.moe.shared_experts=1", "model.moe.shared_ffn_hidden=512"});
  REQUIRE(shared.model.moe->shared_experts == 1);
  REQUIRE(tiny_moe({"model.moe.shared_experts=2"}).model.moe->shared_ffn_hidden == 1024);  // expert_ffn_hidden by default
  const double one = 2.0 * 256 * 512 + 512 + 256;
  const auto pc = workload::count_params(plain.model), ps = workload::count_params(shared.model);
  CHECK(ps.total - pc.total == Approx(2 * one).epsilon(1e-12));
  CHECK(ps.active - pc.active == Approx(2 * one).epsilon(1e-12));  // every token uses it
  const sim::StepResult a = sim::analytic_step(plain), b = sim::analytic_step(shared);
  REQUIRE(a.feasible);
  REQUIRE(b.feasible);
  // model FLOPs per step: 3 x forward; the shared FFN's two GEMMs are 2 x (2 h f) per token,
  // over 16 x 128 tokens in 2 sparse layers
  CHECK(b.model_flops - a.model_flops == Approx(3 * 2 * (2.0 * 256 * 512) * 16 * 128 * 2).epsilon(1e-9));
  CHECK(b.breakdown.compute > a.breakdown.compute);
  CHECK(b.memory.activations > a.memory.activations);
  CHECK(b.memory.params > a.memory.params);
  // the exact counts the trainer is checked against hold the same GEMM FLOPs
  CHECK(b.counts.gemm_flops > a.counts.gemm_flops);
}

TEST_CASE("sparse: dropless routing keeps every token, and the busiest expert paces the layer and sizes its buffers",
          "[sparse][dropless]") {
  const std::vector<std::string> topk{"model.moe.router=topk", "model.moe.domains=1", "model.moe.top_k=2",
                                      "model.moe.load.distribution=zipf", "model.moe.load.zipf_s=1"};
  auto with = [&](const char* cf) {
    std::vector<std::string> sets = topk;
    sets.push_back(std::string("model.moe.capacity_factor=") + cf);
    return tiny_moe(sets);
  };
  const Scenario capped = with("1.0"), dropless = with("none");
  REQUIRE(dropless.model.moe->capacity_factor == 0);
  const auto tc = traffic_of(capped), td = traffic_of(dropless);
  CHECK(tc.front().dropped_fraction > 0);
  CHECK(td.front().dropped_fraction == 0);
  CHECK(td.front().busiest_rank_tokens > tc.front().busiest_rank_tokens);
  const sim::StepResult rc = sim::analytic_step(capped), rd = sim::analytic_step(dropless);
  CHECK(rd.breakdown.compute > rc.breakdown.compute);
  CHECK(rd.memory.activations > rc.memory.activations);
  CHECK_THROWS_AS(tiny_moe({"model.moe.capacity_factor=nothing"}), InputError);
}

TEST_CASE("sparse: the busiest sub-group of expert tensor parallelism, by hand", "[sparse][etp]") {
  workload::SparseLayerTraffic tr;
  tr.local_experts = 4;
  tr.rank_expert_tokens = {{1, 2, 3, 4}, {5, 0, 0, 1}};
  tr.busiest_expert_tokens = tr.rank_expert_tokens[0];  // rank 0: 10 > 6
  // one group: the rank's experts
  workload::DeviceExperts x = workload::device_experts(tr, -1, 1);
  CHECK(x.tokens == 10);
  CHECK(x.experts == 4);
  CHECK(x.expert_tokens == std::vector<double>{1, 2, 3, 4});
  // two groups of two experts: rank 0's second (3 + 4) beats rank 1's first (5 + 0)
  x = workload::device_experts(tr, -1, 2);
  CHECK(x.tokens == 7);
  CHECK(x.experts == 2);
  CHECK(x.expert_tokens == std::vector<double>{3, 4});
  x = workload::device_experts(tr, 1, 2);
  CHECK(x.tokens == 5);
  CHECK(x.expert_tokens == std::vector<double>{5, 0});
  // four groups of one: the busiest expert alone
  x = workload::device_experts(tr, -1, 4);
  CHECK(x.tokens == 5);
  CHECK(x.expert_tokens == std::vector<double>{5});
}

TEST_CASE("sparse: plan.etp splits each expert over fewer devices: the same FLOPs, wider GEMMs, a smaller all-reduce",
          "[sparse][etp]") {
  // tiny-moe at tp 4, ep 4, 16 experts (4 per rank), an expected top-2 gate (even load): etp 4
  // is the default; etp 1 gives each device one whole expert and no expert all-reduce.
  const std::vector<std::string> base{"model.moe.router=topk", "model.moe.domains=1", "model.moe.top_k=2", "model.moe.experts=16"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> all = base;
    all.insert(all.end(), more.begin(), more.end());
    return tiny_moe(all);
  };
  const sim::StepResult dflt = sim::analytic_step(with({})), four = sim::analytic_step(with({"plan.etp=4"}));
  const sim::StepResult two = sim::analytic_step(with({"plan.etp=2"})), one = sim::analytic_step(with({"plan.etp=1"}));
  CHECK(four.step_time == dflt.step_time);
  CHECK(four.counts.expert_gemm_flops == dflt.counts.expert_gemm_flops);
  for (const sim::StepResult* r : {&two, &one}) {
    REQUIRE(r->feasible);
    CHECK(r->counts.expert_gemm_flops == Approx(four.counts.expert_gemm_flops).epsilon(1e-12));
    CHECK(r->counts.tp_bytes < four.counts.tp_bytes);
    CHECK(r->step_time < four.step_time);
    CHECK(r->memory.params == Approx(four.memory.params).epsilon(1e-12));  // the rank's experts, split over its tp devices either way
  }
  CHECK(one.counts.tp_bytes < two.counts.tp_bytes);
  // An expert's up projection: [tokens, h] @ [h, f / etp]
  const Scenario sc = with({"plan.etp=1"});
  const workload::Layout l = workload::layout_of(sc);
  const auto traffic = workload::sparse_traffic(sc, l);
  const workload::DeviceExperts x = workload::device_experts(traffic.front(), -1, 4);
  CHECK(x.experts == 1);
  const workload::LayerWork w = workload::expert_block(workload::shape_of(sc), x.tokens, x.experts, 1024, Recompute::none, x.expert_tokens, 1);
  const auto up = std::find_if(w.forward.ops.begin(), w.forward.ops.end(), [](const workload::Op& o) { return o.name == "expert_ffn_up"; });
  REQUIRE(up != w.forward.ops.end());
  CHECK(up->calls.front().n == 1024);
  CHECK(w.forward.tp.empty());
  // Infeasible when a rank's experts do not split into tp / etp sub-groups; etp must divide tp.
  const sim::StepResult bad = sim::analytic_step(tiny_moe({"plan.etp=1"}));  // 8 experts / ep 4 = 2 per rank, 4 sub-groups
  CHECK_FALSE(bad.feasible);
  CHECK_THAT(bad.infeasible.front(), Catch::Contains("do not split into tp / etp = 4 sub-groups"));
  const sim::StepResult three = sim::analytic_step(tiny_moe({"plan.etp=3"}));
  CHECK_FALSE(three.feasible);
  CHECK_THAT(three.infeasible.front(), Catch::Equals("etp 3 does not divide tp 4"));
  try {
    tiny_moe({"plan.etp=0"});
    FAIL("etp 0 loaded");
  } catch (const InputError& e) {
    CHECK(e.key_path() == "plan.etp");
  }
}

TEST_CASE("sparse: einsum dispatch adds GShard's one-hot products, counted by hand, to hardware FLOPs only", "[sparse][einsum]") {
  // tiny-moe with a learned top-2 gate: S = b s / t = 2 x 128 / 4 = 64 tokens per device,
  // capacity C = ceil(1.0 x 2 x 64 / 8) = 16, E C = 128. Per sparse layer and micro-batch one
  // device runs the dispatch [E C, S] @ [S, h] and the combine [S, E C] @ [E C, h], 2 S (E C) h
  // = 4,194,304 FLOP each; the backward takes the tokens' gradient of the dispatch (x1) and both
  // gradients of the combine (x2): 5 x 4,194,304 = 20,971,520 per layer and micro-batch.
  const std::vector<std::string> gate = {"model.moe.router=topk", "model.moe.domains=1", "model.moe.top_k=2", "plan.recompute=none"};
  std::vector<std::string> einsum = gate;
  einsum.push_back("model.moe.dispatch=einsum");
  const Scenario index_sc = tiny_moe(gate), einsum_sc = tiny_moe(einsum);
  const sim::StepResult a = sim::analytic_step(index_sc), b = sim::analytic_step(einsum_sc);
  REQUIRE(a.feasible);
  REQUIRE(b.feasible);
  // 2 sparse layers x 2 micro-batches, times the tp 4 x dp 4 devices of the step
  const double per_layer = 5 * 2 * 64.0 * 128 * 256;
  CHECK(b.hardware_flops - a.hardware_flops == Approx(per_layer * 2 * 2 * 16).epsilon(1e-12));
  CHECK(b.model_flops == a.model_flops);  // the model routes; the products are the implementation's
  CHECK(b.step_time > a.step_time);
  // Both products keep their S x E C mask in bf16 for the backward: 2 x 8,192 x 2 bytes per
  // sparse layer, one micro-batch in flight (1F1B, pp 1).
  CHECK(memory_of(einsum_sc).activations - memory_of(index_sc).activations == Approx(2 * 2 * 8192.0 * 2));
  // With full recomputation the einsums run once more before the backward: 2 x 4,194,304 more
  // per layer and micro-batch; the masks exist only while their layer is recomputed.
  std::vector<std::string> full_index = gate;
  full_index.back() = "plan.recompute=full";
  std::vector<std::string> full = full_index;
  full.push_back("model.moe.dispatch=einsum");
  const sim::StepResult c = sim::analytic_step(tiny_moe(full_index)), d = sim::analytic_step(tiny_moe(full));
  CHECK(d.hardware_flops - c.hardware_flops == Approx(7 * 2 * 64.0 * 128 * 256 * 2 * 2 * 16).epsilon(1e-12));
  CHECK(memory_of(tiny_moe(full)).activations - memory_of(tiny_moe(full_index)).activations == Approx(2 * 8192.0 * 2));
  // The mask is a constant: the dispatch's backward is one product, the tokens' gradient
  // [S, E C] @ [E C, h] = [64, 128] @ [128, 256]; the combine's both gradients.
  const workload::LayerWork w = workload::einsum_dispatch_block(workload::shape_of(einsum_sc), *einsum_sc.model.moe, Recompute::none);
  for (const workload::Op& o : w.backward.ops) {
    INFO(o.name);
    if (o.name == "dispatch_einsum.bwd") {
      REQUIRE(o.calls.size() == 1);
      CHECK((o.calls[0].m == 64 && o.calls[0].n == 256 && o.calls[0].k == 128 && o.calls[0].trans == GemmTrans::nn));
    }
    if (o.name == "combine_einsum.bwd") CHECK(o.calls.size() == 2);
  }
}

TEST_CASE("sparse: einsum dispatch needs a learned gate with a capacity", "[sparse][einsum]") {
  CHECK_THROWS_AS(tiny_moe({"model.moe.dispatch=einsum"}), InputError);  // rre
  CHECK_THROWS_AS(tiny_moe({"model.moe.router=topk", "model.moe.domains=1", "model.moe.capacity_factor=none", "model.moe.dispatch=einsum"}),
                  InputError);
  CHECK_THROWS_AS(tiny_moe({"model.moe.router=topk", "model.moe.domains=1", "model.moe.dispatch=gather"}), InputError);
  CHECK_NOTHROW(tiny_moe({"model.moe.router=switch", "model.moe.domains=1", "model.moe.dispatch=einsum"}));
}
