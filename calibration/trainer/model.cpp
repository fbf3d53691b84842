#include "model.hpp"

#include <cmath>
#include <cstring>

#include "ops.hpp"
#include "routing/routing.hpp"

namespace sparsim::trainer {

using sim::Lane;

std::string not_implemented(Router r) {
  std::string known;
  for (Router k : kRouters) {
    if (k == r) return "";
    known += (known.empty() ? "" : ", ") + std::string(to_string(k));
  }
  return "router '" + std::string(to_string(r)) + "' is not implemented by the reference trainer; it implements: " + known;
}

const char* router_name(std::optional<Router> r) { return r ? to_string(*r) : "dense"; }

bool ModelConfig::is_sparse(int layer) const {
  if (!router) return false;
  for (int l : sparse_layers)
    if (l == layer) return true;
  return false;
}

void init_uniform(std::vector<float>& w, float scale, std::uint64_t seed) {
  std::uint64_t x = seed;
  for (auto& v : w) {  // splitmix64 -> 24-bit uniform in [-1, 1)
    x += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    v = scale * (static_cast<float>(z >> 40) / 8388608.0f - 1.0f);
  }
}

Model::Model(const ModelConfig& cfg, Placement placement, int rank, int ranks) : cfg_(cfg) {
  SPARSIM_ASSERT(cfg.hidden % cfg.heads == 0, "heads must divide hidden");
  const std::size_t h = static_cast<std::size_t>(cfg.hidden), f = static_cast<std::size_t>(cfg.ffn);
  std::uint64_t id = 0;
  auto seed = [&] { return routing::derive_seed(cfg.seed, ++id); };
  const float sh = 1.0f / std::sqrt(static_cast<float>(h)), sf = 1.0f / std::sqrt(static_cast<float>(f));
  tok_.random(static_cast<std::size_t>(cfg.vocab) * h, 0.1f, seed());
  pos_.random(static_cast<std::size_t>(cfg.seq) * h, 0.1f, seed());
  lnfg_.resize(h, 1.0f);
  lnfb_.resize(h);
  wout_.random(h * static_cast<std::size_t>(cfg.vocab), sh, seed());
  blocks_.resize(static_cast<std::size_t>(cfg.layers));
  for (int l = 0; l < cfg.layers; ++l) {
    auto& b = blocks_[static_cast<std::size_t>(l)];
    b.ln1g.resize(h, 1.0f);
    b.ln1b.resize(h);
    b.ln2g.resize(h, 1.0f);
    b.ln2b.resize(h);
    b.wqkv.random(h * 3 * h, sh, seed());
    b.bqkv.resize(3 * h);
    b.wo.random(h * h, sh / std::sqrt(2.0f * cfg.layers), seed());
    b.bo.resize(h);
    if (cfg.is_sparse(l)) {
      b.moe = std::make_unique<MoeLayer>(cfg, placement, l, rank, ranks);
    } else {
      b.w1.random(h * f, sh, seed());
      b.b1.resize(f);
      b.w2.random(f * h, sf / std::sqrt(2.0f * cfg.layers), seed());
      b.b2.resize(h);
    }
  }
  // every dense gradient in one buffer, in dense_params() order: the all-reduce runs on it
  std::size_t total = 0;
  for (Tensor* t : dense_params()) total += t->size();
  grad_flat_.assign(total, 0.0f);
  std::size_t off = 0;
  for (Tensor* t : dense_params()) {
    t->g.bind(grad_flat_.data() + off);
    off += t->size();
  }
}

std::vector<Tensor*> Model::dense_params() {
  std::vector<Tensor*> p{&tok_, &pos_, &lnfg_, &lnfb_, &wout_};
  for (auto& b : blocks_) {
    for (Tensor* t : {&b.ln1g, &b.ln1b, &b.wqkv, &b.bqkv, &b.wo, &b.bo, &b.ln2g, &b.ln2b})
      p.push_back(t);
    if (b.moe) {
      if (!b.moe->gate.w.empty()) p.push_back(&b.moe->gate);
    } else {
      for (Tensor* t : {&b.w1, &b.b1, &b.w2, &b.b2}) p.push_back(t);
    }
  }
  return p;
}

std::vector<MoeLayer*> Model::moe_layers() {
  std::vector<MoeLayer*> m;
  for (auto& b : blocks_)
    if (b.moe) m.push_back(b.moe.get());
  return m;
}

namespace {

/// Parameters of every layer kind but the FFN: token and position embeddings, final layer norm
/// and output projection; per layer QKV and output projections with biases and two layer norms.
double attention_and_embedding_params(const ModelConfig& cfg) {
  const double h = cfg.hidden;
  return cfg.vocab * h * 2 + cfg.seq * h + 2 * h + cfg.layers * (4 * h * h + 4 * h + 4 * h);
}

/// One FFN (an expert's or a dense layer's): up and down projections with biases.
double ffn_params(const ModelConfig& cfg) { return 2.0 * cfg.hidden * cfg.ffn + cfg.ffn + cfg.hidden; }

}  // namespace

double dense_param_count(const ModelConfig& cfg) {
  double n = attention_and_embedding_params(cfg);
  for (int l = 0; l < cfg.layers; ++l) {
    if (!cfg.is_sparse(l)) n += ffn_params(cfg);
    else if (cfg.router == Router::topk) n += static_cast<double>(cfg.hidden) * cfg.experts;  // the gate
  }
  return n;
}

double expert_param_count(const ModelConfig& cfg) {
  double n = 0;
  for (int l = 0; l < cfg.layers; ++l)
    if (cfg.is_sparse(l)) n += cfg.experts * ffn_params(cfg);
  return n;
}

double Model::params_total() const { return dense_param_count(cfg_) + expert_param_count(cfg_); }

double Model::params_active_per_token() const {
  // a token meets k experts of a sparse layer (one with RRE), and no gate
  const int k = cfg_.router == Router::topk ? cfg_.top_k : 1;
  double n = attention_and_embedding_params(cfg_);
  for (int l = 0; l < cfg_.layers; ++l) n += (cfg_.is_sparse(l) ? k : 1) * ffn_params(cfg_);
  return n;
}

void Model::zero_grad() { std::fill(grad_flat_.begin(), grad_flat_.end(), 0.0f); }

double Model::forward_backward(const int* inputs, const int* targets, const int* domains, int B, int B_global,
                               Comm& comm, Profiler& prof, Comm* experts) {
  Comm& a2a = experts ? *experts : comm;
  const int s = cfg_.seq, h = cfg_.hidden, f = cfg_.ffn, a = cfg_.heads, V = cfg_.vocab, N = B * s;
  const std::size_t Nh = static_cast<std::size_t>(N) * h;
  std::vector<float> x(Nh);
  {
    auto sc = prof.scope("embedding_fwd", "compute");
    for (int t = 0; t < N; ++t)
      for (int j = 0; j < h; ++j)
        x[static_cast<std::size_t>(t) * h + j] = tok_.w[static_cast<std::size_t>(inputs[t]) * h + j] +
                                                 pos_.w[static_cast<std::size_t>(t % s) * h + j];
  }
  double aux = 0;
  const float aux_scale = cfg_.aux_coef / static_cast<float>(B_global);
  for (auto& b : blocks_) {
    b.x0 = x;
    b.ln1.resize(Nh), b.mean1.resize(static_cast<std::size_t>(N)), b.rstd1.resize(static_cast<std::size_t>(N));
    b.qkv.resize(Nh * 3), b.probs.resize(static_cast<std::size_t>(B) * a * s * s), b.att.resize(Nh);
    {
      auto sc = prof.scope("attention_fwd", "compute");
      layernorm_fwd(x.data(), b.ln1g.w.data(), b.ln1b.w.data(), b.ln1.data(), b.mean1.data(), b.rstd1.data(), N, h);
      linear_fwd(b.ln1.data(), b.wqkv.w.data(), b.bqkv.w.data(), b.qkv.data(), N, h, 3 * h);
      attention_fwd(b.qkv.data(), b.att.data(), b.probs.data(), B, s, h, a);
      std::vector<float> o(Nh);
      linear_fwd(b.att.data(), b.wo.w.data(), b.bo.w.data(), o.data(), N, h, h);
      for (std::size_t i = 0; i < Nh; ++i) x[i] += o[i];
    }
    b.x1 = x;
    b.ln2.resize(Nh), b.mean2.resize(static_cast<std::size_t>(N)), b.rstd2.resize(static_cast<std::size_t>(N));
    layernorm_fwd(x.data(), b.ln2g.w.data(), b.ln2b.w.data(), b.ln2.data(), b.mean2.data(), b.rstd2.data(), N, h);
    std::vector<float> o(Nh);
    if (b.moe) {
      aux += b.moe->forward(b.ln2.data(), o.data(), B, inputs, domains, aux_scale, a2a, prof);
    } else {
      auto sc = prof.scope("ffn_fwd", "compute");
      b.h1.resize(static_cast<std::size_t>(N) * f), b.a1.resize(static_cast<std::size_t>(N) * f);
      linear_fwd(b.ln2.data(), b.w1.w.data(), b.b1.w.data(), b.h1.data(), N, h, f);
      gelu_fwd(b.h1.data(), b.a1.data(), b.a1.size());
      linear_fwd(b.a1.data(), b.w2.w.data(), b.b2.w.data(), o.data(), N, f, h);
    }
    for (std::size_t i = 0; i < Nh; ++i) x[i] += o[i];
  }
  // head: final LN, logits, cross-entropy (loss normalised by the global token count)
  std::vector<float> dx(Nh);
  double loss = 0;
  {
    auto sc = prof.scope("logits_loss", "compute");
    xf_ = x;
    lnf_.resize(Nh), meanf_.resize(static_cast<std::size_t>(N)), rstdf_.resize(static_cast<std::size_t>(N));
    logits_.resize(static_cast<std::size_t>(N) * V);
    layernorm_fwd(x.data(), lnfg_.w.data(), lnfb_.w.data(), lnf_.data(), meanf_.data(), rstdf_.data(), N, h);
    gemm(false, false, N, V, h, 1.0f, lnf_.data(), h, wout_.w.data(), V, 0.0f, logits_.data(), V);
    const float scale = 1.0f / (static_cast<float>(B_global) * s);
    std::vector<float> dlogits(logits_.size());
    loss = xent_fwd_bwd(logits_.data(), targets, dlogits.data(), N, V, scale) * scale;
    std::vector<float> dln(Nh);
    gemm(true, false, h, V, N, 1.0f, lnf_.data(), h, dlogits.data(), V, 1.0f, wout_.g.data(), V);
    gemm(false, true, N, h, V, 1.0f, dlogits.data(), V, wout_.w.data(), V, 0.0f, dln.data(), h);
    layernorm_bwd(dln.data(), xf_.data(), lnfg_.w.data(), meanf_.data(), rstdf_.data(), dx.data(), lnfg_.g.data(),
                  lnfb_.g.data(), N, h);
  }
  std::vector<float> tmp(Nh), tmp2(Nh);
  for (auto it = blocks_.rbegin(); it != blocks_.rend(); ++it) {
    auto& b = *it;
    // x2 = x1 + F(LN2(x1)): dx1 = dx2 + LN2'(F'(dx2))
    if (b.moe) {
      b.moe->backward(dx.data(), tmp.data(), a2a, prof);
    } else {
      auto sc = prof.scope("ffn_bwd", "compute");
      std::vector<float> da(static_cast<std::size_t>(N) * f);
      linear_bwd(dx.data(), b.a1.data(), b.w2.w.data(), da.data(), b.w2.g.data(), b.b2.g.data(), N, f, h);
      gelu_bwd(b.h1.data(), da.data(), da.data(), da.size());
      linear_bwd(da.data(), b.ln2.data(), b.w1.w.data(), tmp.data(), b.w1.g.data(), b.b1.g.data(), N, h, f);
    }
    layernorm_bwd(tmp.data(), b.x1.data(), b.ln2g.w.data(), b.mean2.data(), b.rstd2.data(), tmp2.data(), b.ln2g.g.data(),
                  b.ln2b.g.data(), N, h);
    for (std::size_t i = 0; i < Nh; ++i) dx[i] += tmp2[i];
    auto sc = prof.scope("attention_bwd", "compute");
    std::vector<float> datt(Nh), dqkv(Nh * 3);
    linear_bwd(dx.data(), b.att.data(), b.wo.w.data(), datt.data(), b.wo.g.data(), b.bo.g.data(), N, h, h);
    attention_bwd(datt.data(), b.qkv.data(), b.probs.data(), dqkv.data(), B, s, h, a);
    linear_bwd(dqkv.data(), b.ln1.data(), b.wqkv.w.data(), tmp.data(), b.wqkv.g.data(), b.bqkv.g.data(), N, h, 3 * h);
    layernorm_bwd(tmp.data(), b.x0.data(), b.ln1g.w.data(), b.mean1.data(), b.rstd1.data(), tmp2.data(), b.ln1g.g.data(),
                  b.ln1b.g.data(), N, h);
    for (std::size_t i = 0; i < Nh; ++i) dx[i] += tmp2[i];
  }
  {
    auto sc = prof.scope("embedding_bwd", "compute");
    for (int t = 0; t < N; ++t)
      for (int j = 0; j < h; ++j) {
        const float g = dx[static_cast<std::size_t>(t) * h + j];
        tok_.g[static_cast<std::size_t>(inputs[t]) * h + j] += g;
        pos_.g[static_cast<std::size_t>(t % s) * h + j] += g;
      }
  }
  return loss + aux;
}

void Model::allreduce_grads(Comm& comm, Profiler& prof) {
  if (comm.size() == 1) return;
  auto sc = prof.scope("allreduce", "dp", Lane::dp_link);
  prof.counts.dp_bytes += grad_flat_.size() * sizeof(float);
  comm.allreduce_sum(grad_flat_.data(), grad_flat_.size());  // the gradients in place: no packing
}

void Model::step(const AdamW& hp, int device_threads, int host_threads, Profiler& prof) {
  ++step_;
  {
    auto sc = prof.scope("adamw", "optimizer");
    std::vector<AdamTensor> all;
    for (Tensor* t : dense_params()) all.push_back({t->w.data(), t->g.data(), t->m.data(), t->v.data(), t->size(), step_});
    adamw_update(all, hp, device_threads);
  }
  for (MoeLayer* m : moe_layers()) m->update(hp, device_threads, host_threads, prof);
  zero_grad();
}

}  // namespace sparsim::trainer
