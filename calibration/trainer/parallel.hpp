// Splitting a loop over [0, n) across std::threads (the caller's thread takes the first slice).
// Used by the trainer's AdamW and by the calibration kernels (STREAM), which link the trainer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

#include "config/error.hpp"

namespace sparsim {

/// Calls f(begin, end) on `threads` contiguous slices of [0, n), in parallel; returns when all
/// slices are done. Slices differ in length by at most one element.
template <class F>
void parallel_slices(int threads, std::size_t n, F&& f) {
  SPARSIM_ASSERT(threads >= 1, "threads >= 1");
  const auto t = static_cast<std::size_t>(threads);
  auto bounds = [&](std::size_t i) { return i * (n / t) + std::min(i, n % t); };
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  for (std::size_t i = 1; i < t; ++i) pool.emplace_back([&, i] { f(bounds(i), bounds(i + 1)); });
  f(bounds(0), bounds(1));
  for (auto& th : pool) th.join();
}

/// Online CPUs as the OS reports them (at least 1).
inline int hardware_threads() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

}  // namespace sparsim
