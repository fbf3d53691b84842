#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "sim/analytic.hpp"
#include "workload/layout.hpp"
#include "workload/memory.hpp"

using namespace sparsim;

namespace {
// Unfused attention, the attention of Narayanan et al. 2021 and Korthikanti et al. 2022, whose
// formulas these tests check (tiny.yaml says nothing, so flash by default).
config::Loaded tiny(const std::vector<std::string>& sets = {}) {
  std::vector<std::string> all = {"model.attention=unfused"};
  all.insert(all.end(), sets.begin(), sets.end());
  return config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny.yaml", all);
}
workload::MemoryLedger memory_of(const Scenario& sc) { return workload::memory(sc, workload::layout_of(sc)); }
}  // namespace

TEST_CASE("flops: full recomputation matches Narayanan et al. 2021", "[workload][flops]") {
  // F = 96 B s l h^2 (1 + s/(6h) + V/(16 l h)) for f = 4h with full recomputation: forward
  // 24bsh^2 + 4bs^2h per layer, times 4 (fwd, 2x bwd, recompute), plus logits 6bshV.
  // tiny: B=16, s=128, l=4, h=256, V=1000.
  for (const char* plan : {"plan.tp=2", "plan.tp=1"}) {
    const auto l = tiny({"plan.recompute=full", plan, plan == std::string("plan.tp=1") ? "plan.dp=4" : "plan.dp=2"});
    const auto r = sim::analytic_step(l.scenario);
    REQUIRE(r.feasible);
    const double B = 16, s = 128, L = 4, h = 256, V = 1000;
    const double F = 96 * B * s * L * h * h * (1 + s / (6 * h) + V / (16 * L * h));
    REQUIRE(r.hardware_flops == Approx(F).epsilon(1e-12));
    // Model FLOPs exclude recomputation: 72 B s l h^2 (1 + s/(6h) + V/(12 l h)).
    REQUIRE(r.model_flops == Approx(72 * B * s * L * h * h * (1 + s / (6 * h) + V / (12 * L * h))).epsilon(1e-12));
  }
}

TEST_CASE("memory: a small model counted by hand", "[workload][memory]") {
  // tiny: t=2, p=2, d=2, b=2, bf16, ZeRO 0, 1F1B, m = 16/(2*2) = 4 micro-batches.
  // Params on the busiest stage: 2 layers x 789,760 + embedding edge 289,280 (last stage: tied
  // logits copy Vh+sh + final LN 2h) = 1,868,800, split by t=2 -> 934,400.
  const auto l = tiny();
  const auto m = memory_of(l.scenario);
  REQUIRE(m.params == 2 * 934400.0);
  REQUIRE(m.grads == 2 * 934400.0);
  REQUIRE(m.optimizer == 12 * 934400.0);
  // Activations per layer (Korthikanti): sbh(10 + 24/t) + 5as^2b/t with s=128, b=2, h=256, a=8
  //   = 65,536 * 22 + 5*8*16,384*2/2 = 2,097,152 bytes; 2 layers x min(p, m)=2 in flight.
  REQUIRE(m.activations == 4 * 2097152.0);
  // Buffers: the loss's 16-bit logits, fp32 log-softmax and fp32 gradient (2+4+4)*b*s*V/t =
  // 10*2*128*1000/2 = 1,280,000 plus two 25 MB gradient buckets.
  REQUIRE(m.buffers == 1280000.0 + 50e6);

  // ZeRO-1/2/3 divide optimizer, gradients, weights by d = 2.
  const auto z3 = memory_of(tiny({"plan.zero=3"}).scenario);
  REQUIRE(z3.optimizer == 6 * 934400.0);
  REQUIRE(z3.grads == 934400.0);
  REQUIRE(z3.params == 934400.0);

  // Selective recomputation drops the 5as^2b/t term: 65,536 * 22 = 1,441,792 per layer.
  REQUIRE(memory_of(tiny({"plan.recompute=selective"}).scenario).activations == 4 * 1441792.0);
  // Sequence parallelism splits everything by t: sbh*34/t + 5as^2b/t = 1,114,112 + 655,360.
  REQUIRE(memory_of(tiny({"plan.sequence_parallel=true"}).scenario).activations == 4 * 1769472.0);
  // Full recomputation keeps the layer input sbh*eb = 131,072 per layer, plus one layer's
  // working set of 2,097,152 while it is recomputed.
  REQUIRE(memory_of(tiny({"plan.recompute=full"}).scenario).activations == 4 * 131072.0 + 2097152.0);
  // Offload moves the optimizer state to the host: 12 B x 934,400 params x 4 devices per node.
  const auto off = memory_of(tiny({"plan.placement=offload"}).scenario);
  REQUIRE(off.optimizer == 0);
  REQUIRE(off.host == 12 * 934400.0 * 4);
}
