// Decoder-only transformer (GPT-2 shape, pre-LN) with dense or sparse FFN layers, hand-written
// forward and backward:
//   x = tok_emb[id] + pos_emb[t]
//   per layer: x += Wo attn(LN1(x) Wqkv);  x += FFN(LN2(x)) or MoE(LN2(x))
//   logits = LN_f(x) W_out;  loss = mean cross-entropy + load-balancing loss (topk)
// Dense parameters are replicated on every rank (gradients all-reduced); experts are sharded.
#pragma once

#include <memory>
#include <vector>

#include "comm.hpp"
#include "config.hpp"
#include "moe.hpp"
#include "profiler.hpp"
#include "tensor.hpp"

namespace sparsim::trainer {

/// Parameters every rank holds (embeddings, attention, layer norms, dense FFNs, gates): what the
/// device's AdamW updates each step; and those of all experts of all sparse layers.
double dense_param_count(const ModelConfig& cfg);
double expert_param_count(const ModelConfig& cfg);

class Model {
 public:
  Model(const ModelConfig& cfg, Placement placement, int rank, int ranks);

  /// One forward and backward pass over B local sequences: inputs/targets [B s], domains [B].
  /// The loss is normalised by the global batch (B_global sequences over all ranks) so that
  /// gradients summed over ranks are the gradients of the global mean loss. Gradients
  /// accumulate into the tensors; returns this rank's part of the global loss.
  /// `experts`: the ranks of the sparse layers' all-to-alls (null: `comm`, every rank).
  double forward_backward(const int* inputs, const int* targets, const int* domains, int B, int B_global, Comm& comm,
                          Profiler& prof, Comm* experts = nullptr);
  /// Sum the dense gradients over ranks (one MPI_Allreduce of a packed buffer).
  void allreduce_grads(Comm& comm, Profiler& prof);
  /// AdamW on the dense parameters (device) and on the activated experts (per placement).
  void step(const AdamW& hp, int device_threads, int host_threads, Profiler& prof);
  void zero_grad();

  std::vector<Tensor*> dense_params();
  std::vector<MoeLayer*> moe_layers();
  const ModelConfig& config() const { return cfg_; }
  int dense_step() const { return step_; }
  void set_dense_step(int s) { step_ = s; }
  double params_total() const;          ///< over all ranks (experts counted once)
  double params_active_per_token() const;

  struct Block {
    Tensor ln1g, ln1b, wqkv, bqkv, wo, bo, ln2g, ln2b, w1, b1, w2, b2;
    std::unique_ptr<MoeLayer> moe;
    std::vector<float> x0, ln1, mean1, rstd1, qkv, probs, att, x1, ln2, mean2, rstd2, h1, a1;
  };

 private:
  ModelConfig cfg_;
  int step_ = 0;
  Tensor tok_, pos_, lnfg_, lnfb_, wout_;
  std::vector<Block> blocks_;
  std::vector<float> xf_, lnf_, meanf_, rstdf_, logits_;
  std::vector<float> grad_flat_;  ///< every dense gradient, each Tensor::g a slice (all-reduced in place)
};

}  // namespace sparsim::trainer
