// A sparse (MoE or RRE) FFN layer with expert parallelism and the expert placements.
//
// Routing: learned top-k gate (softmax over E, top-k per token, capacity C per sequence, tokens
// over capacity dropped, GShard load-balancing loss) or RRE (expert = rre_expert(domain, token
// ID) with the simulator's routing::rre_table). Expert e lives on rank e / (E / ep).
// Forward: route -> dispatch (alltoallv of token rows) -> expert FFNs on the owner ->
// combine (alltoallv back) -> y_t = sum over kept choices of w_te expert_e(x_t).
//
// Placement (ExpertStore): device = expert weights and AdamW state in the compute pool;
// offload = plain heterogeneous training: all in the host store, every expert copied in and its
// gradient out each step (zero where no token came) and AdamW on host threads over all of them,
// as a framework's optimizer over flat parameter buffers (DeepSpeed's ZeRO-Offload, MindSpore's
// optimizer heterogeneity); ecss = host store, only the experts that received tokens are copied
// in, and the sparse AdamW runs on host threads over just those. device and ecss skip an expert
// that received no token in a step (lazy AdamW, per-expert step count): they compute the same
// arithmetic, so their parameters agree bitwise, and offload's agree with theirs while every
// expert receives tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "comm.hpp"
#include "config.hpp"
#include "profiler.hpp"
#include "routing/routing.hpp"
#include "tensor.hpp"

namespace sparsim::trainer {

/// Master copy of one expert: weights [W1 h×f | b1 f | W2 f×h | b2 h] and AdamW moments.
struct ExpertState {
  std::vector<float> w, m, v;
  int step = 0;
};

class ExpertStore {
 public:
  ExpertStore(Placement placement, int local_experts, std::size_t params_per_expert);
  /// Make local expert e's weights available in the compute pool (h2d copy unless device).
  void acquire(int e, Profiler& prof);
  /// Start of the layer's forward: offload copies every expert in; others do nothing.
  void prepare(Profiler& prof);
  float* weights(int e);
  float* grads(int e);
  /// AdamW on the experts with active[e] (offload: on all, a zero gradient for the others);
  /// non-device placements then free the pool slots.
  void update(const std::vector<bool>& active, const AdamW& hp, int device_threads, int host_threads, Profiler& prof);
  ExpertState& master(int e) { return master_[static_cast<std::size_t>(e)]; }
  int size() const { return static_cast<int>(master_.size()); }
  /// Experts resident in the compute pool now (device: all).
  int pool_experts() const;

 private:
  Placement placement_;
  std::size_t n_;
  std::vector<ExpertState> master_;
  std::vector<std::vector<float>> pool_w_, pool_g_, host_g_;
  std::vector<bool> resident_;  ///< slot holds the expert's current weights (non-device placements)
};

class MoeLayer {
 public:
  MoeLayer(const ModelConfig& cfg, Placement placement, int layer, int rank, int ranks);
  /// x, y: [B s, h]; tokens [B s] input IDs; domains [B]. aux_scale = aux_coef / global B.
  /// `comm`: the ranks the dispatch and combine span (all, or this rank's group of consecutive
  /// ranks when they hold all the experts its tokens reach). Returns this rank's
  /// load-balancing loss (already scaled).
  double forward(const float* x, float* y, int B, const int* tokens, const int* domains, float aux_scale, Comm& comm,
                 Profiler& prof);
  /// dx [B s, h] overwritten; accumulates gate and expert gradients.
  void backward(const float* dy, float* dx, Comm& comm, Profiler& prof);
  void update(const AdamW& hp, int device_threads, int host_threads, Profiler& prof);

  Tensor gate;  ///< Wg [h, E] (topk only)
  ExpertStore store;
  const std::vector<int>& table() const { return table_; }
  int first_expert() const { return first_; }
  int layer() const { return layer_; }
  std::int64_t dropped = 0;  ///< token choices dropped by capacity in the last forward
  std::vector<std::int64_t> kept_per_expert;  ///< last forward, over this rank's tokens (size E)
  /// Each forward so far (oldest first), over this rank's tokens: choices per expert before
  /// capacity (size E). `sparsim validate` gives the simulator the learned gate's load from these.
  std::vector<std::vector<double>> routed_per_forward;
  /// routed_per_forward summed over the forwards (size E).
  std::vector<double> routed_per_expert() const;

 private:
  struct Choice {
    int token, expert;
    float w;
  };
  void route(const float* x, int B, const int* tokens, const int* domains, Profiler& prof);
  ModelConfig cfg_;
  int layer_, rank_, ranks_, first_, local_;
  std::size_t P_;
  routing::RreSpec rre_;
  std::vector<int> table_;
  // caches for backward
  int N_ = 0;
  float aux_scale_ = 0;
  const float* x_ = nullptr;
  std::vector<float> probs_, frac_;  // [N, E], top-1 fraction per (sequence, expert)
  std::vector<Choice> choices_;
  std::vector<int> send_counts_, recv_counts_;
  std::vector<std::vector<int>> rows_;  // per local expert: received row indices
  std::vector<std::vector<float>> xe_, h1_, a1_;
  std::vector<float> back_;  // combined expert outputs per choice [choices, h]
  std::vector<bool> active_;
};

}  // namespace sparsim::trainer
