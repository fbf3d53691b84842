// Analytic evaluations per second (issue 2 target: >= 10,000/s on one core for a 1T-parameter
// dense model on 3,072 GPUs). Run: bench_analytic --benchmark_format=json --benchmark_out=F
#include <benchmark/benchmark.h>

#include "config/loader.hpp"
#include "sim/analytic.hpp"

namespace {

void evaluate(benchmark::State& state, const char* scenario) {
  const sparsim::Scenario sc =
      sparsim::config::load_scenario(std::string(SPARSIM_SOURCE_DIR) + "/scenarios/" + scenario).scenario;
  double sink = 0;
  for (auto _ : state) {
    const auto r = sparsim::sim::analytic_step(sc);
    sink += r.step_time;
    benchmark::DoNotOptimize(sink);
  }
  state.counters["evaluations_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["devices"] = sc.cluster.devices();
}

}  // namespace

BENCHMARK_CAPTURE(evaluate, dense_1t_3072xa100, "dense/dense-1t-3072xa100.yaml")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(evaluate, gpt3_175b_1024xa100, "dense/gpt3-175b-1024xa100.yaml")->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
