// The plan search (analysis/plan.hpp): its space, its ranking, its thread-count independence,
// and that it finds a plan at least as fast as the hand-written one of every shipped dense scenario.
#include <catch2/catch.hpp>
#include <filesystem>

#include "analysis/plan.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "sim/analytic.hpp"

using namespace sparsim;

namespace {
Scenario load(const std::string& path, const std::vector<std::string>& sets = {}) {
  return config::load_scenario(path, sets).scenario;
}
Scenario tiny() { return load(std::string(SPARSIM_TEST_DATA) + "/tiny.yaml"); }
}  // namespace

TEST_CASE("plan: --devices takes N, a list or a doubling range of whole nodes", "[plan]") {
  CHECK(analysis::parse_devices("64", 8) == std::vector<std::int64_t>{64});
  CHECK(analysis::parse_devices("64,16", 8) == std::vector<std::int64_t>{64, 16});
  CHECK(analysis::parse_devices("512..8192", 8) == std::vector<std::int64_t>{512, 1024, 2048, 4096, 8192});
  CHECK(analysis::parse_devices("8..64*4", 8) == std::vector<std::int64_t>{8, 32});
  for (const char* bad : {"12", "0", "-8", "eight", "8..", "64..8"}) {
    try {
      analysis::parse_devices(bad, 8);
      FAIL("accepted --devices " << bad);
    } catch (const InputError& e) {
      CHECK(e.key_path() == "--devices");
    }
  }
}

TEST_CASE("plan: every plan of the space multiplies out to the devices, and the ranking is the analytic backend's", "[plan]") {
  const Scenario sc = tiny();  // 4 layers, 8 heads, nodes of 4 devices, global batch 16
  auto space = analysis::plan_space(sc, 8);
  REQUIRE(space.size() > 100);
  for (const auto& c : space) {
    REQUIRE(std::int64_t{c.plan.tp} * c.plan.pp * c.plan.dp == 8);
    REQUIRE(sc.training.global_batch % (c.plan.dp * c.micro_batch) == 0);
    REQUIRE(c.plan.ep == 1);  // dense
    REQUIRE((c.plan.virtual_stages == 1) == (c.plan.schedule != Schedule::interleaved));
  }
  analysis::evaluate_plans(sc, 8, space, 2);
  const auto best = analysis::best_plans(space, 3);
  REQUIRE(best.size() == 3);
  CHECK(best[0]->result.tokens_per_s >= best[1]->result.tokens_per_s);
  CHECK(best[1]->result.tokens_per_s >= best[2]->result.tokens_per_s);
  // the best is what simulate gives that plan, and no plan that runs is faster
  CHECK(sim::analytic_step(analysis::with_plan(sc, 8, *best[0])).tokens_per_s == best[0]->result.tokens_per_s);
  for (const auto& c : space) {
    if (c.verdict == "runs") REQUIRE(c.result.tokens_per_s <= best[0]->result.tokens_per_s);
    // a plan pruned before timing has simulate's verdict
    REQUIRE(c.verdict == std::string(sim::verdict(sim::analytic_step(analysis::with_plan(sc, 8, c))).word()));
  }
  // at least as fast as the hand-written plan (tp 2, pp 2, dp 2, micro-batch 2)
  CHECK(best[0]->result.tokens_per_s >= sim::analytic_step(sc).tokens_per_s);
  CHECK_FALSE(analysis::why_slower(best[0]->result, best[1]->result).empty());
}

TEST_CASE("plan: every plan's result is simulate's to the last bit (shared routing and block times change no number)", "[plan]") {
  // evaluate_plans shares the routing per (ep, micro-batch, dp) and the block times per
  // (tp, sp, recompute, micro-batch, routing, time sharing); a plan evaluated alone computes both
  // itself. Dense (tiny) and sparse (tiny-moe: RRE over ep 4) spaces, every plan.
  for (const char* file : {"/tiny.yaml", "/tiny-moe.yaml"}) {
    const Scenario sc = load(std::string(SPARSIM_TEST_DATA) + file);
    const std::int64_t devices = sc.cluster.devices();
    auto space = analysis::plan_space(sc, devices);
    analysis::evaluate_plans(sc, devices, space, 2);
    std::size_t runs = 0;
    for (const auto& c : space) {
      if (c.verdict != "runs") continue;
      ++runs;
      const sim::StepResult alone = sim::analytic_step(analysis::with_plan(sc, devices, c));
      INFO(file << ": " << analysis::describe(c));
      REQUIRE(c.result.step_time == alone.step_time);
      REQUIRE(c.result.breakdown.ep == alone.breakdown.ep);
      REQUIRE(c.result.memory.device_peak() == alone.memory.device_peak());
    }
    CHECK(runs > 100);
  }
}

TEST_CASE("plan: the results are the same for any number of threads", "[plan]") {
  const Scenario sc = tiny();
  auto one = analysis::plan_space(sc, 8), two = one;
  analysis::evaluate_plans(sc, 8, one, 1);
  analysis::evaluate_plans(sc, 8, two, 2);
  for (std::size_t i = 0; i < one.size(); ++i) {
    REQUIRE(one[i].verdict == two[i].verdict);
    REQUIRE(one[i].result.step_time == two[i].result.step_time);
  }
}

TEST_CASE("plan: on every shipped dense scenario the search finds a plan at least as fast as the hand-written one", "[plan]") {
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SPARSIM_SOURCE_DIR) + "/scenarios/dense")) {
    const Scenario sc = load(entry.path().string());
    const sim::StepResult hand = sim::analytic_step(sc);
    auto space = analysis::plan_space(sc, sc.cluster.devices());
    analysis::evaluate_plans(sc, sc.cluster.devices(), space, 2);
    const auto best = analysis::best_plans(space, 1);
    INFO(entry.path().filename().string() << ": hand-written " << hand.tokens_per_s << " tokens/s, "
                                          << space.size() << " plans searched");
    REQUIRE_FALSE(best.empty());
    CHECK(best[0]->result.tokens_per_s >= hand.tokens_per_s * (1 - 1e-12));
  }
}
