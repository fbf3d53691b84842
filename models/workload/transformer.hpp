// FLOPs and memory traffic of every op of a transformer layer, per device and per micro-batch,
// under tensor parallelism t (and sequence parallelism). Shapes in the comments use
// b micro-batch, s sequence, h hidden, a heads, f FFN hidden, V vocab, t tensor parallel.
//
// A GEMM of (m x k) @ (k x n) costs 2mkn FLOP. Forward of one dense layer (Narayanan et al. 2021):
//   QKV 6bsh^2/t, scores 2bs^2h/t, attention-over-values 2bs^2h/t, output 2bsh^2/t,
//   MLP 4bshf/t (glu 6bshf/t)  ->  24bsh^2 + 4bs^2h for f = 4h, t = 1.
// Backward is twice the forward GEMM FLOPs (input and weight gradients).
//
// Element-wise ops (OpKind::memory) carry bytes and element-wise FLOPs (`vflops`, not counted
// in model or hardware FLOPs). Their FLOP convention per element, forward (backward twice) is
// in `vflop` below; an exp or tanh counts 20 (range reduction and a degree-6 polynomial, as the
// reference trainer computes it). `sparsim calibrate --cpu` times the trainer's element-wise
// kernels with the same convention, so device.vector_flops and these counts agree.
#pragma once

#include <string>
#include <vector>

#include "config/scenario.hpp"

namespace sparsim::workload {

/// gemm: matrix products; memory: element-wise (streaming) kernels; attention: one fused
/// (flash) attention kernel, its matrix work, exps and FP32 element work inside.
enum class OpKind { gemm, memory, attention };

/// Element-wise FLOP per element, forward.
namespace vflop {
inline constexpr double exp = 20;                  ///< exp or tanh
inline constexpr double layernorm = 8;             ///< mean, variance, normalise, scale and shift
inline constexpr double gelu = 10 + exp;           ///< tanh approximation: cubic, tanh, product
inline constexpr double silu_glu = 4 + exp;        ///< x sigmoid(x) times the gate
inline constexpr double softmax = 4 + exp;         ///< max, subtract, exp, sum, scale
inline constexpr double add = 1;                   ///< residual add, embedding + position
}  // namespace vflop

/// The GEMMs a GEMM op is made of: `count` products op(A) op(B) of m x k times k x n. Their
/// FLOPs add up to the op's; a device with measured rates by shape (device.gemm_shapes) times
/// each of them.
struct GemmCall {
  double m = 0, n = 0, k = 0;
  GemmTrans trans = GemmTrans::nn;
  double count = 1;
  /// The token count (m; k of a weight gradient) is a mean that varies from step to step, as an
  /// expert's share of the routed tokens: timed from device.gemm_shapes rows averaged over a
  /// window of token counts when the device has them.
  bool varies = false;
  double flops() const { return 2 * m * n * k * count; }
};

/// One compute op on one device for one micro-batch.
struct Op {
  std::string name;
  OpKind kind = OpKind::gemm;
  double flops = 0;  ///< FLOP
  double bytes = 0;  ///< bytes read + written from device memory
  double count = 1;  ///< independent GEMMs of equal size the FLOPs split into (one per expert)
  double vflops = 0; ///< element-wise FLOP (memory ops; vflop convention), bounded by device.vector_flops
  std::vector<GemmCall> calls;  ///< gemm ops: the individual GEMMs (forward: as the trainer calls them)
  /// memory ops: the element-wise kernel (one of sparsim::kVectorKernels, "_bwd" appended for the
  /// backward), whose device.vector_rates entry bounds it when the device has one
  std::string kernel;
  /// attention ops: exps and other FP32 operations on the score elements (softmax inside the
  /// kernel), and the query-block tiles the kernel is launched with (b a/t ceil(s / 128))
  double exps = 0, element_ops = 0, tiles = 0;
  /// Backward FLOPs over forward FLOPs: 2 for a GEMM (input and weight gradients); 2.5 for flash
  /// attention, whose backward recomputes the scores (5 matrix products to the forward's 2).
  double backward_factor = 2;
  /// gemm ops: operand A is a constant (a one-hot mask) that needs no gradient; the backward is
  /// B's gradient alone, one product of the forward's FLOPs (backward_of)
  bool constant_a = false;
  bool backward = false;  ///< a backward op (backward_of)
  /// Counted in the model's FLOPs (MFU); false for products an implementation adds beyond the
  /// model's (the einsum dispatch's one-hot products): hardware FLOPs only.
  bool model = true;
};

/// Ops of one pass of one layer, plus the tensor-parallel collectives it needs.
struct Pass {
  std::vector<Op> ops;
  std::vector<double> tp;   ///< bytes of each all-reduce (or reduce-scatter + all-gather) over t
  double flops() const;
  double model_flops() const;  ///< of the ops with Op::model
};

struct LayerWork {
  Pass forward;
  Pass backward;
  Pass recompute;  ///< extra forward work before backward (empty without recomputation)
};

struct Shape {
  double b = 1, s = 1, h = 1, a = 1, f = 1, V = 1;
  double kv = 1;  ///< K/V heads (= a without GQA)
  double t = 1;   ///< tensor-parallel degree
  double eb = 2;  ///< bytes per activation element
  bool sequence_parallel = false;
  bool glu = false;
  Attention attention = Attention::flash;
  bool causal = true;
  bool fuse_gelu = false, fuse_residual = false, fuse_cross_entropy = false;
};

/// Flash attention's query and key blocks (FlashAttention-2's 128 x 128 on A100/H100 for head
/// dimensions up to 128).
inline constexpr double kFlashBlock = 128;
/// The fraction of the s x s score blocks a causal flash kernel computes: with n = ceil(s / 128)
/// blocks per side, the n (n + 1) / 2 blocks on and below the diagonal of n^2.
double causal_fraction(double s);

Shape shape_of(const Scenario& sc);
double element_bytes(Precision p);

/// A dense transformer layer (attention + FFN of width s.f).
LayerWork dense_layer(const Shape& s, Recompute rc);
/// The attention half of a layer only (sparse layers replace the FFN by experts).
LayerWork attention_block(const Shape& s, Recompute rc);
/// An FFN of hidden width f over `tokens` tokens (one expert, or the dense MLP), not TP-split
/// when t == 1.
LayerWork ffn_block(const Shape& s, double tokens, double f, Recompute rc);
/// The parts of a sparse layer besides its attention block: the learned gate ([T, h] @ [h, E]),
/// and the busiest expert-parallel rank's experts over `rank_tokens` token-expert assignments in
/// `local_experts` GEMMs. The all-to-alls between them are costed by the backends.
LayerWork gate_block(const Shape& s, int experts, Recompute rc);
/// moe.dispatch einsum: the one-hot dispatch and combine products over the device's b s / t tokens
/// and the tokens x experts x capacity masks they multiply by.
LayerWork einsum_dispatch_block(const Shape& s, const Moe& e, Recompute rc);
/// Elements of one such mask: S tokens x E experts x capacity ceil(c k S / E), S = b s / t.
double einsum_mask_elements(const Shape& s, const Moe& e);
/// What a sparse layer runs before its dispatch: the attention block, the learned gate (topk,
/// switch) and the shared experts' FFN (moe.shared_experts x shared_ffn_hidden over every token).
LayerWork sparse_pre_block(const Shape& s, const Moe& e, Recompute rc);
/// `expert_tokens`: token-expert assignments of each local expert of the busiest rank (they sum
/// to rank_tokens; the GEMM FLOPs follow the sum, the per-GEMM shapes the parts). Each expert is
/// split over `etp` devices (0: s.t, the tensor-parallel group); `rank_tokens`, `local_experts`
/// and `expert_tokens` are then those of one sub-group (workload::device_experts).
LayerWork expert_block(const Shape& s, double rank_tokens, int local_experts, double expert_ffn, Recompute rc,
                       const std::vector<double>& expert_tokens = {}, int etp = 0);

/// Input embedding (first stage) and logits + loss (last stage).
LayerWork embedding(const Shape& s);
LayerWork head(const Shape& s, Recompute rc);

}  // namespace sparsim::workload
