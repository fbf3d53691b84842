// Finite-difference gradient check harness (STYLE.md #4), shared by every layer case.
//
// Mode: the analytic gradient of L (computed by the caller's backward, snapshotted here before
// any probing) is compared with the central difference (L(w + eps) - L(w - eps)) / 2 eps on a
// spread of elements of every parameter. The kernels are fp32 and L is summed in double:
// rounding noise in L is ~1e-7 |L| / 2 eps and the truncation error O(eps^2 L'''), hence the
// stated tolerance |fd - analytic| <= atol + rtol max(|fd|, |analytic|), atol 2e-3, rtol 3e-2
// at eps = 1e-2.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

struct GradParam {
  std::string name;
  float* w;         ///< values to probe
  const float* g;   ///< analytic gradient (already computed)
  std::size_t n;
};

inline void check_gradients(const std::function<double()>& loss, const std::vector<GradParam>& params,
                            double eps = 1e-2, double atol = 2e-3, double rtol = 3e-2, std::size_t probes = 16) {
  std::vector<std::vector<float>> analytic;
  for (const auto& p : params) analytic.emplace_back(p.g, p.g + p.n);
  for (std::size_t k = 0; k < params.size(); ++k) {
    const auto& p = params[k];
    const std::size_t step = std::max<std::size_t>(1, p.n / probes);
    for (std::size_t i = (k * 7) % step; i < p.n; i += step) {
      const float w0 = p.w[i];
      p.w[i] = w0 + static_cast<float>(eps);
      const double lp = loss();
      p.w[i] = w0 - static_cast<float>(eps);
      const double lm = loss();
      p.w[i] = w0;
      const double fd = (lp - lm) / (2 * eps), an = analytic[k][i];
      INFO(p.name << "[" << i << "] analytic " << an << " finite difference " << fd);
      CHECK(std::abs(fd - an) <= atol + rtol * std::max(std::abs(fd), std::abs(an)));
    }
  }
}

/// Deterministic values in [-scale, scale].
inline std::vector<float> random_vec(std::size_t n, float scale, unsigned seed) {
  std::vector<float> v(n);
  unsigned x = seed * 2654435761u + 1;
  for (auto& e : v) {
    x = x * 1664525u + 1013904223u;
    e = scale * (static_cast<float>(x >> 8) / 8388608.0f - 1.0f);
  }
  return v;
}

inline double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}
