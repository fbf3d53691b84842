// Timing helpers shared by the CPU kernels: warm-up, repetitions, and the spread of the samples.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <utility>
#include <vector>

#include "config/error.hpp"

namespace sparsim::calib {

/// The spread of repeated measurements of one quantity (same unit as the samples).
struct Spread {
  double min = 0;
  double median = 0;
  double max = 0;
  int samples = 0;
};

/// min / median / max of `v` (the median of an even count is the mean of the two middle ones).
inline Spread spread_of(std::vector<double> v) {
  SPARSIM_ASSERT(!v.empty(), "no samples");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  const double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {v.front(), med, v.back(), static_cast<int>(n)};
}

/// Runs `f` `warmup` times untimed, then `reps` times timed, each after an untimed call of
/// `before` (the state the kernel meets in use); returns the spread in seconds.
template <class B, class F>
Spread time_seconds_after(B&& before, F&& f, int warmup, int reps) {
  SPARSIM_ASSERT(reps >= 1 && warmup >= 0, "reps >= 1, warmup >= 0");
  for (int i = 0; i < warmup; ++i) before(), f();
  std::vector<double> s;
  s.reserve(static_cast<std::size_t>(reps));
  for (int i = 0; i < reps; ++i) {
    before();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return spread_of(std::move(s));
}

/// Runs `f` `warmup` times untimed, then `reps` times timed; returns the spread in seconds.
template <class F>
Spread time_seconds(F&& f, int warmup, int reps) {
  return time_seconds_after([] {}, std::forward<F>(f), warmup, reps);
}

}  // namespace sparsim::calib
