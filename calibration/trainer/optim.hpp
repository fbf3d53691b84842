// AdamW (decoupled weight decay), elementwise, split over std::threads. Elementwise means the
// result does not depend on the thread count: the host (ECSS) and device paths agree bitwise.
#pragma once

#include <cstddef>

namespace sparsim::trainer {

struct AdamW {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f, weight_decay = 0.0f;
};

/// One update of n parameters at step `step` (1-based, for the bias corrections):
///   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
///   w -= lr (m / (1-b1^t) / (sqrt(v / (1-b2^t)) + eps) + wd w)
void adamw_update(float* w, const float* g, float* m, float* v, std::size_t n, int step, const AdamW& hp,
                  int threads);

}  // namespace sparsim::trainer
