#include "gemm.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
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

void gemm_blas(GemmTrans trans, int m, int n, int k, const float* a, const float* b, float* c) {
  const bool ta = trans == GemmTrans::tn, tb = trans == GemmTrans::nt;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
              ta ? m : k, b, tb ? k : n, 0.0f, c, n);
}

void gemm_blas(int m, int n, int k, const float* a, const float* b, float* c) {
  gemm_blas(GemmTrans::nn, m, n, k, a, b, c);
}

std::vector<int> GemmShape::token_counts() const {
  const int t = trans == GemmTrans::tn ? k : m;
  if (window <= 1) return {t};
  std::vector<int> out;
  for (int x = t - window / 2; x < t - window / 2 + window; ++x)
    if (x >= 1) out.push_back(x);
  return out;
}

GemmShape GemmShape::at_tokens(int t) const {
  GemmShape s = *this;
  (trans == GemmTrans::tn ? s.k : s.m) = t;
  s.window = 1;
  return s;
}

double GemmShape::flops() const {
  double f = 0;
  for (int t : token_counts()) {
    const GemmShape s = at_tokens(t);
    f += 2.0 * s.m * s.n * s.k;
  }
  return f;
}

namespace {

// The row-major r x c matrix x, transposed.
std::vector<float> transposed(const std::vector<float>& x, int r, int c) {
  std::vector<float> t(x.size());
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < c; ++j) t[static_cast<std::size_t>(j) * r + i] = x[static_cast<std::size_t>(i) * c + j];
  return t;
}

}  // namespace

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

std::vector<GemmShape> model_gemm_shapes(const GemmModel& g, bool quick) {
  SPARSIM_ASSERT(g.hidden > 0 && g.ffn > 0 && g.heads > 0 && g.seq > 0 && g.vocab > 0, "model dimensions > 0");
  struct Weight {
    int in, out;
    const char* name;
  };
  std::vector<Weight> weights = {{g.hidden, 3 * g.hidden, "qkv"},
                                 {g.hidden, g.hidden, "attn_out"},
                                 {g.hidden, g.ffn, "ffn_up"},
                                 {g.ffn, g.hidden, "ffn_down"},
                                 {g.hidden, g.vocab, "logits"}};
  if (g.gate_experts > 0) weights.push_back({g.hidden, g.gate_experts, "gate"});
  std::vector<GemmShape> out;
  // a weight's forward (nn), input gradient (nt) and weight gradient (tn) at t tokens
  auto add = [&](const Weight& w, int t, const std::string& at, int window) {
    out.push_back({t, w.out, w.in, std::string(w.name) + at, GemmTrans::nn, window});
    out.push_back({t, w.in, w.out, std::string(w.name) + " input gradient" + at, GemmTrans::nt, window});
    out.push_back({w.in, w.out, t, std::string(w.name) + " weight gradient" + at, GemmTrans::tn, window});
  };
  for (const Weight& w : weights) {
    // Round token counts (a batch of sequences) and, between them, odd ones: an expert's share
    // of the tokens has any size, and OpenBLAS is slower off its register-tile multiples.
    const std::vector<int> grid = {8,   13,  16,  21,  24,  29,  32,  41,  48,  57,  64,  79,  96, 111,
                                   128, 157, 192, 221, 256, 313, 384, 443, 512, 627, 768, 887, 1024};
    for (int t : quick && g.tokens > 0 ? std::vector<int>{g.tokens} : grid) add(w, t, " T=" + std::to_string(t), 1);
  }
  if (g.experts) {
    // experts: the FFN's weights over windows of token counts, as routing varies them
    for (const Weight& w : {weights[2], weights[3]})
      for (int t : {8, 16, 32, 64, 128, 256, 512})
        add(w, t, " T=" + std::to_string(t) + "+-" + std::to_string(kExpertWindow / 2) + " (expert)", kExpertWindow);
  }
  const int s = g.seq, dh = g.hidden / g.heads;
  out.push_back({s, s, dh, "attn_scores (one head)", GemmTrans::nt});
  out.push_back({s, dh, s, "attn_values (one head)", GemmTrans::nn});
  out.push_back({s, dh, s, "attention key and value gradients (one head)", GemmTrans::tn});
  return out;
}

namespace {

// One shape's operands as the kernel reads them, checked against the reference: a holds A
// (m x k) or, for tn, A^T; b holds B (k x n) or, for nt, B^T. They are sized for the largest
// token count of the window; a smaller one uses their leading part (for tn the token count is
// k: the leading k rows of A^T and of B).
struct Prepared {
  GemmShape shape;
  std::vector<int> counts;
  std::vector<float> a_stored, b_stored, c;
  double max_error = 0;

  Prepared(const GemmShape& s, std::mt19937& rng) : shape(s), counts(s.token_counts()) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    const GemmShape big = s.at_tokens(counts.back());
    std::vector<float> a(static_cast<std::size_t>(big.m) * big.k), b(static_cast<std::size_t>(big.k) * big.n);
    c.resize(static_cast<std::size_t>(big.m) * big.n);
    for (auto& x : a) x = u(rng);
    for (auto& x : b) x = u(rng);
    a_stored = s.trans == GemmTrans::tn ? transposed(a, big.m, big.k) : a;
    b_stored = s.trans == GemmTrans::nt ? transposed(b, big.k, big.n) : b;
    // Correctness first (STYLE.md #1): the output of the kernel about to be timed (for a
    // window, its largest GEMM, the last one run).
    run();
    max_error = gemm_sampled_error(big.m, big.n, big.k, a.data(), b.data(), c.data(), 256);
    if (!(max_error < 1e-3)) {
      throw std::runtime_error("GEMM " + s.tag + ": OpenBLAS differs from the reference by " + std::to_string(max_error));
    }
  }
  void run() {
    for (int t : counts) {
      const GemmShape x = shape.at_tokens(t);
      gemm_blas(x.trans, x.m, x.n, x.k, a_stored.data(), b_stored.data(), c.data());
    }
  }
};

}  // namespace

std::vector<GemmPoint> measure_gemm(const std::vector<GemmShape>& shapes, int reps, double budget_s) {
  SPARSIM_ASSERT(reps >= 1, "reps >= 1");
  std::mt19937 rng(42);
  std::vector<GemmPoint> out;
  for (const GemmShape& s : shapes) {
    Prepared g(s, rng);
    GemmPoint p{s, {}, 0, g.max_error};
    const Spread probe = time_seconds([&] { g.run(); }, 0, 1);
    const int n = std::clamp(static_cast<int>(budget_s / std::max(probe.min, 1e-9)), 3, reps);
    p.seconds = time_seconds([&] { g.run(); }, 1, n);
    p.flop_rate = s.flops() / p.seconds.min;
    out.push_back(p);
  }
  return out;
}

std::vector<GemmPoint> measure_gemm_interleaved(const std::vector<GemmShape>& shapes, int max_rounds, double budget_s,
                                                const std::function<void()>& after_group) {
  SPARSIM_ASSERT(max_rounds >= 3, "max_rounds >= 3");
  std::mt19937 rng(42);
  std::vector<GemmPoint> out(shapes.size());
  // groups: the shapes of one token count (a step's GEMMs at that batch size), in input order
  std::map<std::pair<int, int>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const GemmShape& s = shapes[i];
    groups[{s.trans == GemmTrans::tn ? s.k : s.m, s.window}].push_back(i);
  }
  for (const auto& [key, members] : groups) {
    std::vector<Prepared> gs;
    for (std::size_t i : members) gs.emplace_back(shapes[i], rng);
    std::vector<std::vector<double>> samples(gs.size());
    double round_s = 0;  // round 0 warms up and sizes the number of rounds
    for (std::size_t j = 0; j < gs.size(); ++j) round_s += time_seconds([&] { gs[j].run(); }, 0, 1).min;
    const int rounds = std::clamp(static_cast<int>(budget_s / std::max(round_s, 1e-9)), 3, max_rounds);
    for (int r = 0; r < rounds; ++r)
      for (std::size_t j = 0; j < gs.size(); ++j) samples[j].push_back(time_seconds([&] { gs[j].run(); }, 0, 1).min);
    for (std::size_t j = 0; j < gs.size(); ++j) {
      GemmPoint p{shapes[members[j]], spread_of(samples[j]), 0, gs[j].max_error};
      p.flop_rate = p.shape.flops() / p.seconds.min;
      out[members[j]] = p;
    }
    if (after_group) after_group();
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
std::string blas_config() {
  // the kernels' name is in the config string; say when they were chosen by OPENBLAS_CORETYPE
  // (set by the user, or by blas::use_best_kernels when OpenBLAS did not know this CPU)
  std::string c = openblas_get_config();
  if (const char* core = std::getenv("OPENBLAS_CORETYPE")) c += std::string(" (OPENBLAS_CORETYPE=") + core + ")";
  return c;
}

}  // namespace sparsim::calib
