#include "ops.hpp"

#include <cblas.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

namespace sparsim::trainer {

namespace {
thread_local std::uint64_t gemm_flops = 0;
}  // namespace

std::uint64_t gemm_flops_counted() { return gemm_flops; }

void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
  if (M == 0 || N == 0) return;
  gemm_flops += 2 * static_cast<std::uint64_t>(M) * static_cast<std::uint64_t>(N) * static_cast<std::uint64_t>(K);
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
              B, ldb, beta, C, ldc);
}

void linear_fwd(const float* x, const float* W, const float* b, float* y, int N, int in, int out) {
  for (int i = 0; i < N; ++i) std::copy(b, b + out, y + static_cast<std::size_t>(i) * out);
  gemm(false, false, N, out, in, 1.0f, x, in, W, out, 1.0f, y, out);
}

void linear_bwd(const float* dy, const float* x, const float* W, float* dx, float* dW, float* db, int N, int in,
                int out, bool accumulate) {
  if (N == 0) return;
  if (dx) gemm(false, true, N, in, out, 1.0f, dy, out, W, out, 0.0f, dx, in);
  gemm(true, false, in, out, N, 1.0f, x, in, dy, out, accumulate ? 1.0f : 0.0f, dW, out);
  if (!accumulate) std::fill(db, db + out, 0.0f);
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < out; ++j) db[j] += dy[static_cast<std::size_t>(i) * out + j];
}

void layernorm_fwd(const float* x, const float* g, const float* b, float* y, float* mean, float* rstd, int N, int h) {
  for (int i = 0; i < N; ++i) {
    const float* xi = x + static_cast<std::size_t>(i) * h;
    double m = 0, v = 0;
    for (int j = 0; j < h; ++j) m += xi[j];
    m /= h;
    for (int j = 0; j < h; ++j) v += (xi[j] - m) * (xi[j] - m);
    v /= h;
    const float r = static_cast<float>(1.0 / std::sqrt(v + 1e-5));
    mean[i] = static_cast<float>(m);
    rstd[i] = r;
    float* yi = y + static_cast<std::size_t>(i) * h;
    for (int j = 0; j < h; ++j) yi[j] = (xi[j] - mean[i]) * r * g[j] + b[j];
  }
}

// With xhat = (x - mean) rstd and dxhat = dy g:
//   dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)).
void layernorm_bwd(const float* dy, const float* x, const float* g, const float* mean, const float* rstd, float* dx,
                   float* dg, float* db, int N, int h) {
  for (int i = 0; i < N; ++i) {
    const float* xi = x + static_cast<std::size_t>(i) * h;
    const float* dyi = dy + static_cast<std::size_t>(i) * h;
    double s1 = 0, s2 = 0;
    for (int j = 0; j < h; ++j) {
      const float xhat = (xi[j] - mean[i]) * rstd[i];
      const float dxhat = dyi[j] * g[j];
      s1 += dxhat;
      s2 += dxhat * xhat;
      dg[j] += dyi[j] * xhat;
      db[j] += dyi[j];
    }
    const float m1 = static_cast<float>(s1 / h), m2 = static_cast<float>(s2 / h);
    float* dxi = dx + static_cast<std::size_t>(i) * h;
    for (int j = 0; j < h; ++j) {
      const float xhat = (xi[j] - mean[i]) * rstd[i];
      dxi[j] = rstd[i] * (dyi[j] * g[j] - m1 - xhat * m2);
    }
  }
}

namespace {
constexpr float kGeluC = 0.7978845608028654f;  // sqrt(2/pi)

// exp(x) without a libm call, so that GCC vectorises the loops that use it (GELU, softmax,
// cross-entropy were a third of the CPU step with std::exp). x = n ln2 + r, |r| <= ln2/2
// (Cody-Waite split of ln2), exp(r) by its degree-6 Taylor polynomial (relative error
// < 2e-7), 2^n built in the exponent bits. x is clamped to [-87, 88]: exp(-87) = 1.6e-38
// stays a normal float.
inline float exp_fast(float x) {
  x = x < -87.0f ? -87.0f : x;  // the conditional-move form vectorises (maxps / minps); std::clamp does not
  x = x > 88.0f ? 88.0f : x;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to nearest
  const float n = (x * 1.44269504088896341f + kRound) - kRound;
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-6f;
  const float p =
      1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  return p * std::bit_cast<float>((static_cast<std::int32_t>(n) + 127) << 23);
}

// tanh through one exp: (e^2z - 1) / (e^2z + 1), z clamped to +-9 (tanh(9) = 1 - 3e-8);
// |error| <= 3e-7.
inline float tanh_fast(float z) {
  z = z < -9.0f ? -9.0f : z;
  z = z > 9.0f ? 9.0f : z;
  const float e = exp_fast(2.0f * z);
  return (e - 1.0f) / (e + 1.0f);
}
}  // namespace

void gelu_fwd(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float u = x[i];
    y[i] = 0.5f * u * (1.0f + tanh_fast(kGeluC * (u + 0.044715f * u * u * u)));
  }
}

void gelu_bwd(const float* x, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float u = x[i];
    const float t = tanh_fast(kGeluC * (u + 0.044715f * u * u * u));
    const float dt = (1.0f - t * t) * kGeluC * (1.0f + 3.0f * 0.044715f * u * u);
    dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * u * dt);
  }
}

void softmax_rows(float* x, int N, int n) {
  for (int i = 0; i < N; ++i) {
    float* r = x + static_cast<std::size_t>(i) * n;
    const float mx = *std::max_element(r, r + n);
    for (int j = 0; j < n; ++j) r[j] = exp_fast(r[j] - mx);
    double sum = 0;
    for (int j = 0; j < n; ++j) sum += r[j];
    const float inv = static_cast<float>(1.0 / sum);
    for (int j = 0; j < n; ++j) r[j] *= inv;
  }
}

void attention_fwd(const float* qkv, float* out, float* probs, int B, int s, int h, int a) {
  const int dh = h / a, ld = 3 * h;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  for (int b = 0; b < B; ++b) {
    for (int j = 0; j < a; ++j) {
      const float* q = qkv + static_cast<std::size_t>(b) * s * ld + j * dh;
      float* P = probs + (static_cast<std::size_t>(b) * a + j) * s * s;
      gemm(false, true, s, s, dh, scale, q, ld, q + h, ld, 0.0f, P, s);
      for (int r = 0; r < s; ++r) {  // causal: row r sees columns 0..r
        float* row = P + static_cast<std::size_t>(r) * s;
        softmax_rows(row, 1, r + 1);
        std::fill(row + r + 1, row + s, 0.0f);
      }
      gemm(false, false, s, dh, s, 1.0f, P, s, q + 2 * h, ld, 0.0f, out + static_cast<std::size_t>(b) * s * h + j * dh,
           h);
    }
  }
}

void attention_bwd(const float* dout, const float* qkv, const float* probs, float* dqkv, int B, int s, int h, int a) {
  const int dh = h / a, ld = 3 * h;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  std::vector<float> dP(static_cast<std::size_t>(s) * s);
  for (int b = 0; b < B; ++b) {
    for (int j = 0; j < a; ++j) {
      const std::size_t off = static_cast<std::size_t>(b) * s * ld + j * dh;
      const float* q = qkv + off;
      float* dq = dqkv + off;
      const float* P = probs + (static_cast<std::size_t>(b) * a + j) * s * s;
      const float* dO = dout + static_cast<std::size_t>(b) * s * h + j * dh;
      gemm(false, true, s, s, dh, 1.0f, dO, h, q + 2 * h, ld, 0.0f, dP.data(), s);  // dP = dO V^T
      gemm(true, false, s, dh, s, 1.0f, P, s, dO, h, 0.0f, dq + 2 * h, ld);         // dV = P^T dO
      for (int r = 0; r < s; ++r) {  // dS = P (dP - rowsum(P dP))
        const float* pr = P + static_cast<std::size_t>(r) * s;
        float* dr = dP.data() + static_cast<std::size_t>(r) * s;
        double dot = 0;
        for (int c = 0; c <= r; ++c) dot += pr[c] * dr[c];
        for (int c = 0; c < s; ++c) dr[c] = c <= r ? pr[c] * (dr[c] - static_cast<float>(dot)) : 0.0f;
      }
      gemm(false, false, s, dh, s, scale, dP.data(), s, q + h, ld, 0.0f, dq, ld);  // dQ = dS K scale
      gemm(true, false, s, dh, s, scale, dP.data(), s, q, ld, 0.0f, dq + h, ld);   // dK = dS^T Q scale
    }
  }
}

double xent_fwd_bwd(const float* logits, const int* targets, float* dlogits, int N, int V, float scale) {
  double loss = 0;
  for (int i = 0; i < N; ++i) {
    const float* l = logits + static_cast<std::size_t>(i) * V;
    float* d = dlogits + static_cast<std::size_t>(i) * V;
    std::copy(l, l + V, d);
    softmax_rows(d, 1, V);
    loss -= std::log(std::max(d[targets[i]], 1e-30f));
    for (int j = 0; j < V; ++j) d[j] *= scale;
    d[targets[i]] -= scale;
  }
  return loss;
}

}  // namespace sparsim::trainer
