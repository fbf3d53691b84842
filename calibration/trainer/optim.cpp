#include "optim.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "parallel.hpp"

namespace sparsim::trainer {

static void adamw_range(float* w, const float* g, float* m, float* v, std::size_t lo, std::size_t hi, float c1,
                        float c2, const AdamW& hp) {
  // the hyper-parameters in locals: through the reference, every store to w, m or v might
  // change them, and GCC would reload them each iteration instead of vectorising
  const float b1 = hp.beta1, b2 = hp.beta2, lr = hp.lr, eps = hp.eps, wd = hp.weight_decay;
  for (std::size_t i = lo; i < hi; ++i) {
    m[i] = b1 * m[i] + (1.0f - b1) * g[i];
    v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    const float mhat = m[i] / c1, vhat = v[i] / c2;
    w[i] -= lr * (mhat / (std::sqrt(vhat) + eps) + wd * w[i]);
  }
}

void adamw_update(float* w, const float* g, float* m, float* v, std::size_t n, int step, const AdamW& hp,
                  int threads) {
  adamw_update({AdamTensor{w, g, m, v, n, step}}, hp, threads);
}

void adamw_update(const std::vector<AdamTensor>& tensors, const AdamW& hp, int threads) {
  std::size_t total = 0;
  for (const auto& x : tensors) total += x.n;
  // elements [lo, hi) of the tensors laid end to end
  auto run = [&](std::size_t lo, std::size_t hi) {
    std::size_t base = 0;
    for (const auto& x : tensors) {
      const std::size_t a = std::max(lo, base), b = std::min(hi, base + x.n);
      if (a < b) {
        const float c1 = 1.0f - static_cast<float>(std::pow(static_cast<double>(hp.beta1), x.step));
        const float c2 = 1.0f - static_cast<float>(std::pow(static_cast<double>(hp.beta2), x.step));
        adamw_range(x.w, x.g, x.m, x.v, a - base, b - base, c1, c2, hp);
      }
      base += x.n;
    }
  };
  // small updates stay on this thread: starting threads would cost more than the update
  parallel_slices(total < 4096 ? 1 : std::max(1, threads), total, run);
}

}  // namespace sparsim::trainer
