#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "sim/analytic.hpp"

using namespace sparsim;

namespace {
sim::StepResult run(const std::vector<std::string>& sets = {}) {
  return sim::analytic_step(config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny.yaml", sets).scenario);
}
}  // namespace

TEST_CASE("analytic: the breakdown adds up to the step time", "[analytic]") {
  for (const auto& sets : std::vector<std::vector<std::string>>{{}, {"plan.zero=3"}, {"plan.overlap_dp=false"},
                                                                {"plan.placement=offload"}, {"plan.recompute=full"}}) {
    const auto r = run(sets);
    REQUIRE(r.feasible);
    REQUIRE(r.breakdown.total() == Approx(r.step_time).epsilon(1e-12));
    // tokens/s = B * s / T
    REQUIRE(r.tokens_per_s == Approx(16 * 128 / r.step_time).epsilon(1e-12));
  }
}

TEST_CASE("analytic: pipeline bubble of GPipe, 1F1B and interleaved 1F1B", "[analytic]") {
  // With identical stages the bubble is (p-1)/v micro-batch times, where one micro-batch time is
  // (compute + tp) / m: GPipe and 1F1B have the same bubble, interleaving with v=2 halves it.
  const auto f = run({"plan.schedule=1f1b"});
  const auto g = run({"plan.schedule=gpipe"});
  const auto i = run({"plan.schedule=interleaved", "plan.virtual_stages=2"});
  const double per_mb = (f.breakdown.compute + f.breakdown.tp) / f.micro_batches;
  REQUIRE(f.breakdown.pipeline_bubble == Approx(1 * per_mb).epsilon(1e-12));
  REQUIRE(g.breakdown.pipeline_bubble == Approx(f.breakdown.pipeline_bubble).epsilon(1e-12));
  // The last stage (with the logits) is the slowest; interleaving spreads its work so compare
  // against the interleaved per-micro-batch time.
  const double per_mb_i = (i.breakdown.compute + i.breakdown.tp) / i.micro_batches;
  REQUIRE(i.breakdown.pipeline_bubble == Approx(0.5 * per_mb_i).epsilon(1e-12));
  // GPipe keeps all m micro-batches' activations, 1F1B only p of them.
  REQUIRE(g.memory.activations == Approx(f.memory.activations * 4 / 2).epsilon(1e-12));
}

TEST_CASE("analytic: gradient buckets overlap the backward window", "[analytic]") {
  // Two ranks in one group of tests/data/node.yaml (100 GB/s, 1 us): one 1 MB bucket takes
  // 2*(1/2)*1e6/1e11 + 2*1e-6 = 12 us. Four buckets of a 4 MB gradient become ready at 1, 2, 3,
  // 4 ms of a 4 ms backward: each is done 12 us later, so 12 us stay exposed. Without a window
  // (no overlap) the four run back to back: 48 us.
  const Scenario s = config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny.yaml").scenario;
  const auto g = sim::geometry(s.cluster, {2, 1});
  REQUIRE(sim::exposed_bucketed(4e6, 1e6, 4e-3, g, CollectiveAlgo::ring) == Approx(12e-6).epsilon(1e-9));
  REQUIRE(sim::exposed_bucketed(4e6, 1e6, 0.0, g, CollectiveAlgo::ring) == Approx(48e-6).epsilon(1e-9));
  // A window too short to hide them: ready at 1, 2, 3, 4 us, the link is the bottleneck:
  // finish = 1 us + 4 * 12 us = 49 us, window 4 us -> 45 us exposed.
  REQUIRE(sim::exposed_bucketed(4e6, 1e6, 4e-6, g, CollectiveAlgo::ring) == Approx(45e-6).epsilon(1e-9));
  // In a whole step, overlapping never exposes more than the un-overlapped reduction.
  const auto on = run({"plan.overlap_dp=true"});
  const auto off = run({"plan.overlap_dp=false"});
  REQUIRE(on.breakdown.dp <= off.breakdown.dp);
}

TEST_CASE("analytic: impossible plans come back as a verdict, not a crash", "[analytic]") {
  auto r = run({"plan.tp=3", "plan.pp=1", "plan.dp=1"});
  REQUIRE_FALSE(r.feasible);
  REQUIRE_THAT(r.infeasible.front(), Catch::Contains("tp*pp*dp"));
  bool heads = false;
  for (const auto& w : r.infeasible) heads = heads || w.find("does not divide heads") != std::string::npos;
  REQUIRE(heads);

  r = run({"plan.pp=4", "plan.dp=1", "cluster.nodes=2"});  // 2*4*1 = 8 devices but L=4 / pp=4 fine
  REQUIRE(r.feasible);
  r = run({"training.global_batch=15"});
  REQUIRE_FALSE(r.feasible);
  REQUIRE_THAT(r.infeasible.front(), Catch::Contains("global_batch"));

  // Memory that does not fit is a verdict too: 1 MiB devices.
  r = run({"cluster.node.device.memory=\"1 MiB\""});
  REQUIRE(r.feasible);
  REQUIRE_FALSE(r.memory.fits());
}
