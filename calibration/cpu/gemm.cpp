#include "gemm.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "config/error.hpp"

namespace sparsim::calib {

void gemm_reference(int m, int n, int k, const float* a, const float* b, float* c) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int p = 0; p < k; ++p) s += static_cast<double>(a[i * k + p]) * b[p * n + j];
      c[i * n + j] = static_cast<float>(s);
    }
  }
}

void gemm_blas(int m, int n, int k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

double gemm_sampled_error(int m, int n, int k, const float* a, const float* b, const float* c, int samples) {
  const long total = static_cast<long>(m) * n;
  const long count = std::min<long>(total, samples);
  double worst = 0;
  for (long s = 0; s < count; ++s) {
    const long idx = count == total ? s : (s * 7919 % total);  // 7919 prime: spread over rows and columns
    const int i = static_cast<int>(idx / n), j = static_cast<int>(idx % n);
    double ref = 0;
    for (int p = 0; p < k; ++p) ref += static_cast<double>(a[i * k + p]) * b[p * n + j];
    worst = std::max(worst, std::abs(c[idx] - ref) / (std::abs(ref) + 1.0));
  }
  return worst;
}

std::vector<GemmShape> gemm_shapes(bool quick) {
  std::vector<GemmShape> out;
  // The reference trainer's GEMMs for T = B*s tokens and hidden h (4h FFN, byte vocabulary 256,
  // head size 32): QKV, output projection, FFN up and down, logits, one head's attention scores.
  const int tokens = quick ? 256 : 1024;
  const std::vector<int> hiddens = quick ? std::vector<int>{64, 256} : std::vector<int>{64, 128, 256, 512};
  for (int h : hiddens) {
    const std::string t = "trainer T=" + std::to_string(tokens) + " h=" + std::to_string(h);
    out.push_back({tokens, 3 * h, h, t + " qkv"});
    out.push_back({tokens, h, h, t + " attn-out"});
    out.push_back({tokens, 4 * h, h, t + " ffn-up"});
    out.push_back({tokens, h, 4 * h, t + " ffn-down"});
    out.push_back({tokens, 256, h, t + " logits"});
    // an expert's share of the tokens (T/8 with 8 experts): thin GEMMs, forward and weight gradient
    const int te = tokens / 4;
    const std::string x = "trainer expert T=" + std::to_string(te) + " h=" + std::to_string(h);
    out.push_back({te, 4 * h, h, x + " ffn-up"});
    out.push_back({te, h, 4 * h, x + " ffn-down"});
    out.push_back({h, 4 * h, te, x + " ffn-up weight gradient"});
  }
  out.push_back({128, 128, 32, "trainer s=128 attention scores (one head)"});
  out.push_back({32, 32, 32, "tiny square"});
  for (int s : quick ? std::vector<int>{512, 1024} : std::vector<int>{512, 1024, 1536, 2048}) {
    out.push_back({s, s, s, "square " + std::to_string(s)});
  }
  return out;
}

std::vector<GemmPoint> measure_gemm(const std::vector<GemmShape>& shapes, int reps, double budget_s) {
  SPARSIM_ASSERT(reps >= 1, "reps >= 1");
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<GemmPoint> out;
  for (const GemmShape& s : shapes) {
    std::vector<float> a(static_cast<std::size_t>(s.m) * s.k), b(static_cast<std::size_t>(s.k) * s.n),
        c(static_cast<std::size_t>(s.m) * s.n);
    for (auto& x : a) x = u(rng);
    for (auto& x : b) x = u(rng);
    GemmPoint p{s, {}, 0, 0};
    // Correctness first (STYLE.md #1): the output of the kernel about to be timed.
    gemm_blas(s.m, s.n, s.k, a.data(), b.data(), c.data());
    p.max_error = gemm_sampled_error(s.m, s.n, s.k, a.data(), b.data(), c.data(), 256);
    if (!(p.max_error < 1e-3)) {
      throw std::runtime_error("GEMM " + s.tag + ": OpenBLAS differs from the reference by " + std::to_string(p.max_error));
    }
    const Spread probe = time_seconds([&] { gemm_blas(s.m, s.n, s.k, a.data(), b.data(), c.data()); }, 0, 1);
    const int n = std::clamp(static_cast<int>(budget_s / std::max(probe.min, 1e-9)), 3, reps);
    p.seconds = time_seconds([&] { gemm_blas(s.m, s.n, s.k, a.data(), b.data(), c.data()); }, 1, n);
    p.flop_rate = s.flops() / p.seconds.min;
    out.push_back(p);
  }
  return out;
}

std::vector<EfficiencyRow> efficiency_table(const std::vector<GemmPoint>& points, double peak) {
  SPARSIM_ASSERT(peak > 0, "peak > 0");
  std::vector<EfficiencyRow> rows;
  for (const auto& p : points) rows.push_back({p.shape.flops(), p.flop_rate / peak});
  std::sort(rows.begin(), rows.end(), [](auto& x, auto& y) { return x.flops < y.flops; });
  std::vector<EfficiencyRow> merged;
  for (std::size_t i = 0; i < rows.size();) {
    std::size_t j = i;
    double eff = 0;
    while (j < rows.size() && rows[j].flops <= rows[i].flops * 1.02) eff += rows[j++].efficiency;
    const auto cnt = static_cast<double>(j - i);
    merged.push_back({rows[i + (j - i) / 2].flops, std::clamp(eff / cnt, 1e-6, 1.0)});
    i = j;
  }
  return merged;
}

void set_blas_threads(int threads) { openblas_set_num_threads(threads); }
int blas_threads() { return openblas_get_num_threads(); }
std::string blas_config() { return openblas_get_config(); }

}  // namespace sparsim::calib
