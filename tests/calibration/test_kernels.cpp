// Each CPU calibration kernel against its reference (STYLE.md #1, #4): awkward shapes, odd
// lengths, several thread counts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "blas_kernels.hpp"
#include "cpu/adam.hpp"
#include "cpu/elementwise.hpp"
#include "cpu/gemm.hpp"
#include "cpu/memory.hpp"
#include "parallel.hpp"
#include "cpu/sysinfo.hpp"
#include "cpu/timing.hpp"
#include "workload/transformer.hpp"

using namespace sparsim::calib;
using sparsim::GemmTrans;

TEST_CASE("gemm reference: a 2x3 by 3x2 product worked by hand", "[calibration][gemm]") {
  // [1 2 3; 4 5 6] * [7 8; 9 10; 11 12] = [1*7+2*9+3*11, 1*8+2*10+3*12; 4*7+5*9+6*11, 4*8+5*10+6*12]
  //                                     = [58 64; 139 154]
  const std::vector<float> a{1, 2, 3, 4, 5, 6}, b{7, 8, 9, 10, 11, 12};
  std::vector<float> c(4);
  gemm_reference(2, 2, 3, a.data(), b.data(), c.data());
  CHECK(c == std::vector<float>{58, 64, 139, 154});
}

TEST_CASE("gemm: OpenBLAS equals the naive triple loop on awkward shapes", "[calibration][gemm]") {
  // Every (m, n, k) in {1, 5, 7, 11, 13}^3, and with 1 and 2 BLAS threads. Inputs in [-1, 1]:
  // each output sums k <= 13 products, fp32 rounding stays below 13 * 2^-24 * 13 ~ 1e-5.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  const int sizes[] = {1, 5, 7, 11, 13};
  for (int threads : {1, 2}) {
    set_blas_threads(threads);
    for (int m : sizes) {
      for (int n : sizes) {
        for (int k : sizes) {
          std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)), c(static_cast<size_t>(m * n)),
              r(static_cast<size_t>(m * n));
          for (auto& x : a) x = u(rng);
          for (auto& x : b) x = u(rng);
          gemm_blas(m, n, k, a.data(), b.data(), c.data());
          gemm_reference(m, n, k, a.data(), b.data(), r.data());
          for (size_t i = 0; i < c.size(); ++i) REQUIRE(c[i] == Approx(r[i]).margin(1e-5));
          CHECK(gemm_sampled_error(m, n, k, a.data(), b.data(), c.data(), 1 << 20) < 1e-5);
        }
      }
    }
  }
}

TEST_CASE("gemm: the sampled check catches a wrong entry", "[calibration][gemm]") {
  // A 13x11x7 product with one output entry off by 1: checking every entry must see it.
  std::vector<float> a(13 * 7, 0.5f), b(7 * 11, 0.25f), c(13 * 11);
  gemm_blas(13, 11, 7, a.data(), b.data(), c.data());
  CHECK(c[0] == Approx(7 * 0.5 * 0.25));
  c[42] += 1.0f;
  CHECK(gemm_sampled_error(13, 11, 7, a.data(), b.data(), c.data(), 13 * 11) > 0.3);
}

TEST_CASE("gemm: measure_gemm checks and times, rates are FLOP / median time", "[calibration][gemm]") {
  const auto pts = measure_gemm({{5, 7, 11, "awkward"}, {64, 64, 64, "small square"}}, 3, 0.01);
  REQUIRE(pts.size() == 2);
  for (const auto& p : pts) {
    CHECK(p.max_error < 1e-5);
    CHECK(p.seconds.samples >= 3);
    CHECK(p.seconds.min <= p.seconds.median);  // rates use the best time (shared machine)
    CHECK(p.seconds.median <= p.seconds.max);
    CHECK(p.flop_rate == Approx(p.shape.flops() / p.seconds.min));
  }
  CHECK(pts[0].shape.flops() == 2.0 * 5 * 7 * 11);
}

TEST_CASE("gemm: a model's shapes cover every weight three ways and the attention; transposed kernels are checked",
          "[calibration][gemm]") {
  const auto shapes = model_gemm_shapes(GemmModel{16, 48, 2, 8, 20, 4});
  // 6 weights (qkv, attn_out, ffn_up, ffn_down, logits, gate) x 3 GEMMs x 27 token counts + 3 attention
  REQUIRE(shapes.size() == 6 * 3 * 27 + 3);
  const auto has = [&](int m, int n, int k, GemmTrans t) {
    return std::any_of(shapes.begin(), shapes.end(),
                       [&](const GemmShape& s) { return s.m == m && s.n == n && s.k == k && s.trans == t; });
  };
  CHECK(has(29, 48, 16, GemmTrans::nn));   // ffn_up forward, 29 tokens
  CHECK(has(29, 16, 48, GemmTrans::nt));   // its input gradient
  CHECK(has(16, 48, 29, GemmTrans::tn));   // its weight gradient
  CHECK(has(64, 4, 16, GemmTrans::nn));    // the gate
  CHECK(has(8, 8, 8, GemmTrans::nt));      // one head's scores: s x s x h/a
  // every kernel, transposed or not, passes its reference check (measure_gemm throws otherwise)
  std::vector<GemmShape> some;
  for (const GemmShape& s : shapes)
    if (s.m <= 32 && s.n <= 64 && s.k <= 64) some.push_back(s);
  REQUIRE(some.size() > 20);
  const auto points = measure_gemm(some, 3, 0.001);
  for (const auto& p : points) CHECK(p.max_error < 1e-4);
}

TEST_CASE("gemm: a sparse model's expert GEMMs are timed over windows of token counts", "[calibration][gemm]") {
  GemmModel m{16, 48, 2, 8, 20, 0, true};
  const auto shapes = model_gemm_shapes(m);
  // 5 weights x 3 x 27 + 3 attention, then ffn_up and ffn_down x 3 GEMMs x 7 windowed token counts
  REQUIRE(shapes.size() == 5 * 3 * 27 + 3 + 2 * 3 * 7);
  std::vector<GemmShape> windowed;
  for (const GemmShape& s : shapes)
    if (s.window > 1) windowed.push_back(s);
  REQUIRE(windowed.size() == 2 * 3 * 7);
  for (const GemmShape& s : windowed) CHECK(s.window == kExpertWindow);
  // a window of 16 around 24 runs 16..31, and its FLOPs are theirs summed; around 8, only 1..15
  const GemmShape up{24, 48, 16, "", GemmTrans::nn, 16};  // (any centre: the grid's are 8, 16, 32 ...)
  const auto counts = up.token_counts();
  REQUIRE(counts.size() == 16);
  CHECK(counts.front() == 16);
  CHECK(counts.back() == 31);
  CHECK(up.flops() == Approx(2.0 * 48 * 16 * (16 + 31) * 16 / 2));
  CHECK(GemmShape{8, 48, 16, "", GemmTrans::nn, 16}.token_counts().size() == 15);
  const GemmShape wgrad{16, 48, 24, "", GemmTrans::tn, 16};  // a weight gradient: the count is k
  CHECK(wgrad.at_tokens(30).k == 30);
  CHECK(wgrad.at_tokens(30).m == 16);
  // each window's kernels pass the reference check on its largest GEMM, and the rate is the sum
  std::vector<GemmShape> some;
  for (const GemmShape& s : windowed)
    if (s.m <= 48 && s.k <= 48) some.push_back(s);
  REQUIRE(some.size() >= 6);
  for (const auto& p : measure_gemm(some, 3, 0.001)) {
    CHECK(p.max_error < 1e-4);
    CHECK(p.flop_rate == Approx(p.shape.flops() / p.seconds.min));
  }
  // interleaved as calibrate times a model: each shape back in its input place, 3 rounds at
  // least, checked like measure_gemm's
  const auto inter = measure_gemm_interleaved(some, 5, 0.0);
  REQUIRE(inter.size() == some.size());
  for (std::size_t i = 0; i < some.size(); ++i) {
    CHECK(inter[i].shape.tag == some[i].tag);
    CHECK(inter[i].shape.m == some[i].m);
    CHECK(inter[i].shape.k == some[i].k);
    CHECK(inter[i].seconds.samples == 3);
    CHECK(inter[i].max_error < 1e-4);
    CHECK(inter[i].flop_rate == Approx(inter[i].shape.flops() / inter[i].seconds.min));
  }
  m.experts = false;
  CHECK(model_gemm_shapes(m).size() == 5 * 3 * 27 + 3);
  // quick with the step's token count known: the dense GEMMs at that count only
  m.tokens = 96;
  const auto quick = model_gemm_shapes(m, true);
  REQUIRE(quick.size() == 5 * 3 + 3);
  CHECK(quick[0].m == 96);
  CHECK(model_gemm_shapes(m, false).size() == 5 * 3 * 27 + 3);
}

TEST_CASE("gemm: efficiency table sorts, merges near-equal FLOP counts, clamps to 1", "[calibration][gemm]") {
  // Points at 2e9 and 2.01e9 FLOP (within 2 %) merge into one row with the mean efficiency
  // (0.5 + 0.7) / 2 = 0.6; the 1e6-FLOP point comes first; a rate above the peak clamps to 1.
  auto pt = [](int m, double rate) { return GemmPoint{{m, 1000, 1000, ""}, {}, rate, 0}; };
  const auto t = efficiency_table({pt(1000, 50), pt(1, 10), pt(1005, 70), pt(100000, 150)}, 100);
  REQUIRE(t.size() == 3);
  CHECK(t[0].flops == 2e6);
  CHECK(t[0].efficiency == Approx(0.1));
  CHECK(t[1].efficiency == Approx(0.6));
  CHECK(t[2].efficiency == 1.0);
}

TEST_CASE("triad and copy equal the scalar loop for odd lengths and thread counts", "[calibration][memory]") {
  for (size_t n : {size_t{1}, size_t{7}, size_t{1000003}}) {
    std::vector<double> b(n), c(n), a(n), r(n);
    std::iota(b.begin(), b.end(), 0.5);
    for (size_t i = 0; i < n; ++i) c[i] = 1.0 / static_cast<double>(i + 3);
    triad_reference(r.data(), b.data(), c.data(), 3.0, n);
    CHECK(r[0] == 0.5 + 3.0 / 3.0);  // b[0] + 3 c[0] = 0.5 + 3 * 1/3
    for (int threads : {1, 2, 3, 5}) {
      std::fill(a.begin(), a.end(), -1.0);
      triad_kernel(a.data(), b.data(), c.data(), 3.0, n, threads);
      REQUIRE(a == r);
      copy_kernel(a.data(), c.data(), n, threads);
      REQUIRE(a == c);
    }
  }
}

TEST_CASE("memory: bandwidth = counted bytes / best time", "[calibration][memory]") {
  // copy moves 16 bytes per element (read + write), triad 24 (two reads, one write).
  const MemoryResult m = measure_memory(1 << 16, 2, 3);
  CHECK(m.copy.bytes == 16.0 * (1 << 16));
  CHECK(m.triad.bytes == 24.0 * (1 << 16));
  CHECK(m.triad.bandwidth == Approx(m.triad.bytes / m.triad.seconds.min));
  CHECK(m.copy.bandwidth > 0);
}

TEST_CASE("parallel_slices covers every index exactly once", "[calibration]") {
  for (int threads : {1, 2, 3, 8}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{10}, size_t{1001}}) {
      std::vector<int> hits(n, 0);
      sparsim::parallel_slices(threads, n, [&](size_t lo, size_t hi) {
        for (size_t i = lo; i < hi; ++i) hits[i]++;
      });
      for (int h : hits) REQUIRE(h == 1);
    }
  }
}

TEST_CASE("adamw: the first step moves each parameter by lr (sign(g) + wd p)", "[calibration][adam]") {
  // Step 1: m = (1-b1) g, v = (1-b2) g^2; bias-corrected m^ = g, v^ = g^2, so the update is
  // g / (|g| + eps) + wd p = sign(g) + wd p up to eps/|g| (1e-8 / 0.5 here).
  AdamConfig c;
  c.lr = 0.1f;
  c.weight_decay = 0.01f;
  std::vector<float> p{1.0f, 2.0f, -1.0f}, g{0.5f, -0.5f, 0.5f}, m(3, 0.0f), v(3, 0.0f);
  adamw_reference(p.data(), g.data(), m.data(), v.data(), 3, c);
  CHECK(p[0] == Approx(1.0 - 0.1 * (1 + 0.01 * 1.0)).epsilon(1e-6));
  CHECK(p[1] == Approx(2.0 - 0.1 * (-1 + 0.01 * 2.0)).epsilon(1e-6));
  CHECK(p[2] == Approx(-1.0 - 0.1 * (1 - 0.01 * 1.0)).epsilon(1e-6));
  CHECK(m[0] == Approx(0.1 * 0.5));
  CHECK(v[0] == Approx(0.001 * 0.25).epsilon(1e-4));  // 1 - 0.999 in fp32
}

TEST_CASE("adamw: the threaded kernel equals the scalar reference over several steps", "[calibration][adam]") {
  const size_t n = 1009;  // prime: uneven slices
  std::vector<float> p(n), g(n);
  for (size_t i = 0; i < n; ++i) {
    p[i] = std::sin(static_cast<float>(i));
    g[i] = 0.1f * std::cos(static_cast<float>(3 * i));
  }
  for (int threads : {1, 2, 3}) {
    std::vector<float> p1 = p, m1(n, 0.0f), v1(n, 0.0f), p2 = p, m2(n, 0.0f), v2(n, 0.0f);
    for (int t = 1; t <= 5; ++t) {
      AdamConfig c;
      c.step = t;
      adamw_update(p1.data(), g.data(), m1.data(), v1.data(), n, c, threads);
      adamw_reference(p2.data(), g.data(), m2.data(), v2.data(), n, c);
    }
    for (size_t i = 0; i < n; ++i) {
      REQUIRE(p1[i] == Approx(p2[i]).margin(1e-6));
      REQUIRE(m1[i] == Approx(m2[i]).margin(1e-7));
      REQUIRE(v1[i] == Approx(v2[i]).margin(1e-9));
    }
  }
}

TEST_CASE("adamw: measure_adam reports 1, 2, 4 ... threads up to the maximum", "[calibration][adam]") {
  const auto r = measure_adam(1 << 14, 3, 2);
  REQUIRE(r.size() == 3);  // 1, 2, then min(4, 3) = 3
  CHECK(r[0].threads == 1);
  CHECK(r[2].threads == 3);
  for (const auto& a : r) CHECK(a.params_per_s == Approx((1 << 14) / a.seconds.median));
}

TEST_CASE("elementwise: each trainer kernel timed alone, FLOPs by the simulator's convention", "[calibration]") {
  namespace vf = sparsim::workload::vflop;
  const ElementwiseShape sh{32, 16, 64, 8, 20};
  const ElementwiseResult r = measure_elementwise(sh, 3);
  CHECK(r.vflops == Approx(3 * vf::layernorm * 32 * 16 + 3 * vf::gelu * 32 * 64 + vf::softmax * 32 * 8));
  std::vector<std::string> names;
  for (const auto& k : r.kernels) {
    names.push_back(k.kernel);
    CHECK(k.rate == Approx(k.vflops / k.seconds.median));
  }
  CHECK(names == std::vector<std::string>{"layernorm", "layernorm_bwd", "gelu", "gelu_bwd", "softmax", "cross_entropy"});
  CHECK(r.kernels[0].vflops == Approx(vf::layernorm * 32 * 16));
  CHECK(r.kernels[3].vflops == Approx(2 * vf::gelu * 32 * 64));   // backward: twice the forward
  CHECK(r.kernels[5].vflops == Approx(3 * vf::softmax * 32 * 20));  // fused loss: forward and backward
  for (const auto& k : r.kernels) CHECK(std::find(sparsim::kVectorKernels.begin(), sparsim::kVectorKernels.end(),
                                                  k.kernel.substr(0, k.kernel.find("_bwd"))) != sparsim::kVectorKernels.end());
}

TEST_CASE("timing: the before step runs untimed ahead of every call, warm-ups included", "[calibration]") {
  int before = 0, calls = 0;
  const Spread s = time_seconds_after([&] { ++before; }, [&] { ++calls; }, 2, 5);
  CHECK(before == 7);
  CHECK(calls == 7);
  CHECK(s.samples == 5);
  // measure_adam passes its before step through: once per warm-up and timed update per thread count
  int gemms = 0;
  const auto r = measure_adam(1 << 12, 2, 3, [&] { ++gemms; });
  CHECK(r.size() == 2);
  CHECK(gemms == 2 * (1 + 3));
}

TEST_CASE("spread: min, median (mean of the middle two when even), max", "[calibration]") {
  const Spread s = spread_of({4, 1, 3, 2});
  CHECK(s.min == 1);
  CHECK(s.median == 2.5);
  CHECK(s.max == 4);
  CHECK(spread_of({5, 1, 9}).median == 5);
}

TEST_CASE("sysinfo: cores and sockets from a cpuinfo text", "[calibration]") {
  // 2 sockets x 2 cores x 2 hyper-threads = 8 processors, 4 cores, 2 sockets.
  std::string text;
  for (int s = 0; s < 2; ++s) {
    for (int c = 0; c < 2; ++c) {
      for (int t = 0; t < 2; ++t) {
        text += "processor\t: 0\nmodel name\t: Test CPU 9000\nphysical id\t: " + std::to_string(s) +
                "\ncore id\t\t: " + std::to_string(c) + "\nflags\t\t: fpu sse avx2 fma avx512f\n\n";
      }
    }
  }
  const SystemInfo i = parse_cpuinfo(text);
  CHECK(i.cpu_model == "Test CPU 9000");
  CHECK(i.logical_cpus == 8);
  CHECK(i.cores == 4);
  CHECK(i.sockets == 2);
  CHECK(i.cpu_flags == "avx2 avx512f fma");
  CHECK(parse_meminfo_total("MemTotal:       1024 kB\nMemFree: 5 kB\n") == 1024.0 * 1024);
}

TEST_CASE("blas kernels: a pre-AVX fallback is replaced by the CPU's best, nothing else is", "[calibration][blas]") {
  using sparsim::blas::replacement_core;
  // OpenBLAS 0.3.21 on an AVX-512 CPU it does not know (family 6 model 207) chose Prescott
  CHECK(std::string(replacement_core("Prescott", "SkylakeX")) == "SkylakeX");
  CHECK(std::string(replacement_core("Core2", "Haswell")) == "Haswell");
  CHECK(std::string(replacement_core("Nehalem", "SandyBridge")) == "SandyBridge");
  // its own AVX choices stand, even below the CPU's widest ISA (it may have reasons: OS state)
  CHECK(replacement_core("Haswell", "SkylakeX") == nullptr);
  CHECK(replacement_core("SkylakeX", "SkylakeX") == nullptr);
  CHECK(replacement_core("Cooperlake", "SkylakeX") == nullptr);
  CHECK(replacement_core("Zen", "Haswell") == nullptr);
  // a CPU without AVX keeps what OpenBLAS chose; so does an unknown answer
  CHECK(replacement_core("Prescott", nullptr) == nullptr);
  CHECK(replacement_core(nullptr, "SkylakeX") == nullptr);
}

TEST_CASE("blas kernels: the best core matches the CPU's flags", "[calibration][blas]") {
  const char* best = sparsim::blas::best_core_for_cpu();
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    CHECK(std::string(best) == "SkylakeX");
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    CHECK(std::string(best) == "Haswell");
  else if (__builtin_cpu_supports("avx"))
    CHECK(std::string(best) == "SandyBridge");
  else
    CHECK(best == nullptr);
#else
  CHECK(best == nullptr);
#endif
}
