#include "sim/counts.hpp"

#include <algorithm>

#include "config/error.hpp"
#include "sim/analytic.hpp"
#include "workload/layout.hpp"
#include "workload/memory.hpp"
#include "workload/params.hpp"
#include "workload/transformer.hpp"

namespace sparsim::sim {

namespace {

double flops(const workload::LayerWork& w) { return w.forward.flops() + w.backward.flops() + w.recompute.flops(); }

double tp_bytes(const workload::LayerWork& w) {
  double b = 0;
  for (const workload::Pass* p : {&w.forward, &w.backward, &w.recompute})
    for (double x : p->tp) b += x;
  return b;
}

/// What one device does for one sparse layer and one micro-batch. `pre`: the counts of the
/// layer's attention, gate and shared experts (the same in every sparse layer); `seen`: the
/// expert counts of layers already counted, by their tokens per local expert (layers with the
/// same load count the same).
LayerCounts::Sparse sparse_layer(const Scenario& sc, const workload::Shape& s, const workload::SparseLayerTraffic& tr, int rank,
                                 const LayerCounts::Sparse& pre,
                                 std::vector<std::pair<std::vector<double>, LayerCounts::Sparse>>& seen) {
  const Moe& e = *sc.model.moe;
  const Recompute rc = sc.plan.recompute;
  LayerCounts::Sparse c = pre;
  const int etp = sc.plan.expert_tp();
  const workload::DeviceExperts mine = workload::device_experts(tr, rank, sc.plan.tp / etp);
  if (mine.tokens > 0) {
    const auto same = std::find_if(seen.begin(), seen.end(), [&](const auto& k) { return k.first == mine.expert_tokens; });
    LayerCounts::Sparse x;
    if (same != seen.end()) {
      x = same->second;
    } else {
      const workload::LayerWork experts =
          workload::expert_block(s, mine.tokens, mine.experts, e.expert_ffn_hidden, rc, mine.expert_tokens, etp);
      x.expert_gemm = flops(experts);
      x.tp = tp_bytes(experts);
      if (seen.size() < 8) seen.emplace_back(mine.expert_tokens, x);  // a few distinct loads: a short search
    }
    c.expert_gemm = x.expert_gemm;
    c.gemm += x.expert_gemm;
    c.tp += x.tp;
  }
  // Dispatch sends row `r` of the dispatch matrix to the other ranks, combine sends back what
  // arrived (column r); forward and backward each run both, a full recomputation once more. The
  // busiest rank's: the largest row plus column.
  auto sent = [&](std::size_t r) {
    double b = 0;
    for (std::size_t o = 0; o < tr.dispatch.size(); ++o)
      if (o != r) b += tr.dispatch[r][o] + tr.dispatch[o][r];
    return b;
  };
  double per_pass = 0;
  if (rank >= 0) {
    per_pass = sent(static_cast<std::size_t>(rank));
  } else {
    for (std::size_t r = 0; r < tr.dispatch.size(); ++r) per_pass = std::max(per_pass, sent(r));
  }
  const double passes = rc == Recompute::full ? 3 : 2;
  c.ep = passes * per_pass / s.t;  // the t devices of a tensor-parallel group split the bytes
  return c;
}

}  // namespace

LayerCounts layer_counts(const Scenario& sc, const std::vector<workload::SparseLayerTraffic>& traffic, int ep_rank) {
  const workload::Shape s = workload::shape_of(sc);
  const Recompute rc = sc.plan.recompute;
  SPARSIM_ASSERT(ep_rank < sc.plan.ep, "step_counts: expert-parallel rank out of range");
  LayerCounts out;
  const workload::LayerWork dense = workload::dense_layer(s, rc), head = workload::head(s, rc);
  out.dense_gemm = flops(dense), out.dense_tp = tp_bytes(dense);
  out.head_gemm = flops(head), out.head_tp = tp_bytes(head);
  out.sparse.resize(static_cast<std::size_t>(sc.model.layers));
  if (sc.model.moe && !traffic.empty()) {
    const workload::LayerWork pre_work = workload::sparse_pre_block(s, *sc.model.moe, rc);  // attention, gate, shared experts
    LayerCounts::Sparse pre;
    pre.gemm = flops(pre_work);
    pre.tp = tp_bytes(pre_work);
    std::vector<std::pair<std::vector<double>, LayerCounts::Sparse>> seen;
    for (const workload::SparseLayerTraffic& tr : traffic)
      out.sparse.at(static_cast<std::size_t>(tr.layer)) = sparse_layer(sc, s, tr, ep_rank, pre, seen);
  }
  return out;
}

StepCounts step_counts(const Scenario& sc, const workload::Layout& l, const std::vector<workload::SparseLayerTraffic>& traffic,
                       int ep_rank) {
  return step_counts(sc, l, traffic, layer_counts(sc, traffic, ep_rank), ep_rank);
}

StepCounts step_counts(const Scenario& sc, const workload::Layout& l, const std::vector<workload::SparseLayerTraffic>& traffic,
                       const LayerCounts& per_layer, int ep_rank) {
  const Plan& p = sc.plan;
  // The stage with the most GEMM FLOPs: the layers of its v chunks, the head on the last chunk.
  StepCounts out;
  const int chunks = p.pp * p.virtual_stages;
  for (int stage = 0; stage < p.pp; ++stage) {
    StepCounts c;
    for (int v = 0; v < p.virtual_stages; ++v) {
      const int chunk = v * p.pp + stage;
      for (int layer = chunk * l.layers_per_stage; layer < (chunk + 1) * l.layers_per_stage; ++layer) {
        if (sc.model.is_sparse_layer(layer)) {
          const LayerCounts::Sparse& k = per_layer.sparse[static_cast<std::size_t>(layer)];
          c.gemm_flops += k.gemm, c.expert_gemm_flops += k.expert_gemm, c.ep_bytes += k.ep, c.tp_bytes += k.tp;
        } else {
          c.gemm_flops += per_layer.dense_gemm, c.tp_bytes += per_layer.dense_tp;
        }
      }
      if (chunk == chunks - 1) c.gemm_flops += per_layer.head_gemm, c.tp_bytes += per_layer.head_tp;
    }
    if (stage == 0 || c.gemm_flops > out.gemm_flops) out = c;
  }
  const double m = l.micro_batches;
  out.gemm_flops *= m, out.expert_gemm_flops *= m, out.ep_bytes *= m, out.tp_bytes *= m;
  // The host path of the placements (analytic optimizer_phase): weights in, gradients out.
  const workload::ParamBytes pb = workload::param_bytes(sc.training.precision);
  const workload::DeviceParams dp = workload::device_params(sc, l);
  const double host = host_path_params(sc, l, dp, traffic, ep_rank);
  out.h2d_bytes = host * pb.weight;
  out.d2h_bytes = host * pb.grad;
  if (p.dp > 1) out.dp_bytes = dp.dense * pb.grad;
  if (sc.model.moe && p.dp / p.ep > 1) out.dp_bytes += dp.experts * pb.grad;
  return out;
}

}  // namespace sparsim::sim
