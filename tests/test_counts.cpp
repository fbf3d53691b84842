// Counts at cluster scale (issue 21, item 4): devices, nodes, data-parallel ranks, sequences and
// tokens per step are 64-bit, exact up to kMaxCount = 2^53 and rejected beyond it; nothing wraps.
// 800,000,000 nodes of 8 devices are 6,400,000,000 devices, which a 32-bit int wrapped to
// 6,400,000,000 - 2^32 = 2,105,032,704.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/error.hpp"
#include "config/loader.hpp"
#include "sim/analytic.hpp"
#include "sim/des/des_backend.hpp"
#include "sim/des/footprint.hpp"
#include "sim/result.hpp"
#include "workload/footprint.hpp"
#include "workload/sparse.hpp"

using namespace sparsim;

namespace {
std::string scenario(const std::string& f) { return std::string(SPARSIM_SOURCE_DIR) + "/scenarios/" + f; }
Scenario load(const std::string& f, const std::vector<std::string>& sets = {}) {
  return config::load_scenario(scenario(f), sets).scenario;
}
// The InputError that `run` must raise.
template <class F>
InputError input_error_of(F&& run) {
  try {
    run();
  } catch (const InputError& e) {
    return e;
  }
  FAIL("expected an InputError");
  throw;  // unreachable
}
InputError error_of(const std::string& f, const std::vector<std::string>& sets) {
  return input_error_of([&] { load(f, sets); });
}
const std::string kGpt3 = "dense/gpt3-175b-1024xa100.yaml";  // DGX A100: 8 devices per node; tp 8, pp 8, dp 16
}  // namespace

TEST_CASE("counts: nodes x devices per node is exact past 2^31 and 2^32", "[counts]") {
  // 125,000,000 x 8 = 10^9 devices; 800,000,000 x 8 = 6.4e9 (> 2^32 = 4,294,967,296)
  CHECK(load(kGpt3, {"cluster.nodes=125000000"}).cluster.devices() == 1'000'000'000);
  CHECK(load(kGpt3, {"cluster.nodes=800000000"}).cluster.devices() == 6'400'000'000);
  // the largest cluster accepted: 2^53 / 8 = 2^50 nodes, 2^53 devices
  CHECK(load(kGpt3, {"cluster.nodes=1125899906842624"}).cluster.devices() == kMaxCount);
}

TEST_CASE("counts: values and products past the limits are input errors naming the key", "[counts]") {
  // 2^50 + 1 nodes x 8 = 2^53 + 8 = 9,007,199,254,741,000 devices
  auto e = error_of(kGpt3, {"cluster.nodes=1125899906842625"});
  CHECK(e.key_path() == "cluster.nodes");
  CHECK(e.origin().file == "--set cluster.nodes=1125899906842625");
  CHECK_THAT(e.message(), Catch::Contains("expected at most 9007199254740992 (2^53) devices") &&
                              Catch::Contains("1125899906842625 x 8 = 9007199254741000"));
  // 2^53 + 1 nodes: beyond the key's own range; 10^30 nodes: beyond a long long
  for (const std::string n : {"9007199254740993", "1000000000000000000000000000000"}) {
    e = error_of(kGpt3, {"cluster.nodes=" + n});
    CHECK(e.key_path() == "cluster.nodes");
    CHECK_THAT(e.message(), Catch::Contains("expected an integer in [1, 9007199254740992], found " + n));
  }
  // An int-sized key: 2^32 + 1 would wrap to 1 in an int.
  e = error_of(kGpt3, {"model.hidden=4294967297"});
  CHECK(e.key_path() == "model.hidden");
  CHECK_THAT(e.message(), Catch::Contains("expected an integer in [1, 2147483647], found 4294967297"));
  // tp x pp x dp = 8 x 8 x 2^50 = 2^56 devices
  e = error_of(kGpt3, {"plan.dp=1125899906842624"});
  CHECK(e.key_path() == "plan.dp");
  CHECK_THAT(e.message(), Catch::Contains("tp x pp x dp = 8 x 8 x 1125899906842624 = 72057594037927936"));
  // 2^31 - 1 x 2^31 - 1 x 2^53: more than an int64 holds, reported as such, not wrapped
  e = error_of(kGpt3, {"plan.tp=2147483647", "plan.pp=2147483647", "plan.dp=9007199254740992"});
  CHECK(e.key_path() == "plan.dp");
  CHECK_THAT(e.message(), Catch::Contains("= more than 2^63"));
  // tokens per step: 2^43 sequences x 2048 tokens (GPT-3) = 2^54
  e = error_of(kGpt3, {"training.global_batch=8796093022208"});
  CHECK(e.key_path() == "training.global_batch");
  CHECK_THAT(e.message(), Catch::Contains("tokens per step"));
}

TEST_CASE("counts: the analytic backend at 10^9 and 6.4e9 devices, in closed form", "[counts][analytic]") {
  // GPT-3 as shipped: 1,024 devices, tp 8 x pp 8 x dp 16, 1,536 sequences of 1 = 96 micro-batches
  // per pipeline. Scaled by data parallelism at the same per-device work: dp = devices / 64 and
  // global_batch = 96 dp. 10^9 devices: dp 15,625,000, 1.5e9 sequences; 6.4e9 devices: dp 10^8,
  // 9.6e9 sequences (past 2^32).
  const sim::StepResult base = sim::analytic_step(load(kGpt3));
  REQUIRE(base.feasible);
  REQUIRE(base.micro_batches == 96);
  struct Case {
    const char *nodes, *dp, *batch;
    std::int64_t devices;
    double dp_ratio;
  };
  for (const Case& c : {Case{"125000000", "15625000", "1500000000", 1'000'000'000, 15625000 / 16.0},
                        Case{"800000000", "100000000", "9600000000", 6'400'000'000, 100000000 / 16.0}}) {
    const Scenario sc =
        load(kGpt3, {std::string("cluster.nodes=") + c.nodes, std::string("plan.dp=") + c.dp,
                     std::string("training.global_batch=") + c.batch});
    const sim::StepResult r = sim::analytic_step(sc);
    REQUIRE(r.feasible);
    CHECK(r.devices == c.devices);
    CHECK(sim::to_json(r).at("devices").get<std::int64_t>() == c.devices);
    CHECK_THAT(sim::to_table(r), Catch::Contains(std::to_string(c.devices) + " devices"));
    CHECK(r.micro_batches == 96);
    // the same per-device work: the critical stage's compute is the shipped scenario's
    CHECK(r.breakdown.compute == Approx(base.breakdown.compute).epsilon(1e-12));
    // model FLOPs per step grow with the replicas: x dp / 16
    CHECK(r.model_flops == Approx(base.model_flops * c.dp_ratio).epsilon(1e-12));
    // tokens/s = global_batch x 2048 / step time
    CHECK(r.tokens_per_s == Approx(std::stod(c.batch) * 2048 / r.step_time).epsilon(1e-12));
    CHECK(r.breakdown.total() == Approx(r.step_time).epsilon(1e-12));
  }
}

TEST_CASE("counts: a sparse model at 10^9 devices keeps its expert-parallel group", "[counts][sparse]") {
  // PanGu-Sigma RRE+ECSS: 64 Ascend 910 servers of 8, tp 8, dp 64 = ep 64, 8 sequences per rank.
  // At 125,000,000 nodes: dp 125,000,000 replicas, still ep 64 (each group of 64 ranks routes
  // among itself), 10^9 sequences. A rank's tokens, its all-to-alls and its experts' compute do
  // not change: the ep and compute terms are the shipped scenario's.
  const std::string f = "pangu-sigma/pangu-sigma-rre-ecss-512.yaml";
  const sim::StepResult base = sim::analytic_step(load(f));
  const sim::StepResult r =
      sim::analytic_step(load(f, {"cluster.nodes=125000000", "plan.dp=125000000", "training.global_batch=1000000000"}));
  REQUIRE(r.feasible);
  CHECK(r.devices == 1'000'000'000);
  CHECK(r.breakdown.ep == Approx(base.breakdown.ep).epsilon(1e-12));
  CHECK(r.breakdown.compute == Approx(base.breakdown.compute).epsilon(1e-12));
}

TEST_CASE("counts: routing matrices too large for memory are refused, not allocated", "[counts][sparse]") {
  // tiny-moe with 2^30 experts over 2^30 expert-parallel ranks (4 devices per node, tp 4: 2^30
  // nodes, 2^32 devices): the dispatch matrix alone is ep^2 x 8 B = 2^63 B per sparse layer,
  // more than any machine; the scenario is refused with what it would need.
  const Scenario sc = config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny-moe.yaml",
                                            {"cluster.nodes=1073741824", "plan.dp=1073741824", "plan.ep=1073741824",
                                             "model.moe.experts=1073741824", "training.global_batch=2147483648"})
                          .scenario;
  CHECK(sc.cluster.devices() == std::int64_t{1} << 32);
  CHECK(workload::sparse_traffic_bytes(sc) >= 8.0 * 1073741824.0 * 1073741824.0);
  const InputError e = input_error_of([&] { sim::analytic_step(sc); });
  CHECK(e.key_path() == "plan.ep");
  CHECK_THAT(e.message(), Catch::Contains("would need about") && Catch::Contains("GiB"));
}

TEST_CASE("counts: the DES refuses a platform that would not fit in memory, before building it", "[counts][des]") {
  // Shipped GPT-3: 128 nodes, one actor per node (tp 8 = 8 devices), dp 16 x pp 8 = 128 actors.
  // Routes: 128 x 127 between nodes + 128 x g (g + 3) with g = 1 inside them = 16,768.
  // Ops: 2 x 96 micro-batches per actor = 24,576 compute, 16 replicas x 96 x 2 x 7 boundaries =
  // 21,504 p2p, and per actor its gradient buckets and at most five more.
  const Scenario gpt3 = load(kGpt3);
  const sim::des::Footprint small = sim::des::footprint(gpt3, sim::des::unfolded(gpt3));
  CHECK(small.actors == 128);
  CHECK(small.routes == 16768);
  CHECK(small.ops >= 24576 + 21504 + 128);
  CHECK(small.bytes < workload::machine_memory_bytes());  // it runs (golden-des.dense.gpt3-175b-1024xa100)
  // Folded (fold.hpp): one actor per node and a non-blocking fat tree, so the period is one
  // replica and the DES keeps two: 16 actors on 16 nodes, 16 x 15 + 16 x 4 = 304 routes, the
  // ops of two replicas (2 x 8 x 192 = 3,072 compute, 2 x 96 x 2 x 7 = 2,688 p2p).
  const sim::des::Footprint folded = sim::des::footprint(gpt3, sim::des::fold_of(gpt3));
  CHECK(folded.actors == 16);
  CHECK(folded.nodes == 16);
  CHECK(folded.routes == 304);
  CHECK(folded.ops >= 3072 + 2688 + 16);
  CHECK(folded.ops < small.ops / 7);
  // 10^9 devices: 125,000,000 nodes, 1.5625e16 routes x 105 B = 1.6e18 B (1.5e9 GiB) before a
  // single actor when every replica is simulated: refused, whatever this machine holds.
  const Scenario big = load(kGpt3, {"cluster.nodes=125000000", "plan.dp=15625000", "training.global_batch=1500000000"});
  const sim::des::Footprint f = sim::des::footprint(big, sim::des::unfolded(big));
  CHECK(f.routes == Approx(125e6 * (125e6 - 1) + 125e6 * 4).epsilon(1e-15));
  CHECK(f.bytes > 1.6e18);
  const InputError e = input_error_of([&] { sim::des_step(big, sim::DesOptions{"", false}); });
  CHECK(e.key_path() == "cluster.nodes");
  CHECK_THAT(e.message(), Catch::Contains("would need about") && Catch::Contains("more than this machine's") &&
                              Catch::Contains("every replica simulated"));
  // Folded, the same cluster is the two replicas' 16 nodes: the estimate is GPT-3's on 128 GPUs.
  const sim::des::Footprint fb = sim::des::footprint(big, sim::des::fold_of(big));
  CHECK(fb.nodes == 16);
  CHECK(fb.bytes < workload::machine_memory_bytes());
  // A node of two stages' actors (tp 2 on 8-device nodes: 4 actors per node, dp 6) does not fold.
  const Scenario odd = load(kGpt3, {"cluster.nodes=24", "plan.tp=2", "plan.pp=16", "plan.dp=6", "training.global_batch=96"});
  const sim::des::Fold no = sim::des::fold_of(odd);
  CHECK(no.replicas == 6);
  CHECK_THAT(no.unfolded, Catch::Contains("two pipeline stages"));
}
