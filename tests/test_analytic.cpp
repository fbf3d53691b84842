#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/error.hpp"
#include "config/loader.hpp"
#include "sim/analytic.hpp"
#include "workload/transformer.hpp"

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

TEST_CASE("analytic: pipeline time of GPipe, 1F1B and interleaved 1F1B", "[analytic]") {
  // Two stages, per micro-batch forward/backward f0=1, b0=2 (busy 3) and f1=1.5, b1=3 (busy 4.5),
  // m=4 micro-batches, message time c.
  std::vector<sim::StageTimes> dev(2);
  dev[0].forward = 1;
  dev[0].backward = 2;
  dev[1].forward = 1.5;
  dev[1].backward = 3;
  // GPipe, c=0.1: sum f + 3 max f + sum b + 3 max b + 2(p-1)c = 2.5 + 4.5 + 5 + 9 + 0.2 = 21.2;
  // bubble = 21.2 - 0.2 - m * 4.5 = 3.
  auto g = sim::pipeline_time(dev, Schedule::gpipe, 1, 4, 0.1);
  REQUIRE(g.total == Approx(21.2).epsilon(1e-12));
  REQUIRE(g.bubble == Approx(3.0).epsilon(1e-12));
  REQUIRE(g.worst == 1);
  // 1F1B, c=0.1: steady period max(4.5, 2c + 3) = 4.5; fill = 7.5 - 4.5 = 3; 18 + 3 + 0.2 = 21.2.
  auto f = sim::pipeline_time(dev, Schedule::one_f_one_b, 1, 4, 0.1);
  REQUIRE(f.total == Approx(21.2).epsilon(1e-12));
  REQUIRE(f.bubble == Approx(3.0).epsilon(1e-12));
  // 1F1B, c=1: stage 0 waits 2c for stage 1's gradient: period max(4.5, 2 + 3) = 5;
  // pp = 2(p-1)c + (m-1)(5 - 4.5) = 2 + 1.5; total = 18 + 3 + 3.5 = 24.5.
  f = sim::pipeline_time(dev, Schedule::one_f_one_b, 1, 4, 1.0);
  REQUIRE(f.pp == Approx(3.5).epsilon(1e-12));
  REQUIRE(f.total == Approx(24.5).epsilon(1e-12));
  // Interleaved with v=2 (times summed over a device's chunks): fill (7.5 - 4.5)/2 = 1.5,
  // ramp 2(pv-1)c = 0.6: 18 + 1.5 + 0.6 = 20.1.
  const auto i = sim::pipeline_time(dev, Schedule::interleaved, 2, 4, 0.1);
  REQUIRE(i.total == Approx(20.1).epsilon(1e-12));
  REQUIRE(i.bubble == Approx(1.5).epsilon(1e-12));
  // GPipe keeps all m micro-batches' activations, 1F1B only p of them (tiny: m=4, p=2).
  REQUIRE(run({"plan.schedule=gpipe"}).memory.activations ==
          Approx(run({"plan.schedule=1f1b"}).memory.activations * 4 / 2).epsilon(1e-12));
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
  // A billion buckets (1e15 B in 1 MB) in closed form, not a loop. Ready every d = window / 1e9:
  // window 1000 s, d = 1 us < 12 us: the link is the bottleneck, the last ends at
  // d + 1e9 x 12 us = 12000.000001 s, 11000.000001 s after the window. Window 1e5 s, d = 100 us
  // > 12 us: each bucket is done before the next is ready, the last 12 us after the window.
  REQUIRE(sim::exposed_bucketed(1e15, 1e6, 1e3, g, CollectiveAlgo::ring) == Approx(11000.000001).epsilon(1e-12));
  REQUIRE(sim::exposed_bucketed(1e15, 1e6, 1e5, g, CollectiveAlgo::ring) == Approx(12e-6).epsilon(1e-5));  // 12 us beside 1e5 s: 1e-6 of rounding
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

TEST_CASE("analytic: element-wise ops and AdamW are bounded by vector_flops and optimizer_rate when given", "[analytic]") {
  const Scenario s = config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny.yaml").scenario;
  Device d = s.cluster.node.device;
  const workload::Op gelu{"activation", workload::OpKind::memory, 0.0, 8e6, 1.0, 30e6, {}, "gelu"};
  // without vector_flops: memory-bound
  REQUIRE(d.vector_flops == 0);
  CHECK(sim::op_time(gelu, d, Precision::fp32) == Approx(8e6 / d.memory_bandwidth));
  // a slow vector unit makes it compute-bound; a fast one leaves it memory-bound
  d.vector_flops = 1e9;
  CHECK(sim::op_time(gelu, d, Precision::fp32) == Approx(30e6 / 1e9));
  d.vector_flops = 1e18;
  CHECK(sim::op_time(gelu, d, Precision::fp32) == Approx(8e6 / d.memory_bandwidth));
  // a measured rate for its kernel wins over vector_flops; its backward and other kernels do not use it
  d.vector_flops = 1e9;
  d.vector_rates = {{"gelu", 2e9}, {"layernorm", 0.5e9}};
  CHECK(sim::op_time(gelu, d, Precision::fp32) == Approx(30e6 / 2e9));
  workload::Op gelu_bwd = gelu;
  gelu_bwd.kernel = "gelu_bwd";
  CHECK(sim::op_time(gelu_bwd, d, Precision::fp32) == Approx(30e6 / 1e9));
  gelu_bwd.kernel.clear();  // an op naming no kernel
  CHECK(sim::op_time(gelu_bwd, d, Precision::fp32) == Approx(30e6 / 1e9));
  d.vector_rates.clear();
  // AdamW without a rate: its bytes at memory bandwidth
  const double bytes = 1e6 * sim::adam_bytes_per_param(Precision::fp32) / d.memory_bandwidth;
  CHECK(sim::device_adam_time(d, 1e6, Precision::fp32) == Approx(bytes));
  d.optimizer_rate = 1e6;  // one second per million parameters
  CHECK(sim::device_adam_time(d, 1e6, Precision::fp32) == Approx(1.0));
}

TEST_CASE("analytic: GEMMs on a device with measured shapes take their rates, interpolated in log(m)", "[analytic]") {
  const Scenario s = config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny.yaml").scenario;
  Device d = s.cluster.node.device;
  using workload::GemmCall;
  // a line over m at n = 1024, k = 256 (nn), and one weight-gradient point (tn)
  d.gemm_shapes = {{32, 1024, 256, GemmTrans::nn, 80e9}, {128, 1024, 256, GemmTrans::nn, 160e9},
                   {256, 1024, 64, GemmTrans::tn, 50e9}};
  CHECK(sim::measured_gemm_rate(d, GemmCall{32, 1024, 256}) == Approx(80e9));
  CHECK(sim::measured_gemm_rate(d, GemmCall{64, 1024, 256}) == Approx(120e9));  // halfway in log(m)
  CHECK(sim::measured_gemm_rate(d, GemmCall{16, 1024, 256}) == Approx(80e9));   // clamped below
  CHECK(sim::measured_gemm_rate(d, GemmCall{512, 1024, 256}) == Approx(160e9)); // and above
  CHECK(sim::measured_gemm_rate(d, GemmCall{256, 1024, 64, GemmTrans::tn}) == Approx(50e9));
  CHECK(sim::measured_gemm_rate(d, GemmCall{64, 1024, 256, GemmTrans::nt}) == 0);  // other transposition
  CHECK(sim::measured_gemm_rate(d, GemmCall{64, 512, 128}) == 0);                 // two dimensions differ
  // a varying token count (an expert's) takes the window-averaged rows, a fixed one the exact
  // rows; each falls back to the other kind
  d.gemm_shapes.push_back({32, 1024, 256, GemmTrans::nn, 60e9, 16});
  d.gemm_shapes.push_back({128, 1024, 256, GemmTrans::nn, 90e9, 16});
  CHECK(sim::measured_gemm_rate(d, GemmCall{64, 1024, 256}) == Approx(120e9));
  CHECK(sim::measured_gemm_rate(d, GemmCall{64, 1024, 256, GemmTrans::nn, 1, true}) == Approx(75e9));
  CHECK(sim::measured_gemm_rate(d, GemmCall{256, 1024, 64, GemmTrans::tn, 1, true}) == Approx(50e9));
  d.gemm_shapes.resize(3);
  // an op of two calls: each at its own rate; a call off the table at peak x efficiency
  workload::Op op{"ffn_up", workload::OpKind::gemm, 0, 1.0, 1, 0, {GemmCall{64, 1024, 256, GemmTrans::nn, 2}, GemmCall{32, 1024, 256}}, {}};
  op.flops = op.calls[0].flops() + op.calls[1].flops();
  CHECK(sim::op_time(op, d, Precision::bf16) == Approx(op.calls[0].flops() / 120e9 + op.calls[1].flops() / 80e9));
  op.calls.push_back(GemmCall{64, 64, 64});
  op.flops += op.calls[2].flops();
  const double off = op.calls[2].flops() / (sim::peak_flops(d, Precision::bf16) * sim::gemm_efficiency(d, op.calls[2].flops()));
  CHECK(sim::op_time(op, d, Precision::bf16) == Approx(op.calls[0].flops() / 120e9 + op.calls[1].flops() / 80e9 + off));
}

TEST_CASE("workload: GEMM calls carry the trainer's shapes, forward and backward, and each expert's tokens", "[analytic]") {
  workload::Shape sh;
  sh.b = 2, sh.s = 64, sh.h = 256, sh.a = 4, sh.f = 1024, sh.V = 258, sh.t = 1, sh.eb = 4;
  const workload::LayerWork ffn = workload::ffn_block(sh, 128, 1024, Recompute::none);
  const workload::Op& up = ffn.forward.ops[1];
  REQUIRE(up.name == "ffn_up");
  REQUIRE(up.calls.size() == 1);
  CHECK((up.calls[0].m == 128 && up.calls[0].n == 1024 && up.calls[0].k == 256 && up.calls[0].trans == GemmTrans::nn));
  const workload::Op& up_bwd = ffn.backward.ops[1];
  REQUIRE(up_bwd.calls.size() == 2);  // input gradient [128,1024] @ [256,1024]^T, weight gradient [128,256]^T @ [128,1024]
  CHECK((up_bwd.calls[0].m == 128 && up_bwd.calls[0].n == 256 && up_bwd.calls[0].k == 1024 && up_bwd.calls[0].trans == GemmTrans::nt));
  CHECK((up_bwd.calls[1].m == 256 && up_bwd.calls[1].n == 1024 && up_bwd.calls[1].k == 128 && up_bwd.calls[1].trans == GemmTrans::tn));
  CHECK(up_bwd.calls[0].flops() + up_bwd.calls[1].flops() == Approx(up_bwd.flops));
  // attention: one [s, s] product per sequence and head
  const workload::LayerWork att = workload::attention_block(sh, Recompute::none);
  const workload::Op& scores = att.forward.ops[2];
  REQUIRE(scores.name == "attn_scores");
  CHECK((scores.calls[0].m == 64 && scores.calls[0].n == 64 && scores.calls[0].k == 64 && scores.calls[0].count == 8));
  CHECK(scores.calls[0].flops() == Approx(scores.flops));
  // experts: one GEMM per expert that receives tokens, FLOPs unchanged
  const workload::LayerWork ex = workload::expert_block(sh, 128, 4, 1024, Recompute::none, {100, 0, 20, 8});
  const workload::Op& ex_up = ex.forward.ops[1];
  REQUIRE(ex_up.calls.size() == 3);
  CHECK(ex_up.calls[0].m == 100);
  CHECK(ex_up.calls[2].m == 8);
  CHECK(ex_up.calls[0].flops() + ex_up.calls[1].flops() + ex_up.calls[2].flops() == Approx(ex_up.flops));
  CHECK(workload::expert_block(sh, 128, 4, 1024, Recompute::none).forward.ops[1].calls[0].count == 4);
  // the experts' token counts vary from step to step, in the backward too; the dense FFN's do not
  CHECK(ex_up.calls[0].varies);
  for (const auto& c : ex.backward.ops[1].calls) CHECK(c.varies);
  CHECK_FALSE(up.calls[0].varies);
  CHECK_FALSE(up_bwd.calls[1].varies);
  // element-wise ops name their kernel, the backward with _bwd
  CHECK(ffn.forward.ops[0].kernel == "layernorm");
  CHECK(ffn.forward.ops[2].kernel == "gelu");
  CHECK(ffn.backward.ops[2].kernel == "gelu_bwd");
  CHECK(up.kernel.empty());
}

TEST_CASE("loader: device.gemm_shapes rows need integer m, n, k, a known trans and a FLOP rate", "[analytic][loader]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("sparsim-gemm-shapes-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string node = std::string(SPARSIM_TEST_DATA) + "/node.yaml";
  auto write = [&](const std::string& rows) {
    std::ifstream in(node);
    std::stringstream text;
    text << in.rdbuf();
    std::string y = text.str();
    const auto at = y.find("  gemm_efficiency:");
    REQUIRE(at != std::string::npos);
    y.insert(at, "  gemm_shapes:\n" + rows);
    std::ofstream(dir / "node.yaml") << y;
    std::ifstream sc(std::string(SPARSIM_TEST_DATA) + "/tiny.yaml");
    std::stringstream st;
    st << sc.rdbuf();
    std::ofstream(dir / "tiny.yaml") << st.str();
    return (dir / "tiny.yaml").string();
  };
  const Scenario s = config::load_scenario(write("    - {m: 64, n: 1024, k: 256, trans: tn, rate: 150 GFLOPS}\n")).scenario;
  REQUIRE(s.cluster.node.device.gemm_shapes.size() == 1);
  CHECK(s.cluster.node.device.gemm_shapes[0].trans == GemmTrans::tn);
  CHECK(s.cluster.node.device.gemm_shapes[0].flop_rate == Approx(150e9));
  CHECK_THROWS_AS(config::load_scenario(write("    - {m: 64, n: 1024, k: 256, trans: tt, rate: 150 GFLOPS}\n")), InputError);
  CHECK_THROWS_AS(config::load_scenario(write("    - {m: 64, n: 1024, k: 256, rate: 150 GB/s}\n")), InputError);
  CHECK_THROWS_AS(config::load_scenario(write("    - {m: 0, n: 1024, k: 256, rate: 150 GFLOPS}\n")), InputError);
  CHECK(config::load_scenario(write("    - {m: 64, n: 1024, k: 256, rate: 150 GFLOPS, window: 16}\n"))
            .scenario.cluster.node.device.gemm_shapes[0]
            .window == 16);
  CHECK_THROWS_AS(config::load_scenario(write("    - {m: 64, n: 1024, k: 256, rate: 150 GFLOPS, window: 0}\n")), InputError);
  fs::remove_all(dir);
}

TEST_CASE("loader: vector_flops and optimizer_rate carry units; a bad unit is an input error", "[analytic][loader]") {
  const std::string f = std::string(SPARSIM_TEST_DATA) + "/tiny.yaml";
  const Scenario s = config::load_scenario(f, {"cluster.node.device.vector_flops=15 GFLOPS",
                                               "cluster.node.device.optimizer_rate=800 Mparams/s",
                                               "cluster.node.host.optimizer_rate=1.5 Gparams/s"}).scenario;
  CHECK(s.cluster.node.device.vector_flops == Approx(15e9));
  CHECK(s.cluster.node.device.optimizer_rate == Approx(800e6));
  CHECK(s.cluster.node.host.optimizer_rate == Approx(1.5e9));
  CHECK_THROWS_AS(config::load_scenario(f, {"cluster.node.device.optimizer_rate=800 GB/s"}), InputError);
}

TEST_CASE("loader: device.vector_rates takes known kernels (and their _bwd) with FLOP rates", "[analytic][loader]") {
  const std::string f = std::string(SPARSIM_TEST_DATA) + "/tiny.yaml";
  const Scenario s = config::load_scenario(f, {"cluster.node.device.vector_rates.layernorm=5 GFLOPS",
                                               "cluster.node.device.vector_rates.gelu_bwd=20 GFLOPS"}).scenario;
  const auto& v = s.cluster.node.device.vector_rates;
  REQUIRE(v.size() == 2);
  CHECK(v.at("layernorm") == Approx(5e9));
  CHECK(v.at("gelu_bwd") == Approx(20e9));
  try {
    config::load_scenario(f, {"cluster.node.device.vector_rates.layernrom=5 GFLOPS"});
    FAIL("a misspelt kernel must be an input error");
  } catch (const InputError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("layernrom") &&
                                          Catch::Contains("layernorm"));
  }
  CHECK_THROWS_AS(config::load_scenario(f, {"cluster.node.device.vector_rates.gelu=5 GB/s"}), InputError);
}
