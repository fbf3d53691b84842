// The pure parts of `sparsim validate` (validation/): combining calibrations, picking the run,
// the tolerance, perturbations, and the exact counts of the trainer against the simulator's.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "comm.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "data.hpp"
#include "sim/counts.hpp"
#include "train.hpp"
#include "train_file.hpp"
#include "validation/cases.hpp"
#include "validation/compare.hpp"
#include "validation/counts.hpp"
#include "validation/fit.hpp"
#include "validation/published.hpp"
#include "sim/analytic.hpp"
#include "validation/validate.hpp"
#include "workload/layout.hpp"

using namespace sparsim;
using namespace sparsim::validation;
namespace fs = std::filesystem;

namespace {

Categories step_only(double step) { return {{"step", step}, {"compute", step}}; }

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("sparsim-test-validation-" + name);
  fs::create_directories(d);
  return d;
}

/// A node of `devices` devices (a validate scenario's node holds all its ranks); only the
/// counts are asserted on it, so its rates are round numbers of no consequence.
fs::path test_node(const fs::path& dir, int devices) {
  const fs::path p = dir / ("node" + std::to_string(devices) + ".yaml");
  std::ofstream(p) << "name: test node\ndevices: " << devices
                   << "\ndevice:\n  name: test\n  peak_flops: {fp16: 100 TFLOPS, bf16: 100 TFLOPS, fp32: 10 TFLOPS}\n"
                      "  memory: 16 GiB\n  memory_bandwidth: 1000 GB/s\n  gemm_efficiency:\n    - {flops: 1 GFLOP, efficiency: 1.0}\n"
                      "intra_node: {group_size: "
                   << devices
                   << ", bandwidth: 100 GB/s, latency: 1 us}\n"
                      "host: {name: cpu, sockets: 1, cores: 16, flops: 1 TFLOPS, memory: 256 GiB, memory_bandwidth: 100 GB/s}\n"
                      "host_link: {bandwidth: 20 GB/s, latency: 2 us, devices_per_switch: 1, switch_bandwidth: 20 GB/s}\n"
                      "nic: {count: 1, bandwidth: 100 Gbps, latency: 2 us}\n";
  return p;
}

}  // namespace

TEST_CASE("validate: unscaled predictions are interpolated to each run, the run of median error is the measurement", "[validation]") {
  // Calibrations at t = 0 and 10 predict 0.10 and 0.12 s. Runs at t = 2.5, 5, 7.5 get
  // 0.105, 0.110, 0.115; measured 0.100, 0.110, 0.200, their errors are +5%, 0%, -42.5%.
  // Sorted: -42.5, 0, +5: the median is the second run, error 0.
  const std::vector<Calibration> cals{{0, 0, step_only(0.10)}, {10, 0, step_only(0.12)}};
  std::vector<Run> runs{{2.5, 0.100, 0.1, 0, step_only(0.1)}, {5, 0.110, 0.11, 0, step_only(0.11)}, {7.5, 0.200, 0.2, 0, step_only(0.2)}};
  const Outcome o = compare(cals, runs, false, 0.15);
  REQUIRE(o.run_errors[0] == Approx(0.05));
  REQUIRE(o.run_errors[1] == Approx(0.0).margin(1e-12));
  REQUIRE(o.run_errors[2] == Approx(-0.425));
  REQUIRE(o.pick == 1);
  REQUIRE(o.weight == Approx(0.5));
  REQUIRE(o.predicted[1].second == Approx(0.11));
  REQUIRE(o.pass);
  // At 3% tolerance the median run (0%) still passes; measured 20% slower everywhere it fails:
  // errors 0.105/0.12-1 = -12.5%, 0.11/0.132-1 = -16.7%, 0.115/0.24-1 = -52.1%, median -16.7%.
  REQUIRE(compare(cals, runs, false, 0.03).pass);
  for (Run& r : runs) r.median_step *= 1.2;
  const Outcome slow = compare(cals, runs, false, 0.15);
  REQUIRE(slow.error == Approx(0.11 / 0.132 - 1));
  REQUIRE_FALSE(slow.pass);
}

TEST_CASE("validate: scaled predictions are each calibration's step times its probe over the run's, averaged", "[validation]") {
  // Calibrated at 100 and 200 GFLOP/s predicting 0.2 and 0.1 s: the same work, 20 GFLOP. A run
  // probed at 80 GFLOP/s: 0.2 x 100/80 = 0.25 and 0.1 x 200/80 = 0.25; mean 0.25 s.
  const std::vector<Calibration> cals{{0, 100, step_only(0.2)}, {10, 200, step_only(0.1)}};
  const std::vector<Run> runs{{5, 0.25, 0.25, 80, step_only(0.25)}};
  const Outcome o = compare(cals, runs, true, 0.15);
  REQUIRE(o.predicted[0].second == Approx(0.25));
  REQUIRE(o.unscaled_step == Approx(0.15));  // the mean of 0.2 and 0.1 before scaling
  REQUIRE(o.error == Approx(0.0).margin(1e-12));
  REQUIRE_FALSE(needs_third(cals[0], cals[1], true));  // 20 and 20 GFLOP: they agree at one speed
}

TEST_CASE("validate: calibrations further apart than 25% (10% at one speed) call for a third; the median one predicts", "[validation]") {
  REQUIRE(needs_third({0, 0, step_only(0.10)}, {1, 0, step_only(0.13)}, false));   // +30%
  REQUIRE_FALSE(needs_third({0, 0, step_only(0.10)}, {1, 0, step_only(0.12)}, false));  // +20%
  REQUIRE(needs_third({0, 100, step_only(0.10)}, {1, 100, step_only(0.111)}, true));   // +11% at one speed
  // Three calibrations 0.088, 0.057, 0.056 s (a glitched first): the median, 0.057, for every run.
  const std::vector<Calibration> three{{0, 0, step_only(0.088)}, {10, 0, step_only(0.057)}, {11, 0, step_only(0.056)}};
  const Outcome o = compare(three, {{5, 0.057, 0.057, 0, step_only(0.057)}}, false, 0.15);
  REQUIRE(o.median_calibration == 1);
  REQUIRE(o.error == Approx(0.0).margin(1e-12));
  REQUIRE(median_index({3, 1, 2}) == 2);
  REQUIRE(median_index({4, 1, 3, 2}) == 3);  // the lower middle of 1 2 3 4: 2, at index 3
}

TEST_CASE("validate: --perturb takes COST=FACTOR, names the costs it knows", "[validation]") {
  const Perturbation p = parse_perturbation("gemm=1.3");
  REQUIRE(p.cost == "gemm");
  REQUIRE(p.factor == Approx(1.3));
  REQUIRE_THROWS_WITH(parse_perturbation("gem=1.3"), Catch::Contains("gemm, elementwise, optimizer, comm, copy"));
  REQUIRE_THROWS_AS(parse_perturbation("gemm=0"), InputError);
  REQUIRE_THROWS_AS(parse_perturbation("gemm=x"), InputError);
  REQUIRE_THROWS_AS(parse_perturbation("gemm"), InputError);
}

TEST_CASE("validate: a perturbed node file scales the GEMM rates and nothing else", "[validation]") {
  // gemm=2: every GEMM takes twice as long, so peak_flops halves (100 -> 50 TFLOPS bf16, fp32
  // 10 -> 5) and the memory bandwidth stays.
  const fs::path dir = temp_dir("perturb");
  const fs::path in = test_node(dir, 4), out = dir / "perturbed.yaml";
  perturb_node(in, out, parse_perturbation("gemm=2"));
  const Node a = config::load_node(in.string()), b = config::load_node(out.string());
  REQUIRE(b.device.peak_flops.at(Precision::bf16) == Approx(a.device.peak_flops.at(Precision::bf16) / 2));
  REQUIRE(b.device.peak_flops.at(Precision::fp32) == Approx(5e12));
  REQUIRE(b.device.memory_bandwidth == a.device.memory_bandwidth);
}

TEST_CASE("validate: the trainer's counted GEMM FLOPs and bytes equal the simulator's, step by step", "[validation][trainer]") {
  // Hand count for the dense case (N = B s = 8 x 64 = 512 tokens, h 256, a 4 heads of 64, f 1024,
  // V 258, L 2), forward GEMM FLOPs of a layer: qkv 2x512x256x768 = 201326592, scores and values
  // 2 x 32 x 2x64x64x64 = 33554432, out 2x512x256x256 = 67108864, FFN 2 x 2x512x256x1024 =
  // 536870912: 838860800; backward twice that: x3 = 2516582400 a layer, 5033164800 for two; the
  // logits 2x512x256x258 = 67633152, x3 = 202899456. A step: 5236064256 FLOP.
  const fs::path dir = temp_dir("counts");
  for (const Case& c : cases(false)) {
    if (c.ranks != 1) continue;
    DYNAMIC_SECTION(c.tag()) {
      const fs::path cfg = dir / (c.tag() + ".trainer.yaml"), scen = dir / (c.tag() + ".scenario.yaml");
      std::ofstream(cfg) << trainer_yaml(c, 3, 1);
      const trainer::TrainFile tf = trainer::load_train_file(cfg.string());
      trainer::SelfComm comm;
      trainer::RunOptions opt;
      opt.steps = 3, opt.warmup = 1, opt.progress = false;
      const trainer::Dataset data = trainer::pack(trainer::synthetic_corpus(2, 200, 11), tf.config.model.seq);
      const trainer::RunResult r = trainer::run(tf.config, data, comm, opt);
      REQUIRE(r.counts_per_step.size() == 2);
      if (c.router == "dense") REQUIRE(r.counts_per_step[0].gemm_flops == 5236064256ull);
      std::ofstream(scen) << scenario_yaml(c, test_node(dir, 1).string(), "");
      const Scenario sc = config::load_scenario(scen.string()).scenario;
      const nlohmann::json routing = {{"counts_per_step", trainer::counts_json(r.counts_per_step)}};
      const std::vector<CountMismatch> bad = check_counts(sc, routing);
      for (const auto& m : bad) UNSCOPED_INFO(m.what << " step " << m.step << ": trainer " << m.trainer << ", simulator " << m.simulator);
      REQUIRE(bad.empty());
      // One FLOP more in the trainer's count is a mismatch: the check is exact.
      nlohmann::json off = routing;
      off["counts_per_step"][0]["gemm_flops"] = off["counts_per_step"][0]["gemm_flops"].get<double>() + 1;
      REQUIRE(check_counts(sc, off).size() == 1);
    }
  }
}

TEST_CASE("validate: step_counts of four ranks take rank 0's row and column of the dispatch", "[validation]") {
  // A step where rank 0 of 4 sends 10, 20, 30 rows to ranks 1..3 (and keeps 5), and receives
  // 1, 2, 3 rows from them: per pass it sends (10+20+30) + (1+2+3) = 66 rows of h = 256 fp32
  // (1 KiB) in dispatch and combine, forward and backward: 2 x 66 x 1024 = 135168 bytes.
  const fs::path dir = temp_dir("ranks");
  const Case c{"topk", "topk", "device", 4};
  const fs::path scen = dir / "topk4.yaml";
  std::ofstream(scen) << scenario_yaml(c, test_node(dir, 4).string(), "");
  const Scenario sc = config::load_scenario(scen.string()).scenario;
  const nlohmann::json step = {{"layers", {{{"layer", 1}, {"expert_tokens", {5, 7}}, {"sent_rows", {5, 10, 20, 30}}, {"recv_rows", {5, 1, 2, 3}}}}}};
  const sim::StepCounts k = sim::step_counts(sc, workload::layout_of(sc), step_traffic(sc, step), 0);
  REQUIRE(k.ep_bytes == 135168.0);
  // The experts of rank 0 compute 12 token rows: FFN 2 x 2 x 12 x 256 x 1024, x3 for backward.
  REQUIRE(k.expert_gemm_flops == 3.0 * 2 * 2 * 12 * 256 * 1024);
}

namespace {

/// A run set of three MPT rows in `dir` on the template of scenarios/published/, whose measured
/// tokens/s per device are `measured` (one per row).
fs::path run_set(const fs::path& dir, const std::vector<double>& measured) {
  const std::string src = std::string(SPARSIM_SOURCE_DIR) + "/scenarios/published/";
  std::ofstream(dir / "shapes.csv") << "model,d_model,n_heads,n_layers,ffn_hidden,vocab,head_dim\n"
                                       "125m,768,12,12,3072,50368,64\n1b,2048,16,24,8192,50368,128\n";
  std::ofstream runs(dir / "runs.csv");
  runs << "model,seq_len,gpus,micro_batch,grad_accum,global_batch,tokens_per_s_per_gpu,precision,mp_mode,sharding,"
          "activation_checkpointing,activation_cpu_offload\n";
  const char* rows[] = {"125m,2048,8,32,2,512,", "1b,2048,8,14,4,448,", "1b,65536,8,1,2,16,"};
  const char* ckpt[] = {"False", "False", "True"};
  for (int i = 0; i < 3; ++i)
    runs << rows[i] << measured[static_cast<std::size_t>(i)] << ",amp_bf16,DEFAULT,FULL_SHARD," << ckpt[i] << ",False\n";
  runs.close();
  const fs::path set = dir / "set.runs.yaml";
  std::ofstream(set) << "name: three rows\nruns: runs.csv\nshapes: shapes.csv\nscenario: " << src << "mpt-a100-80gb.scenario.yaml\n";
  return set;
}

/// Replaces the first `from` in the file at `path` with `to` (`from` must be there).
void replace_in_file(const fs::path& path, const std::string& from, const std::string& to) {
  std::string text;
  {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("published: each row is the template with its own keys; errors name the file, line and column", "[validation][published]") {
  const fs::path dir = temp_dir("published");
  const RunSet set = load_run_set(run_set(dir, {100, 100, 100}).string());
  REQUIRE(set.runs.size() == 3);
  // Row 3 (file line 4): 1b at 65,536 tokens, checkpointed, 8 GPUs on one DGX A100.
  const std::vector<Scenario> scs = scenarios(set);
  CHECK(scs[2].model.seq_len == 65536);
  CHECK(scs[2].model.hidden == 2048);
  CHECK(scs[2].plan.recompute == Recompute::full);
  CHECK(scs[2].plan.zero == 3);
  CHECK(scs[2].plan.dp == 8);
  CHECK(scs[2].cluster.nodes == 1);
  CHECK(scs[2].plan.grad_reduce == Precision::fp32);  // FSDP DEFAULT reduces in fp32
  CHECK(set.runs[2].line == 4);
  // A measured value that is not a number: the run table, line 3, column 7 (tokens_per_s_per_gpu).
  replace_in_file(dir / "runs.csv", "1b,2048,8,14,4,448,100", "1b,2048,8,14,4,448,fast");
  REQUIRE_THROWS_WITH(load_run_set((dir / "set.runs.yaml").string()), Catch::Contains("runs.csv:3:7") && Catch::Contains("tokens_per_s_per_gpu"));
  // micro_batch x grad_accum x gpus must be the global batch.
  run_set(dir, {100, 100, 100});
  replace_in_file(dir / "runs.csv", "125m,2048,8,32,2,512", "125m,2048,8,32,2,500");
  REQUIRE_THROWS_WITH(load_run_set((dir / "set.runs.yaml").string()), Catch::Contains("global_batch") && Catch::Contains("512"));
}

TEST_CASE("fit: runs made by a known plateau give it back, and the held-out error is reported", "[validation][fit]") {
  // Measure the three rows with the stock A100 file and its GEMM plateau lowered to 0.6: fitted
  // from the stock value, the plateau comes back to 0.6 and the MAPE to 0 (the runs are the
  // model's own predictions, nothing else differs).
  const fs::path dir = temp_dir("fit");
  const RunSet first = load_run_set(run_set(dir, {100, 100, 100}).string());
  std::vector<Scenario> scs = scenarios(first);
  std::vector<double> truth;
  for (Scenario sc : scs) {
    sc.cluster.node.device.gemm_plateau = 0.6;
    const sim::StepResult r = sim::analytic_step(sc);
    truth.push_back(r.tokens_per_s / double(r.devices));
  }
  const RunSet set = load_run_set(run_set(dir, truth).string());
  // the CSV holds them to 6 significant digits
  const FitResult r = fit(set, scenarios(set), parameters_named("device.gemm.plateau"), FitOptions{0, true, 600});
  CHECK(r.values[0] == Approx(0.6).epsilon(1e-3));
  CHECK(r.mape < 1e-4);
  CHECK(r.start_mape > 0.05);  // the stock plateau predicts them faster
  REQUIRE(r.loo_errors.size() == 3);
  CHECK(r.loo_mape < 1e-3);  // any two rows give the plateau back
  REQUIRE_THROWS_WITH(parameters_named("device.plateau"), Catch::Contains("known: device.gemm.plateau"));
}
