#include "workload/memory.hpp"

#include <algorithm>

#include "workload/layout.hpp"
#include "workload/params.hpp"
#include "workload/transformer.hpp"

namespace sparsim::workload {

ParamBytes param_bytes(Precision p) {
  // Mixed precision keeps 16-bit weights and gradients and an fp32 master copy plus Adam's m and
  // v (4 + 4 + 4 bytes); fp32 training keeps fp32 weights and gradients and m, v.
  if (p == Precision::fp32) return ParamBytes{4, 4, 8};
  return ParamBytes{2, 2, 12};
}

double grad_reduce_bytes(const Scenario& sc) {
  return sc.plan.grad_reduce ? element_bytes(*sc.plan.grad_reduce) : param_bytes(sc.training.precision).grad;
}

double zero3_unit_params(const Scenario& sc, const ParamCount& c, bool sparse_layer) {
  const Plan& p = sc.plan;
  const double layer = sparse_layer ? c.sparse_layer_dense_part() + double(sc.model.moe->experts) / p.ep * c.expert : c.dense_layer();
  return layer / p.tp;
}

DeviceParams device_params(const Scenario& sc, const Layout& l) {
  const Model& m = sc.model;
  const Plan& p = sc.plan;
  const ParamCount c = count_params(m);
  // Layers held by one device: v chunks of L/(p*v) layers. Count sparse layers of the stage that
  // holds the most (the first stages hold layers 0..; with {first: N} sparse layers they differ).
  const int per_device = l.layers_per_stage * p.virtual_stages;
  int max_sparse = 0;
  for (int stage = 0; stage < p.pp; ++stage) {
    int sparse = 0;
    for (int chunk = 0; chunk < p.virtual_stages; ++chunk) {
      const int first = (chunk * p.pp + stage) * l.layers_per_stage;
      for (int i = first; i < first + l.layers_per_stage; ++i) sparse += m.is_sparse_layer(i) ? 1 : 0;
    }
    max_sparse = std::max(max_sparse, sparse);
  }
  const int dense_layers = per_device - max_sparse;
  // Embedding on the first stage; logits (a tied copy, or untied weights) on the last stage.
  const double emb = m.vocab * double(m.hidden) + (m.learned_positions ? m.seq_len * double(m.hidden) : 0);
  const double edge = p.pp == 1 ? c.embedding : std::max(emb, c.embedding - emb + (m.tied_embeddings ? emb : 0));
  DeviceParams d;
  d.dense = (dense_layers * c.dense_layer() + max_sparse * c.sparse_layer_dense_part() + edge) / p.tp;
  if (m.moe) d.experts = max_sparse * (double(m.moe->experts) / p.ep) * c.expert / p.tp;
  return d;
}

double layer_activation_bytes(const Scenario& sc, bool sparse_layer, double expert_tokens) {
  const Shape s = shape_of(sc);
  const double b = s.b, q = s.s, h = s.h, a = s.a, t = s.t, eb = s.eb;
  const double sp = s.sequence_parallel ? t : 1.0;  // divisor of the parts TP alone does not split
  const Recompute rc = sc.plan.recompute;
  if (rc == Recompute::full) return b * q * h * eb / sp;  // only the layer input is kept
  // FFN activations (the FFN's input and hidden, 2 or 3 x tokens x width); a sparse layer's
  // experts hold expert_tokens rows (the busiest rank's token-expert assignments: top-k,
  // capacity, a dropless layer's imbalance; k x b x s when not given), their input rows as
  // dispatched, and for a learned gate their outputs (the backward of the gate's weighting needs
  // them); its shared experts see every token.
  double ffn = (s.glu ? 3 : 2) * b * q * s.f * eb, rows = 0, masks = 0;
  if (sparse_layer && sc.model.moe) {
    const Moe& e = *sc.model.moe;
    const double te = expert_tokens >= 0 ? expert_tokens : e.top_k * b * q;
    ffn = (s.glu ? 3 : 2) * eb * (te * e.expert_ffn_hidden + b * q * double(e.shared_experts) * e.shared_ffn_hidden);
    // plan.etp: a device holds the rows of its sub-group's experts, one of tp / etp
    const double groups = double(sc.plan.tp / sc.plan.expert_tp());
    rows = te / groups * h * eb * (e.learned_gate() ? 2 : 1);
    // einsum dispatch: both products keep their mask operand, cast to the training precision,
    // for the backward (S x E x C elements each; einsum_dispatch_block)
    if (e.dispatch == Dispatch::einsum) masks = 2 * einsum_mask_elements(s, e) * eb;
  }
  // Korthikanti et al. 2022, section 4 (eb = 2 gives their 34sbh + 5as^2b for f = 4h, t = 1):
  //  kept unsplit by TP alone: two layernorm inputs 2sbh*eb, QKV input sbh*eb, MLP input sbh*eb,
  //  two dropout masks 2sbh bytes; split by t: Q,K 2sbh*eb, V sbh*eb, attention-output input
  //  sbh*eb, FFN 2sbf*eb (glu 3sbf*eb); softmax output and dropout 2as^2b*eb + as^2b (split by t).
  // Flash attention (Dao 2023) keeps no s x s tensor: it saves Q, K, V (K and V of kv heads),
  // its output and each row's fp32 log-sum-exp; recipes that use it train without dropout, so
  // no masks. GQA shrinks K and V to kv / a of Q.
  if (s.attention == Attention::flash) {
    const double kv = std::max(1.0, s.kv / t) * t;
    const double unsplit = b * q * h * 4 * eb + rows;  // two layernorm inputs, the QKV and MLP inputs
    const double split = b * q * h * eb * (1 + 2 * kv / a) + b * q * h * eb + 4.0 * b * a * q + ffn;
    return unsplit / sp + split / t + masks;
  }
  const double unsplit = b * q * h * (4 * eb + 2) + rows;
  const double split = b * q * h * 4 * eb + ffn;
  const double scores = rc == Recompute::selective ? 0.0 : b * a * q * q * (2 * eb + 1);
  return unsplit / sp + (split + scores) / t + masks;
}

double activated_expert_params(const Scenario& sc, const Layout& l, const DeviceParams& d,
                               const std::vector<SparseLayerTraffic>& traffic, int ep_rank) {
  if (!sc.model.moe || traffic.empty()) return 0.0;
  if (sc.model.moe->activated > 0) return d.experts * sc.model.moe->activated;  // assumed, not counted
  const double micro_batches = l.micro_batches;
  // The busiest stage holds d.experts = n_sparse * (E/ep) * expert / t; scale by the largest
  // activated fraction over the sparse layers.
  double fraction = 0;
  for (const auto& t : traffic) {
    double active = t.activated_experts;
    if (ep_rank >= 0) {
      active = 0;
      for (double got : t.rank_expert_tokens.at(static_cast<std::size_t>(ep_rank))) active += got * micro_batches >= 1.0 ? 1 : 0;
    }
    fraction = std::max(fraction, active / std::max(1, t.local_experts));
  }
  return d.experts * fraction;
}

MemoryLedger memory(const Scenario& sc, const Layout& l, const std::vector<SparseLayerTraffic>* traffic) {
  std::vector<SparseLayerTraffic> own;  // the routing, when the caller has none
  if (traffic == nullptr && sc.model.moe) {
    own = sparse_traffic(sc, l);
    traffic = &own;
  }
  const Plan& p = sc.plan;
  const ParamBytes pb = param_bytes(sc.training.precision);
  const DeviceParams dp = device_params(sc, l);
  MemoryLedger m;
  m.device_capacity = sc.cluster.node.device.memory;
  m.host_capacity = sc.cluster.node.host.memory;
  // ZeRO shards dense state over the dp replicas and expert state over the dp/ep replicas that
  // hold the same experts.
  const double d = double(p.dp), de = double(std::max<std::int64_t>(1, p.dp / p.ep));
  auto shard = [&](int stage, double dense, double experts) {
    return dense / (p.zero >= stage ? d : 1.0) + experts / (p.zero >= stage ? de : 1.0);
  };
  const int devices = sc.cluster.node.devices;
  switch (p.placement) {
    case Placement::device:
      m.params = shard(3, dp.dense, dp.experts) * pb.weight;
      m.grads = shard(2, dp.dense, dp.experts) * pb.grad;
      m.optimizer = shard(1, dp.dense, dp.experts) * pb.optimizer;
      break;
    case Placement::offload:
      // Plain heterogeneous training (ZeRO-Offload): fp32 master weights and Adam state of all
      // parameters in host DRAM; the device keeps 16-bit weights and gradients.
      m.params = shard(3, dp.dense, dp.experts) * pb.weight;
      m.grads = shard(2, dp.dense, dp.experts) * pb.grad;
      m.host = shard(1, dp.dense, dp.experts) * pb.optimizer * devices;
      break;
    case Placement::ecss: {
      // ECSS: the dense part as on the device; expert weights and Adam state live in host DRAM
      // (fp32 master, m, v and a 16-bit copy to send); the device holds the 16-bit weights and
      // gradients of the experts this step activates.
      const double active = activated_expert_params(sc, l, dp, *traffic);
      m.params = shard(3, dp.dense, 0) * pb.weight + active * pb.weight;
      m.grads = shard(2, dp.dense, 0) * pb.grad + active * pb.grad;
      m.optimizer = shard(1, dp.dense, 0) * pb.optimizer;
      m.host = shard(1, 0, dp.experts) * (pb.optimizer + pb.weight) * devices;
      break;
    }
  }
  // Activations on the first stage, which holds the most micro-batches in flight.
  const std::int64_t mb = l.micro_batches;
  double in_flight = 0;
  switch (p.schedule) {
    case Schedule::gpipe: in_flight = double(mb); break;
    case Schedule::one_f_one_b: in_flight = double(std::min<std::int64_t>(p.pp, mb)); break;
    case Schedule::interleaved:
      in_flight = double(std::min<std::int64_t>(p.pp, mb)) * (1.0 + (p.pp - 1.0) / (double(p.pp) * p.virtual_stages));
      break;
  }
  // plan.overlap_ep warms up one more pass of a chunk (1/v of the device's layers) before the
  // first backward, and under 1F1B as deep as interleaving does: 2(pp - 1) + 1 forwards, and
  // the pair's own (sim::stage_order)
  const bool overlap = overlaps_ep(sc);
  if (overlap && p.schedule == Schedule::one_f_one_b) in_flight = double(std::min<std::int64_t>(2 * std::int64_t(p.pp), mb));
  if (overlap && p.schedule == Schedule::interleaved) in_flight = std::min(double(mb), in_flight + 1.0 / p.virtual_stages);
  // A sparse layer's experts hold the busiest rank's token-expert assignments of its busiest layer;
  // with plan.etp, its busiest sub-group's, each over etp devices: as tp / etp times as many
  // rows split over all tp (layer_activation_bytes divides the experts' part by tp).
  double expert_tokens = -1;
  const int groups = p.tp / p.expert_tp();
  if (traffic != nullptr)
    for (const auto& t : *traffic)
      expert_tokens = std::max(expert_tokens, groups == 1 ? t.busiest_rank_tokens : groups * busiest_group_tokens(t, groups));
  double per_mb = 0;
  const int per_device = l.layers_per_stage * p.virtual_stages;
  for (int i = 0; i < per_device; ++i) per_mb += layer_activation_bytes(sc, sc.model.is_sparse_layer(i), expert_tokens);
  m.activations = in_flight * per_mb;
  if (p.recompute == Recompute::full) {
    // one layer's full activations exist while it is recomputed: the larger of a dense and a sparse one
    Scenario no_rc = sc;
    no_rc.plan.recompute = Recompute::none;
    m.activations += std::max(layer_activation_bytes(no_rc, false), sc.model.moe ? layer_activation_bytes(no_rc, true, expert_tokens) : 0.0);
  }
  // Buffers: the loss's temporaries on the last stage, the largest op's: the logits in the
  // training precision, their fp32 log-softmax (kept for the backward) and its fp32 gradient
  // (cross-entropy runs in fp32 under autocast), or with a fused cross-entropy the logits alone
  // (the gradient is written over them); gradient buckets in flight (ZeRO < 3), or
  // ZeRO-3's unsharded units: the one computing and the prefetched next one in the training
  // precision, and the unit's gradients before their reduce-scatter (training precision, plus
  // the reduction's precision when it differs).
  const Shape s = shape_of(sc);
  m.buffers = (sc.training.fuse_cross_entropy ? s.eb : s.eb + 2 * 4.0) * s.b * s.s * s.V / s.t;
  if (p.zero >= 3 && p.dp > 1) {
    const ParamCount c = count_params(sc.model);
    const double unit = std::max(zero3_unit_params(sc, c, false), sc.model.moe ? zero3_unit_params(sc, c, true) : 0.0);
    const double reduce = grad_reduce_bytes(sc);
    m.buffers += unit * (2 * pb.weight + pb.grad + (reduce != pb.grad ? reduce : 0.0));
  } else if (p.overlap_dp && p.dp > 1) {
    m.buffers += 2 * p.bucket;
  }
  // The framework's share of the device: its CUDA context and kernels, and the allocator's
  // fragmentation (node file: device.memory_reserved, device.fragmentation).
  const Device& dev = sc.cluster.node.device;
  m.buffers += dev.memory_reserved + dev.fragmentation * (m.params + m.grads + m.optimizer + m.activations + m.buffers);
  return m;
}

}  // namespace sparsim::workload
