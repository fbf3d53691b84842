// The CPU calibration kernels under Google Benchmark: counters in domain units (FLOP/s,
// bytes/s, parameters/s), so a JSON run is a calibration that tools can read.
//   bench_calibration --benchmark_format=json --benchmark_out=calib.json
#include <benchmark/benchmark.h>

#include <vector>

#include "cpu/adam.hpp"
#include "cpu/gemm.hpp"
#include "cpu/memory.hpp"

using namespace sparsim::calib;

// fp32 GEMM m x n x k, args {m, n, k, threads}: the reference trainer's shapes and a square one.
static void BM_Gemm(benchmark::State& st) {
  const int m = static_cast<int>(st.range(0)), n = static_cast<int>(st.range(1)), k = static_cast<int>(st.range(2));
  set_blas_threads(static_cast<int>(st.range(3)));
  std::vector<float> a(static_cast<size_t>(m) * k, 0.5f), b(static_cast<size_t>(k) * n, 0.25f), c(static_cast<size_t>(m) * n);
  for (auto _ : st) {
    gemm_blas(m, n, k, a.data(), b.data(), c.data());
    benchmark::DoNotOptimize(c.data());
  }
  st.counters["FLOP/s"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Gemm)
    ->Args({256, 256, 64, 1})
    ->Args({1024, 1024, 256, 1})
    ->Args({1024, 256, 1024, 1})
    ->Args({1024, 1024, 1024, 1})
    ->Args({1024, 1024, 1024, 2})
    ->Unit(benchmark::kMillisecond);

// STREAM triad a = b + s c over n doubles, args {n, threads}; 24 bytes per element.
static void BM_Triad(benchmark::State& st) {
  const auto n = static_cast<size_t>(st.range(0));
  std::vector<double> a(n), b(n, 1.0), c(n, 2.0);
  for (auto _ : st) {
    triad_kernel(a.data(), b.data(), c.data(), 3.0, n, static_cast<int>(st.range(1)));
    benchmark::DoNotOptimize(a.data());
  }
  st.counters["bytes/s"] = benchmark::Counter(24.0 * static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Triad)->Args({1 << 22, 1})->Args({1 << 22, 2})->Unit(benchmark::kMillisecond);

// STREAM copy a = b, args {n, threads}; 16 bytes per element.
static void BM_Copy(benchmark::State& st) {
  const auto n = static_cast<size_t>(st.range(0));
  std::vector<double> a(n), b(n, 1.0);
  for (auto _ : st) {
    copy_kernel(a.data(), b.data(), n, static_cast<int>(st.range(1)));
    benchmark::DoNotOptimize(a.data());
  }
  st.counters["bytes/s"] = benchmark::Counter(16.0 * static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Copy)->Args({1 << 22, 2})->Unit(benchmark::kMillisecond);

// AdamW over n fp32 parameters, args {n, threads}.
static void BM_AdamW(benchmark::State& st) {
  const auto n = static_cast<size_t>(st.range(0));
  std::vector<float> p(n, 0.5f), g(n, 0.01f), m(n, 0.0f), v(n, 0.0f);
  AdamConfig c;
  for (auto _ : st) {
    adamw_update(p.data(), g.data(), m.data(), v.data(), n, c, static_cast<int>(st.range(1)));
    benchmark::DoNotOptimize(p.data());
  }
  st.counters["params/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AdamW)->Args({1 << 22, 1})->Args({1 << 22, 2})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
