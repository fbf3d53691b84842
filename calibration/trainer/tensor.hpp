// A trainable tensor: weights, gradient and AdamW moments, flat fp32.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sparsim::trainer {

/// Deterministic init: uniform in [-scale, scale] from a splitmix64 stream of `seed`, so a
/// tensor (or an expert) has the same values on any rank count.
void init_uniform(std::vector<float>& w, float scale, std::uint64_t seed);

/// A gradient: its own storage, or (bind) a slice of a model's flat gradient buffer, so that
/// the data-parallel all-reduce runs on that buffer in place, as DDP's gradient bucket views do.
class Grad {
 public:
  Grad() = default;
  Grad(const Grad& o) : own_(o.begin(), o.end()), p_(own_.data()), n_(o.n_) {}  // a copy owns its values
  Grad& operator=(const Grad& o) {
    if (this != &o) own_.assign(o.begin(), o.end()), p_ = own_.data(), n_ = o.n_;
    return *this;
  }
  Grad(Grad&&) noexcept = default;  // a vector's buffer moves with it: p_ stays valid
  Grad& operator=(Grad&&) noexcept = default;
  void assign(std::size_t n, float value) {
    own_.assign(n, value);
    p_ = own_.data(), n_ = n;
  }
  /// Moves the values to p[0, size) and uses that storage from now on.
  void bind(float* p) {
    std::copy(begin(), end(), p);
    own_.clear();
    own_.shrink_to_fit();
    p_ = p;
  }
  float* data() { return p_; }
  const float* data() const { return p_; }
  float& operator[](std::size_t i) { return p_[i]; }
  float operator[](std::size_t i) const { return p_[i]; }
  float* begin() { return p_; }
  float* end() { return p_ + n_; }
  const float* begin() const { return p_; }
  const float* end() const { return p_ + n_; }
  std::size_t size() const { return n_; }

 private:
  std::vector<float> own_;
  float* p_ = nullptr;
  std::size_t n_ = 0;
};

struct Tensor {
  std::vector<float> w, m, v;
  Grad g;
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
  std::size_t size() const { return w.size(); }
};

}  // namespace sparsim::trainer
