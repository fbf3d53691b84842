// AdamW update (Loshchilov & Hutter; Adam when weight_decay = 0) on fp32 parameters, split over
// std::threads: the host optimizer of offload/ECSS placements.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "timing.hpp"

namespace sparsim::calib {

struct AdamConfig {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.01f;  ///< decoupled; 0 gives Adam
  int step = 1;                ///< 1-based, for the bias corrections
};

/// The reference, one scalar loop in double for the bias corrections:
///   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
///   p -= lr * (m / (1-b1^t) / (sqrt(v / (1-b2^t)) + eps) + wd * p)
void adamw_reference(float* p, const float* g, float* m, float* v, std::size_t n, const AdamConfig& c);
/// The measured kernel: the reference trainer's AdamW (trainer::adamw_update), so the rate
/// written to a node file is the rate the trainer's optimizer runs at.
void adamw_update(float* p, const float* g, float* m, float* v, std::size_t n, const AdamConfig& c, int threads);

struct AdamResult {
  int threads = 0;
  Spread seconds;          ///< per update of all n parameters
  double params_per_s = 0; ///< n / median time
  double bytes_per_s = 0;  ///< 28 bytes per parameter (read p, g, m, v; write p, m, v) / median time
};

/// Checks the kernel against the reference (throws std::runtime_error past 1e-5 relative), then
/// times updates of `n` parameters with 1, 2, 4, ... up to `max_threads` threads.
/// `before`: run untimed before each timed update (calibrate runs a GEMM with the device's BLAS
/// threads, whose workers then poll for work beside the update, as after a backward pass).
std::vector<AdamResult> measure_adam(std::size_t n, int max_threads, int reps,
                                     const std::function<void()>& before = [] {});

}  // namespace sparsim::calib
