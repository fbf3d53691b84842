// A trainable tensor: weights, gradient and AdamW moments, flat fp32.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sparsim::trainer {

/// Deterministic init: uniform in [-scale, scale] from a splitmix64 stream of `seed`, so a
/// tensor (or an expert) has the same values on any rank count.
void init_uniform(std::vector<float>& w, float scale, std::uint64_t seed);

struct Tensor {
  std::vector<float> w, g, m, v;
  void resize(std::size_t n, float value = 0.0f) {
    w.assign(n, value);
    g.assign(n, 0.0f);
    m.assign(n, 0.0f);
    v.assign(n, 0.0f);
  }
  void random(std::size_t n, float scale, std::uint64_t seed) {
    resize(n);
    init_uniform(w, scale, seed);
  }
  void zero_grad() { std::fill(g.begin(), g.end(), 0.0f); }
  std::size_t size() const { return w.size(); }
};

}  // namespace sparsim::trainer
