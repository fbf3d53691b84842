#include "adam.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "optim.hpp"

namespace sparsim::calib {


void adamw_reference(float* p, const float* g, float* m, float* v, std::size_t n, const AdamConfig& c) {
  const double c1 = 1.0 / (1.0 - std::pow(c.beta1, c.step)), c2 = 1.0 / (1.0 - std::pow(c.beta2, c.step));
  for (std::size_t i = 0; i < n; ++i) {
    m[i] = c.beta1 * m[i] + (1 - c.beta1) * g[i];
    v[i] = c.beta2 * v[i] + (1 - c.beta2) * g[i] * g[i];
    const double upd = (m[i] * c1) / (std::sqrt(v[i] * c2) + c.eps) + c.weight_decay * static_cast<double>(p[i]);
    p[i] = static_cast<float>(p[i] - c.lr * upd);
  }
}

void adamw_update(float* p, const float* g, float* m, float* v, std::size_t n, const AdamConfig& c, int threads) {
  trainer::adamw_update(p, g, m, v, n, c.step, trainer::AdamW{c.lr, c.beta1, c.beta2, c.eps, c.weight_decay}, threads);
}

std::vector<AdamResult> measure_adam(std::size_t n, int max_threads, int reps, const std::function<void()>& before) {
  std::vector<float> p(n), g(n), m(n, 0.0f), v(n, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = 0.5f - static_cast<float>(i % 101) * 0.01f;
    g[i] = 0.03f * static_cast<float>(static_cast<int>(i % 13) - 6);
  }
  {
    // Correctness on a prefix, two steps so that m and v are non-zero going in.
    const std::size_t k = std::min<std::size_t>(n, 4099);
    std::vector<float> p1(p.begin(), p.begin() + k), m1(k, 0.0f), v1(k, 0.0f);
    std::vector<float> p2 = p1, m2 = m1, v2 = v1;
    for (int t = 1; t <= 2; ++t) {
      AdamConfig c;
      c.step = t;
      adamw_update(p1.data(), g.data(), m1.data(), v1.data(), k, c, std::max(1, max_threads));
      adamw_reference(p2.data(), g.data(), m2.data(), v2.data(), k, c);
    }
    for (std::size_t i = 0; i < k; ++i) {
      if (std::abs(p1[i] - p2[i]) > 1e-5f * (std::abs(p2[i]) + 1e-3f)) {
        throw std::runtime_error("AdamW kernel differs from the scalar reference at index " + std::to_string(i));
      }
    }
  }
  std::vector<AdamResult> out;
  for (int t = 1;; t *= 2) {
    const int threads = std::min(t, max_threads);
    AdamResult r;
    r.threads = threads;
    AdamConfig c;
    r.seconds = time_seconds_after(
        before, [&] { adamw_update(p.data(), g.data(), m.data(), v.data(), n, c, threads); c.step++; }, 1, reps);
    // the typical (median) update: each spawns its threads, and where the scheduler first puts
    // them varies the time by up to 2x from call to call, as in the trainer
    r.params_per_s = static_cast<double>(n) / r.seconds.median;
    r.bytes_per_s = 28.0 * static_cast<double>(n) / r.seconds.median;
    out.push_back(r);
    if (threads >= max_threads) break;
  }
  return out;
}

}  // namespace sparsim::calib
