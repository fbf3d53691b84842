// Plan-search configurations per second (analysis/plan.hpp): a device count's whole space,
// routed once per (ep, micro-batch, dp), pruned by memory before timing, on 1 and 2 threads.
// Targets (issue 24): >= 100,000 configurations/s on the 2-core machine.
// Run: bench_plan --benchmark_format=json --benchmark_out=F
#include <benchmark/benchmark.h>

#include "analysis/plan.hpp"
#include "config/loader.hpp"

namespace {

void search(benchmark::State& state, const char* scenario, long long devices) {
  const sparsim::Scenario sc =
      sparsim::config::load_scenario(std::string(SPARSIM_SOURCE_DIR) + "/scenarios/" + scenario).scenario;
  const int threads = static_cast<int>(state.range(0));
  std::size_t configurations = 0;
  for (auto _ : state) {
    auto space = sparsim::analysis::plan_space(sc, devices);
    sparsim::analysis::evaluate_plans(sc, devices, space, threads);
    configurations += space.size();
    benchmark::DoNotOptimize(space.data());
  }
  state.counters["configurations_per_s"] = benchmark::Counter(double(configurations), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK_CAPTURE(search, gpt3_175b_1024, "dense/gpt3-175b-1024xa100.yaml", 1024)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(search, pangu_sigma_rre_ecss_512, "pangu-sigma/pangu-sigma-rre-ecss-512.yaml", 512)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// 8 experts, top-2, in every one of 32 layers, dropless with a uniform load: the layers' loads
// repeat, so the shared block times and the per-load layer work carry most of the search
BENCHMARK_CAPTURE(search, mixtral_8x7b_64, "moe-2024/mixtral-8x7b-64xh100.yaml", 64)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
