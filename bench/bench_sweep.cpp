// Sweep points per second (analysis/sweep.hpp): a point is the scenario's tree, read once,
// copied with one value set, read into a Scenario and evaluated analytically. Beside it the
// reference path, the files read afresh per point as `simulate --set` reads them.
// Run: bench_sweep --benchmark_format=json --benchmark_out=F
#include <benchmark/benchmark.h>

#include "analysis/sweep.hpp"
#include "config/loader.hpp"
#include "sim/analytic.hpp"

namespace {

const char* kVary = "cluster.node.host_link.bandwidth=4 GB/s..64 GB/s*2";  // 5 points, all run

std::string path(const char* scenario) { return std::string(SPARSIM_SOURCE_DIR) + "/scenarios/" + scenario; }

void sweep_point(benchmark::State& state, const char* scenario) {
  const sparsim::analysis::Sweep s(path(scenario), {}, {sparsim::analysis::parse_vary(kVary)});
  std::size_t i = 0;
  double sink = 0;
  for (auto _ : state) {
    sink += sparsim::sim::analytic_step(s.scenario(i++ % s.points().size())).step_time;
    benchmark::DoNotOptimize(sink);
  }
  state.counters["points_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

void reload_point(benchmark::State& state, const char* scenario) {
  const sparsim::analysis::Sweep s(path(scenario), {}, {sparsim::analysis::parse_vary(kVary)});
  std::size_t i = 0;
  double sink = 0;
  for (auto _ : state) {
    const auto& a = s.points()[i++ % s.points().size()].assignments;
    sink += sparsim::sim::analytic_step(sparsim::config::load_scenario(path(scenario), a).scenario).step_time;
    benchmark::DoNotOptimize(sink);
  }
  state.counters["points_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK_CAPTURE(sweep_point, gpt3_175b_1024xa100, "dense/gpt3-175b-1024xa100.yaml")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(reload_point, gpt3_175b_1024xa100, "dense/gpt3-175b-1024xa100.yaml")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(sweep_point, pangu_sigma_rre_ecss_512, "pangu-sigma/pangu-sigma-rre-ecss-512.yaml")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(reload_point, pangu_sigma_rre_ecss_512, "pangu-sigma/pangu-sigma-rre-ecss-512.yaml")->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
