// AdamW (decoupled weight decay), elementwise, split over std::threads. Elementwise means the
// result does not depend on the thread count: the host (ECSS) and device paths agree bitwise.
#pragma once

#include <cstddef>
#include <vector>

namespace sparsim::trainer {

struct AdamW {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f, weight_decay = 0.0f;
};

/// One update of n parameters at step `step` (1-based, for the bias corrections):
///   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
///   w -= lr (m / (1-b1^t) / (sqrt(v / (1-b2^t)) + eps) + wd w)
void adamw_update(float* w, const float* g, float* m, float* v, std::size_t n, int step, const AdamW& hp,
                  int threads);

/// One tensor of a batched update, at its own step count.
struct AdamTensor {
  float* w;
  const float* g;
  float* m;
  float* v;
  std::size_t n;
  int step;
};
/// The update of adamw_update on every tensor, with one team of `threads` threads for all of
/// them (the elements split evenly over the threads): the same results, without starting
/// threads per tensor (a step has tens of small tensors).
void adamw_update(const std::vector<AdamTensor>& tensors, const AdamW& hp, int threads);

}  // namespace sparsim::trainer
