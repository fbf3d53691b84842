#include "moe.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops.hpp"

namespace sparsim::trainer {

using sim::Lane;

namespace {
/// Bytes of `rows` token rows of h floats sent to the ranks other than `me` (rows[r]: to rank r).
std::uint64_t payload_to_others(const std::vector<int>& rows, int me, int h) {
  std::uint64_t n = 0;
  for (std::size_t r = 0; r < rows.size(); ++r)
    if (static_cast<int>(r) != me) n += static_cast<std::uint64_t>(rows[r]);
  return n * static_cast<std::uint64_t>(h) * sizeof(float);
}
}  // namespace

ExpertStore::ExpertStore(Placement placement, int local_experts, std::size_t params_per_expert)
    : placement_(placement), n_(params_per_expert), master_(static_cast<std::size_t>(local_experts)),
      pool_w_(master_.size()), pool_g_(master_.size()), host_g_(master_.size()), resident_(master_.size(), false) {
  for (auto& m : master_) {
    m.w.assign(n_, 0.0f);
    m.m.assign(n_, 0.0f);
    m.v.assign(n_, 0.0f);
  }
  if (placement_ == Placement::device)
    for (auto& g : pool_g_) g.assign(n_, 0.0f);
}

void ExpertStore::acquire(int e, Profiler& prof) {
  const auto i = static_cast<std::size_t>(e);
  if (placement_ == Placement::device || resident_[i]) return;
  {
    auto s = prof.scope("expert_h2d", "h2d", Lane::pcie);
    pool_w_[i].assign(master_[i].w.begin(), master_[i].w.end());  // host store -> compute pool
  }
  prof.counts.h2d_bytes += n_ * sizeof(float);
  pool_g_[i].resize(n_);  // a gradient slot in the pool; the backward writes it whole
  resident_[i] = true;
}

void ExpertStore::prepare(Profiler& prof) {
  if (placement_ == Placement::offload)
    for (int e = 0; e < size(); ++e) acquire(e, prof);
}

float* ExpertStore::weights(int e) {
  const auto i = static_cast<std::size_t>(e);
  if (placement_ == Placement::device) return master_[i].w.data();
  SPARSIM_ASSERT(resident_[i], "expert weights used before acquire");
  return pool_w_[i].data();
}

float* ExpertStore::grads(int e) {
  const auto i = static_cast<std::size_t>(e);
  SPARSIM_ASSERT(placement_ == Placement::device || resident_[i], "expert gradient used before acquire");
  return pool_g_[i].data();
}

int ExpertStore::pool_experts() const {
  if (placement_ == Placement::device) return size();
  return static_cast<int>(std::count(resident_.begin(), resident_.end(), true));
}

void ExpertStore::update(const std::vector<bool>& active, const AdamW& hp, int device_threads, int host_threads,
                         Profiler& prof) {
  std::vector<AdamTensor> batch;  // the active experts, updated by one thread team
  if (placement_ == Placement::device) {
    for (std::size_t i = 0; i < master_.size(); ++i) {
      auto& m = master_[i];
      if (active[i]) batch.push_back({m.w.data(), pool_g_[i].data(), m.m.data(), m.v.data(), n_, ++m.step});
    }
    if (!batch.empty()) {
      auto s = prof.scope("expert_adamw", "optimizer");
      adamw_update(batch, hp, device_threads);
    }
    return;
  }
  // Plain heterogeneous training (offload) updates every expert, a zero gradient where no token
  // came (a framework's optimizer over all parameters); ecss only the activated ones.
  const bool all = placement_ == Placement::offload;
  {
    auto s = prof.scope("expert_grad_d2h", "d2h", Lane::pcie);
    for (std::size_t i = 0; i < master_.size(); ++i)
      if (resident_[i] && (active[i] || all)) {
        if (!active[i]) std::fill(pool_g_[i].begin(), pool_g_[i].end(), 0.0f);
        host_g_[i] = pool_g_[i];  // compute pool -> host store
        prof.counts.d2h_bytes += n_ * sizeof(float);
      }
  }
  for (std::size_t i = 0; i < master_.size(); ++i) {
    auto& m = master_[i];
    if (resident_[i] && (active[i] || all)) batch.push_back({m.w.data(), host_g_[i].data(), m.m.data(), m.v.data(), n_, ++m.step});
    resident_[i] = false;  // release the compute-pool slot (its buffers are reused, as a device pool's)
  }
  if (!batch.empty()) {
    auto s = prof.scope("host_adamw", "host_optimizer", Lane::host);
    adamw_update(batch, hp, host_threads);
  }
}

MoeLayer::MoeLayer(const ModelConfig& cfg, Placement placement, int layer, int rank, int ranks)
    : store(placement, cfg.experts / ranks,
            2 * static_cast<std::size_t>(cfg.hidden) * cfg.ffn + cfg.ffn + cfg.hidden),
      cfg_(cfg), layer_(layer), rank_(rank), ranks_(ranks) {
  SPARSIM_ASSERT(cfg.experts % ranks == 0, "experts must divide over the ranks");
  local_ = cfg.experts / ranks;
  first_ = rank * local_;
  const int h = cfg.hidden, f = cfg.ffn;
  P_ = 2 * static_cast<std::size_t>(h) * f + f + h;
  for (int e = 0; e < local_; ++e) {
    const std::uint64_t seed = routing::derive_seed(cfg.seed, 1000003ull * (layer + 1) + first_ + e);
    auto& w = store.master(e).w;
    std::vector<float> w1(static_cast<std::size_t>(h) * f), w2(static_cast<std::size_t>(f) * h);
    init_uniform(w1, 1.0f / std::sqrt(static_cast<float>(h)), seed);
    init_uniform(w2, 1.0f / std::sqrt(static_cast<float>(f)), routing::derive_seed(seed, 1));
    std::copy(w1.begin(), w1.end(), w.begin());
    std::copy(w2.begin(), w2.end(), w.begin() + static_cast<std::ptrdiff_t>(w1.size()) + f);
  }
  if (cfg.router == Router::topk) gate.random(static_cast<std::size_t>(h) * cfg.experts, 1.0f / std::sqrt(float(h)),
                                              routing::derive_seed(cfg.seed, 7000 + layer));
  if (cfg.router == Router::rre) {
    rre_ = routing::RreSpec{cfg.vocab, cfg.experts, cfg.domains, cfg.seed};
    table_ = routing::rre_table(rre_, layer);
  }
}

std::vector<double> MoeLayer::routed_per_expert() const {
  std::vector<double> sum(static_cast<std::size_t>(cfg_.experts), 0.0);
  for (const auto& f : routed_per_forward)
    for (std::size_t e = 0; e < sum.size(); ++e) sum[e] += f[e];
  return sum;
}

void MoeLayer::route(const float* x, int B, const int* tokens, const int* domains, Profiler& prof) {
  auto sc = prof.scope("gate", "compute");
  const int s = cfg_.seq, E = cfg_.experts, k = cfg_.top_k;
  std::vector<double>& routed = routed_per_forward.emplace_back(static_cast<std::size_t>(E), 0.0);
  choices_.clear();
  dropped = 0;
  if (cfg_.router == Router::rre) {
    for (int t = 0; t < N_; ++t)
      choices_.push_back(Choice{t, routing::rre_expert(rre_, table_, domains[t / s], tokens[t]), 1.0f});
  } else {
    probs_.assign(static_cast<std::size_t>(N_) * E, 0.0f);
    gemm(false, false, N_, E, cfg_.hidden, 1.0f, x, cfg_.hidden, gate.w.data(), E, 0.0f, probs_.data(), E);
    softmax_rows(probs_.data(), N_, E);
    const double cap = routing::capacity(routing::GateSpec{s, E, k, cfg_.capacity_factor});
    frac_.assign(static_cast<std::size_t>(B) * E, 0.0f);
    std::vector<int> top(static_cast<std::size_t>(s) * k);
    for (int b = 0; b < B; ++b) {
      for (int i = 0; i < s; ++i) {  // top-k by probability, lowest index on ties
        const float* p = probs_.data() + static_cast<std::size_t>(b * s + i) * E;
        std::vector<int> idx(static_cast<std::size_t>(E));
        for (int e = 0; e < E; ++e) idx[static_cast<std::size_t>(e)] = e;
        std::stable_sort(idx.begin(), idx.end(), [p](int l, int r) { return p[l] > p[r]; });
        for (int j = 0; j < k; ++j) {
          top[static_cast<std::size_t>(i * k + j)] = idx[static_cast<std::size_t>(j)];
          routed[static_cast<std::size_t>(idx[static_cast<std::size_t>(j)])] += 1;
        }
        frac_[static_cast<std::size_t>(b * E + idx[0])] += 1.0f / static_cast<float>(s);
      }
      std::vector<int> count(static_cast<std::size_t>(E), 0);
      for (int j = 0; j < k; ++j)  // GShard: all first choices before any second choice
        for (int i = 0; i < s; ++i) {
          const int e = top[static_cast<std::size_t>(i * k + j)], t = b * s + i;
          if (count[static_cast<std::size_t>(e)] < cap) {
            ++count[static_cast<std::size_t>(e)];
            choices_.push_back(Choice{t, e, probs_[static_cast<std::size_t>(t) * E + e]});
          } else {
            ++dropped;
          }
        }
    }
  }
  if (cfg_.router == Router::rre)
    for (const auto& c : choices_) routed[static_cast<std::size_t>(c.expert)] += 1;
  std::stable_sort(choices_.begin(), choices_.end(),
                   [](const Choice& l, const Choice& r) { return l.expert < r.expert; });
  kept_per_expert.assign(static_cast<std::size_t>(E), 0);
  for (const auto& c : choices_) ++kept_per_expert[static_cast<std::size_t>(c.expert)];
}

double MoeLayer::forward(const float* x, float* y, int B, const int* tokens, const int* domains, float aux_scale,
                         Comm& comm, Profiler& prof) {
  const int h = cfg_.hidden, f = cfg_.ffn, E = cfg_.experts, s = cfg_.seq;
  N_ = B * s;
  x_ = x;
  aux_scale_ = aux_scale;
  route(x, B, tokens, domains, prof);
  double aux = 0;
  if (cfg_.router == Router::topk) {  // aux = coef/B_global sum_b E sum_e f_be P_be
    for (int b = 0; b < B; ++b)
      for (int e = 0; e < E; ++e) {
        double P = 0;
        for (int i = 0; i < s; ++i) P += probs_[static_cast<std::size_t>(b * s + i) * E + e];
        aux += aux_scale * E * frac_[static_cast<std::size_t>(b * E + e)] * P / s;
      }
  }
  // dispatch: token rows of h floats sorted by expert, hence by owner rank and, within a rank,
  // by its local expert; the int all-to-all before it says how many rows each local expert of
  // each rank gets (as frameworks send per-expert counts, not an index per row)
  const std::size_t R = static_cast<std::size_t>(h);
  // `comm` is every rank or this rank's group (grouped domain data: its ranks are consecutive,
  // and the ranks of its experts' domain); ranks are numbered within it
  const int offset = rank_ - comm.rank();
  const auto G = static_cast<std::size_t>(comm.size()), L = static_cast<std::size_t>(local_);
  std::vector<int> split(G * L, 0);  // [rank of the group][its local expert] rows sent
  send_counts_.assign(G, 0);
  std::vector<float> send(choices_.size() * R);
  for (std::size_t i = 0; i < choices_.size(); ++i) {
    const auto& c = choices_[i];
    const int to = routing::expert_rank(c.expert, E, ranks_) - offset;
    SPARSIM_ASSERT(to >= 0 && to < comm.size(), "token routed to an expert outside this rank's group");
    ++send_counts_[static_cast<std::size_t>(to)];
    ++split[static_cast<std::size_t>(to) * L + static_cast<std::size_t>(c.expert % local_)];
    std::memcpy(&send[i * R], x + static_cast<std::size_t>(c.token) * h, sizeof(float) * h);
  }
  std::vector<float> recv;
  std::vector<int> recv_split;  // [source rank][local expert] rows received
  {
    auto sc = prof.scope("dispatch", "ep");
    recv_split = comm.alltoall(split);
    recv_counts_.assign(G, 0);
    for (std::size_t src = 0; src < G; ++src)
      for (std::size_t le = 0; le < L; ++le) recv_counts_[src] += recv_split[src * L + le];
    std::vector<int> sc_r(send_counts_), rc_r(recv_counts_);
    for (auto& v : sc_r) v *= static_cast<int>(R);
    for (auto& v : rc_r) v *= static_cast<int>(R);
    std::size_t rows = 0;
    for (int v : recv_counts_) rows += static_cast<std::size_t>(v);
    recv.resize(rows * R);
    comm.alltoallv(send.data(), sc_r, recv.data(), rc_r);
  }
  // the rows of each source arrive sorted by local expert
  rows_.assign(L, {});
  int row = 0;
  for (std::size_t src = 0; src < G; ++src)
    for (std::size_t le = 0; le < L; ++le)
      for (int k = 0; k < recv_split[src * L + le]; ++k) rows_[le].push_back(row++);
  const std::size_t rows = static_cast<std::size_t>(row);
  SPARSIM_ASSERT(rows * R == recv.size(), "dispatch: rows and counts disagree");
  prof.counts.ep_bytes += payload_to_others(send_counts_, comm.rank(), h);
  {
    StepCounts::Layer rec;
    rec.layer = layer_;
    for (const auto& r : rows_) rec.expert_tokens.push_back(static_cast<std::int64_t>(r.size()));
    rec.sent_rows.assign(send_counts_.begin(), send_counts_.end());
    rec.recv_rows.assign(recv_counts_.begin(), recv_counts_.end());
    prof.counts.layers.push_back(std::move(rec));
  }
  store.prepare(prof);  // offload moves every expert in; ecss only those that receive tokens
  xe_.assign(static_cast<std::size_t>(local_), {});
  h1_.assign(static_cast<std::size_t>(local_), {});
  a1_.assign(static_cast<std::size_t>(local_), {});
  active_.assign(static_cast<std::size_t>(local_), false);
  std::vector<float> out(rows * static_cast<std::size_t>(h));
  for (int le = 0; le < local_; ++le) {
    const auto& idx = rows_[static_cast<std::size_t>(le)];
    const int n = static_cast<int>(idx.size());
    if (n == 0) continue;
    active_[static_cast<std::size_t>(le)] = true;
    store.acquire(le, prof);
    auto sc = prof.scope("expert_fwd", "compute");
    auto& X = xe_[static_cast<std::size_t>(le)];
    auto& H = h1_[static_cast<std::size_t>(le)];
    auto& A = a1_[static_cast<std::size_t>(le)];
    X.resize(static_cast<std::size_t>(n) * h);
    for (int i = 0; i < n; ++i)
      std::memcpy(&X[static_cast<std::size_t>(i) * h], &recv[static_cast<std::size_t>(idx[static_cast<std::size_t>(i)]) * R],
                  sizeof(float) * h);
    const std::uint64_t flops0 = gemm_flops_counted();
    const float* w = store.weights(le);
    const float *W1 = w, *b1 = w + h * f, *W2 = b1 + f, *b2 = W2 + f * h;
    H.resize(static_cast<std::size_t>(n) * f);
    A.resize(H.size());
    std::vector<float> O(static_cast<std::size_t>(n) * h);
    linear_fwd(X.data(), W1, b1, H.data(), n, h, f);
    gelu_fwd(H.data(), A.data(), A.size());
    linear_fwd(A.data(), W2, b2, O.data(), n, f, h);
    prof.counts.expert_gemm_flops += gemm_flops_counted() - flops0;
    for (int i = 0; i < n; ++i)
      std::memcpy(&out[static_cast<std::size_t>(idx[static_cast<std::size_t>(i)]) * h], &O[static_cast<std::size_t>(i) * h],
                  sizeof(float) * h);
  }
  back_.assign(choices_.size() * static_cast<std::size_t>(h), 0.0f);
  {
    auto sc = prof.scope("combine", "ep");
    prof.counts.ep_bytes += payload_to_others(recv_counts_, comm.rank(), h);
    std::vector<int> sc_h(send_counts_), rc_h(recv_counts_);
    for (auto& v : sc_h) v *= h;
    for (auto& v : rc_h) v *= h;
    comm.alltoallv(out.data(), rc_h, back_.data(), sc_h);
  }
  std::fill(y, y + static_cast<std::size_t>(N_) * h, 0.0f);
  for (std::size_t i = 0; i < choices_.size(); ++i) {
    float* yt = y + static_cast<std::size_t>(choices_[i].token) * h;
    for (int j = 0; j < h; ++j) yt[j] += choices_[i].w * back_[i * h + static_cast<std::size_t>(j)];
  }
  return aux;
}

void MoeLayer::backward(const float* dy, float* dx, Comm& comm, Profiler& prof) {
  const int h = cfg_.hidden, f = cfg_.ffn, E = cfg_.experts, s = cfg_.seq;
  std::vector<float> dprobs;
  if (cfg_.router == Router::topk) dprobs.assign(static_cast<std::size_t>(N_) * E, 0.0f);
  std::vector<float> send(choices_.size() * static_cast<std::size_t>(h));
  for (std::size_t i = 0; i < choices_.size(); ++i) {
    const auto& c = choices_[i];
    const float* dyt = dy + static_cast<std::size_t>(c.token) * h;
    double dot = 0;
    for (int j = 0; j < h; ++j) {
      dot += dyt[j] * back_[i * h + static_cast<std::size_t>(j)];
      send[i * h + static_cast<std::size_t>(j)] = c.w * dyt[j];
    }
    if (!dprobs.empty()) dprobs[static_cast<std::size_t>(c.token) * E + c.expert] += static_cast<float>(dot);
  }
  std::vector<int> sc_h(send_counts_), rc_h(recv_counts_);
  for (auto& v : sc_h) v *= h;
  for (auto& v : rc_h) v *= h;
  std::size_t rows = 0;
  for (int v : recv_counts_) rows += static_cast<std::size_t>(v);
  std::vector<float> recv(rows * h), dxr(rows * h);
  {
    auto sc = prof.scope("dispatch_bwd", "ep");
    prof.counts.ep_bytes += payload_to_others(send_counts_, comm.rank(), h);
    comm.alltoallv(send.data(), sc_h, recv.data(), rc_h);
  }
  for (int le = 0; le < local_; ++le) {
    const auto& idx = rows_[static_cast<std::size_t>(le)];
    const int n = static_cast<int>(idx.size());
    if (n == 0) continue;
    auto sc = prof.scope("expert_bwd", "compute");
    std::vector<float> dO(static_cast<std::size_t>(n) * h), dA(static_cast<std::size_t>(n) * f), dX(dO.size());
    for (int i = 0; i < n; ++i)
      std::memcpy(&dO[static_cast<std::size_t>(i) * h], &recv[static_cast<std::size_t>(idx[static_cast<std::size_t>(i)]) * h],
                  sizeof(float) * h);
    const float* w = store.weights(le);
    float* g = store.grads(le);
    const float *W1 = w, *W2 = w + h * f + f;
    float *gW1 = g, *gb1 = g + h * f, *gW2 = gb1 + f, *gb2 = gW2 + f * h;
    const auto& X = xe_[static_cast<std::size_t>(le)];
    const auto& H = h1_[static_cast<std::size_t>(le)];
    const auto& A = a1_[static_cast<std::size_t>(le)];
    // one backward per expert and step: its gradient is written, not added to a zeroed buffer
    // (zeroing every expert's gradient each step was a 17 MB memset, no part of the model)
    const std::uint64_t flops0 = gemm_flops_counted();
    linear_bwd(dO.data(), A.data(), W2, dA.data(), gW2, gb2, n, f, h, false);
    gelu_bwd(H.data(), dA.data(), dA.data(), dA.size());
    linear_bwd(dA.data(), X.data(), W1, dX.data(), gW1, gb1, n, h, f, false);
    prof.counts.expert_gemm_flops += gemm_flops_counted() - flops0;
    for (int i = 0; i < n; ++i)
      std::memcpy(&dxr[static_cast<std::size_t>(idx[static_cast<std::size_t>(i)]) * h], &dX[static_cast<std::size_t>(i) * h],
                  sizeof(float) * h);
  }
  std::vector<float> back(choices_.size() * static_cast<std::size_t>(h));
  {
    auto sc = prof.scope("combine_bwd", "ep");
    prof.counts.ep_bytes += payload_to_others(recv_counts_, comm.rank(), h);
    comm.alltoallv(dxr.data(), rc_h, back.data(), sc_h);
  }
  std::fill(dx, dx + static_cast<std::size_t>(N_) * h, 0.0f);
  for (std::size_t i = 0; i < choices_.size(); ++i) {
    float* dxt = dx + static_cast<std::size_t>(choices_[i].token) * h;
    for (int j = 0; j < h; ++j) dxt[j] += back[i * h + static_cast<std::size_t>(j)];
  }
  if (cfg_.router != Router::topk) return;
  auto sc = prof.scope("gate_bwd", "compute");
  for (int t = 0; t < N_; ++t) {  // d aux / d p_te = scale E f_be / s; then softmax backward
    float* dp = &dprobs[static_cast<std::size_t>(t) * E];
    const float* p = &probs_[static_cast<std::size_t>(t) * E];
    double dot = 0;
    for (int e = 0; e < E; ++e) {
      dp[e] += aux_scale_ * E * frac_[static_cast<std::size_t>((t / s) * E + e)] / s;
      dot += p[e] * dp[e];
    }
    for (int e = 0; e < E; ++e) dp[e] = p[e] * (dp[e] - static_cast<float>(dot));
  }
  gemm(true, false, h, E, N_, 1.0f, x_, h, dprobs.data(), E, 1.0f, gate.g.data(), E);
  gemm(false, true, N_, h, E, 1.0f, dprobs.data(), E, gate.w.data(), E, 1.0f, dx, h);
}

void MoeLayer::update(const AdamW& hp, int device_threads, int host_threads, Profiler& prof) {
  store.update(active_, hp, device_threads, host_threads, prof);
}

}  // namespace sparsim::trainer
