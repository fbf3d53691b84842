// What one device computes and moves in one training step, counted rather than timed: GEMM
// FLOPs and the payload bytes of each kind of transfer. The backends time these same ops; the
// reference trainer counts what it runs (trainer::StepCounts), and `sparsim validate` compares
// the two exactly, step by step, for the step's own routing: a check no machine noise moves.
#pragma once

#include <vector>

#include "config/scenario.hpp"
#include "workload/layout.hpp"
#include "workload/sparse.hpp"

namespace sparsim::sim {

struct StepCounts {
  double gemm_flops = 0;         ///< FLOP of the device's GEMMs: forward, backward, recomputation
  double expert_gemm_flops = 0;  ///< of which in expert FFNs
  double h2d_bytes = 0;          ///< placement copies host -> device (offload, ecss: weights in)
  double d2h_bytes = 0;          ///< device -> host (offload, ecss: gradients out)
  double ep_bytes = 0;  ///< all-to-all payload sent to other devices: dispatch and combine of every pass
  double dp_bytes = 0;  ///< payload of the data-parallel gradient reduction (dense, and experts over dp/ep)
  double tp_bytes = 0;  ///< payload of the tensor-parallel all-reduces
};

/// Counts of one device of the pipeline stage with the most GEMM FLOPs, over one step (all its
/// micro-batches). Expert work is that of expert-parallel rank `ep_rank` (its tokens from
/// SparseLayerTraffic::rank_expert_tokens, its all-to-all bytes from row and column `ep_rank` of
/// the dispatch matrix), or of the busiest rank when `ep_rank` < 0. `l`: workload::layout_of(sc).
StepCounts step_counts(const Scenario& sc, const workload::Layout& l, const std::vector<workload::SparseLayerTraffic>& traffic,
                       int ep_rank = -1);

/// What one device computes and moves for one micro-batch through each kind of layer: what
/// step_counts sums over the busiest stage. It depends on what block times depend on (tp,
/// sequence parallelism, recomputation, the micro-batch and the routing), so a plan search shares
/// it the way it shares them (sim::SharedBlocks).
struct LayerCounts {
  struct Sparse {
    double gemm = 0, expert_gemm = 0, ep = 0, tp = 0;
  };
  double dense_gemm = 0, dense_tp = 0, head_gemm = 0, head_tp = 0;
  std::vector<Sparse> sparse;  ///< per model layer (zero for dense layers)
};
LayerCounts layer_counts(const Scenario& sc, const std::vector<workload::SparseLayerTraffic>& traffic, int ep_rank = -1);
/// step_counts with the layer counts given (layer_counts(sc, traffic, ep_rank)).
StepCounts step_counts(const Scenario& sc, const workload::Layout& l, const std::vector<workload::SparseLayerTraffic>& traffic,
                       const LayerCounts& per_layer, int ep_rank = -1);

}  // namespace sparsim::sim
