#include "elementwise.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "ops.hpp"
#include "workload/transformer.hpp"

namespace sparsim::calib {

namespace {

void check_against_std() {
  std::vector<float> x(2001), y(x.size()), r(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = -10.0f + 0.01f * static_cast<float>(i);
  trainer::gelu_fwd(x.data(), y.data(), x.size());
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double u = x[i], ref = 0.5 * u * (1 + std::tanh(0.7978845608028654 * (u + 0.044715 * u * u * u)));
    worst = std::max(worst, std::abs(y[i] - ref));
  }
  r = x;
  trainer::softmax_rows(r.data(), 1, static_cast<int>(r.size()));
  double mx = x.back(), sum = 0;
  for (float v : x) sum += std::exp(v - mx);
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(r[i] - std::exp(x[i] - mx) / sum));
  if (worst > 1e-5) throw std::runtime_error("element-wise kernels differ from std:: by " + std::to_string(worst));
}

}  // namespace

ElementwiseResult measure_elementwise(const ElementwiseShape& sh, int reps) {
  check_against_std();
  namespace vf = workload::vflop;
  const int T = sh.tokens, h = sh.hidden, f = sh.ffn, s = sh.seq;
  const std::size_t Th = static_cast<std::size_t>(T) * h, Tf = static_cast<std::size_t>(T) * f;
  std::vector<float> x(Th), y(Th), dy(Th), dx(Th), g(static_cast<std::size_t>(h), 1.0f), b(static_cast<std::size_t>(h)),
      dg(g.size()), db(g.size()), mean(static_cast<std::size_t>(T)), rstd(mean.size());
  std::vector<float> u(Tf), a(Tf), du(Tf), scores(static_cast<std::size_t>(T) * s);
  for (std::size_t i = 0; i < Th; ++i) x[i] = std::sin(0.37f * static_cast<float>(i)), dy[i] = 0.01f * std::cos(static_cast<float>(i));
  for (std::size_t i = 0; i < Tf; ++i) u[i] = 3.0f * std::sin(0.11f * static_cast<float>(i)), du[i] = 0.5f;
  ElementwiseResult r;
  r.shape = sh;
  // forward and backward (twice the forward FLOPs, as workload::backward_of counts them)
  r.vflops = 3 * vf::layernorm * static_cast<double>(Th) + 3 * vf::gelu * static_cast<double>(Tf) +
             vf::softmax * static_cast<double>(T) * s;
  r.seconds = time_seconds(
      [&] {
        trainer::layernorm_fwd(x.data(), g.data(), b.data(), y.data(), mean.data(), rstd.data(), T, h);
        trainer::layernorm_bwd(dy.data(), x.data(), g.data(), mean.data(), rstd.data(), dx.data(), dg.data(), db.data(), T, h);
        trainer::gelu_fwd(u.data(), a.data(), Tf);
        trainer::gelu_bwd(u.data(), du.data(), a.data(), Tf);
        for (std::size_t i = 0; i < scores.size(); ++i) scores[i] = 0.01f * static_cast<float>(i % 97);
        trainer::softmax_rows(scores.data(), T, s);
      },
      2, reps);
  r.rate = r.vflops / r.seconds.min;
  // each kernel alone: a layer norm's row reductions run at a fraction of GELU's rate, so one
  // rate for all of them misplaces time between the simulator's ops
  auto alone = [&](std::string kernel, double vflops, auto&& call) {
    KernelRate k{std::move(kernel), vflops, time_seconds(call, 2, reps), 0};
    k.rate = k.vflops / k.seconds.median;
    r.kernels.push_back(std::move(k));
  };
  alone("layernorm", vf::layernorm * static_cast<double>(Th), [&] {
    trainer::layernorm_fwd(x.data(), g.data(), b.data(), y.data(), mean.data(), rstd.data(), T, h);
  });
  alone("layernorm_bwd", 2 * vf::layernorm * static_cast<double>(Th), [&] {
    trainer::layernorm_bwd(dy.data(), x.data(), g.data(), mean.data(), rstd.data(), dx.data(), dg.data(), db.data(), T, h);
  });
  alone("gelu", vf::gelu * static_cast<double>(Tf), [&] { trainer::gelu_fwd(u.data(), a.data(), Tf); });
  alone("gelu_bwd", 2 * vf::gelu * static_cast<double>(Tf), [&] { trainer::gelu_bwd(u.data(), du.data(), a.data(), Tf); });
  alone("softmax", vf::softmax * static_cast<double>(T) * s, [&] { trainer::softmax_rows(scores.data(), T, s); });
  const int V = sh.vocab;
  std::vector<float> logits(static_cast<std::size_t>(T) * V), dlogits(logits.size());
  std::vector<int> targets(static_cast<std::size_t>(T));
  for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(0.013f * static_cast<float>(i));
  for (int t = 0; t < T; ++t) targets[static_cast<std::size_t>(t)] = (t * 31) % V;
  double sink = 0;
  alone("cross_entropy", 3 * vf::softmax * static_cast<double>(T) * V, [&] {
    sink += trainer::xent_fwd_bwd(logits.data(), targets.data(), dlogits.data(), T, V, 1.0f);
  });
  if (!std::isfinite(sink)) throw std::runtime_error("cross-entropy kernel returned a non-finite loss");
  return r;
}

}  // namespace sparsim::calib
