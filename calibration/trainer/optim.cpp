#include "optim.hpp"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

namespace sparsim::trainer {

static void adamw_range(float* w, const float* g, float* m, float* v, std::size_t lo, std::size_t hi, float c1,
                        float c2, const AdamW& hp) {
  for (std::size_t i = lo; i < hi; ++i) {
    m[i] = hp.beta1 * m[i] + (1.0f - hp.beta1) * g[i];
    v[i] = hp.beta2 * v[i] + (1.0f - hp.beta2) * g[i] * g[i];
    const float mhat = m[i] / c1, vhat = v[i] / c2;
    w[i] -= hp.lr * (mhat / (std::sqrt(vhat) + hp.eps) + hp.weight_decay * w[i]);
  }
}

void adamw_update(float* w, const float* g, float* m, float* v, std::size_t n, int step, const AdamW& hp,
                  int threads) {
  const float c1 = 1.0f - static_cast<float>(std::pow(static_cast<double>(hp.beta1), step));
  const float c2 = 1.0f - static_cast<float>(std::pow(static_cast<double>(hp.beta2), step));
  const std::size_t t = static_cast<std::size_t>(std::max(1, threads));
  if (t == 1 || n < 4096) {
    adamw_range(w, g, m, v, 0, n, c1, c2, hp);
    return;
  }
  std::vector<std::thread> pool;
  const std::size_t chunk = (n + t - 1) / t;
  for (std::size_t i = 0; i < t; ++i) {
    const std::size_t lo = i * chunk, hi = std::min(n, lo + chunk);
    if (lo < hi) pool.emplace_back(adamw_range, w, g, m, v, lo, hi, c1, c2, std::cref(hp));
  }
  for (auto& th : pool) th.join();
}

}  // namespace sparsim::trainer
