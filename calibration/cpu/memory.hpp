// DRAM bandwidth: STREAM-style copy (a = b) and triad (a = b + s*c) over std::threads.
#pragma once

#include <cstddef>

#include "timing.hpp"

namespace sparsim::calib {

/// a[i] = b[i] for i in [0, n), split over `threads`.
void copy_kernel(double* a, const double* b, std::size_t n, int threads);
/// a[i] = b[i] + s * c[i] for i in [0, n), split over `threads`.
void triad_kernel(double* a, const double* b, const double* c, double s, std::size_t n, int threads);
/// The reference: the same triad as one scalar loop.
void triad_reference(double* a, const double* b, const double* c, double s, std::size_t n);

struct BandwidthResult {
  Spread seconds;         ///< per pass over the arrays
  double bytes = 0;       ///< counted per pass: copy 16 n, triad 24 n (STREAM's convention, no write-allocate)
  double bandwidth = 0;   ///< bytes/s at the best (min) time, as STREAM reports
};

/// Measures copy and triad on arrays of `n` doubles each with `threads`; both kernels are first
/// checked element by element against the scalar loops (throws std::runtime_error on mismatch).
struct MemoryResult {
  BandwidthResult copy;
  BandwidthResult copy_one_thread;  ///< one thread: a single copy stream (the trainer's host<->pool copies)
  BandwidthResult triad;
  std::size_t n = 0;
  int threads = 0;
};
MemoryResult measure_memory(std::size_t n, int threads, int reps);

}  // namespace sparsim::calib
