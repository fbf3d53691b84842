// Analytic evaluations per second (issue 2 target: >= 10,000/s on one core for a 1T-parameter
// dense model on 3,072 GPUs), and at 10^9 devices (issue 21: the closed forms do not loop over
// devices, so a billion-device cluster evaluates as fast as the shipped one).
// Run: bench_analytic --benchmark_format=json --benchmark_out=F
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "config/loader.hpp"
#include "sim/analytic.hpp"

namespace {

void evaluate(benchmark::State& state, const char* scenario, const std::vector<std::string>& sets = {}) {
  const sparsim::Scenario sc =
      sparsim::config::load_scenario(std::string(SPARSIM_SOURCE_DIR) + "/scenarios/" + scenario, sets).scenario;
  double sink = 0;
  for (auto _ : state) {
    const auto r = sparsim::sim::analytic_step(sc);
    sink += r.step_time;
    benchmark::DoNotOptimize(sink);
  }
  state.counters["evaluations_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["devices"] = static_cast<double>(sc.cluster.devices());
}

// 10^9 devices by data parallelism at the shipped per-device work: GPT-3 (tp 8 x pp 8, 96
// micro-batches per pipeline), PanGu-Sigma RRE+ECSS (tp 8, ep 64, 8 sequences per rank).
const std::vector<std::string> kGpt3Billion = {"cluster.nodes=125000000", "plan.dp=15625000",
                                               "training.global_batch=1500000000"};
const std::vector<std::string> kPanguBillion = {"cluster.nodes=125000000", "plan.dp=125000000",
                                                "training.global_batch=1000000000"};

}  // namespace

BENCHMARK_CAPTURE(evaluate, dense_1t_3072xa100, "dense/dense-1t-3072xa100.yaml")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(evaluate, gpt3_175b_1024xa100, "dense/gpt3-175b-1024xa100.yaml")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(evaluate, gpt3_175b_1e9_devices, "dense/gpt3-175b-1024xa100.yaml", kGpt3Billion)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(evaluate, pangu_sigma_rre_ecss_512, "pangu-sigma/pangu-sigma-rre-ecss-512.yaml")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(evaluate, pangu_sigma_rre_ecss_1e9_devices, "pangu-sigma/pangu-sigma-rre-ecss-512.yaml", kPanguBillion)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
