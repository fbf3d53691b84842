// The analytic backend: one training step in closed form (microseconds per evaluation), for
// sweeps and planning. Pipeline schedules (GPipe, 1F1B, interleaved) give the bubble; collectives
// use the alpha-beta costs of collectives.hpp; gradient buckets overlap the last backward.
#pragma once

#include "config/scenario.hpp"
#include "sim/collectives.hpp"
#include "sim/result.hpp"
#include "workload/transformer.hpp"

namespace sparsim::sim {

/// Achieved fraction of peak for a GEMM of `flops` FLOP: log-linear interpolation in the
/// device's table, clamped to its first and last points.
double gemm_efficiency(const Device& d, double flops);

/// Time of one op on one device: GEMMs at peak * efficiency (or memory-bound if their bytes
/// take longer), memory ops at the memory bandwidth.
double op_time(const workload::Op& op, const Device& d, Precision p);

/// Peak FLOP/s of `d` at precision `p` (falls back to fp16 for bf16 and vice versa).
double peak_flops(const Device& d, Precision p);

/// Optimizer (Adam) bytes moved per parameter: read and write fp32 master, m, v; read the
/// gradient; write the 16-bit weight.
double adam_bytes_per_param(Precision p);

/// Per micro-batch times of one pipeline stage, in seconds.
struct StageTimes {
  double forward = 0, backward = 0;        ///< compute (backward includes recomputation)
  double tp_forward = 0, tp_backward = 0;  ///< tensor-parallel collectives
  double forward_flops = 0, backward_flops = 0, recompute_flops = 0;
  double busy() const { return forward + backward + tp_forward + tp_backward; }
  StageTimes& operator+=(const StageTimes& o);
  StageTimes operator*(double n) const;
};

/// Per micro-batch times of the building blocks of a model, each computed once.
struct BlockTimes {
  StageTimes dense_layer, embedding, head;
};
BlockTimes block_times(const Scenario& sc);

/// Times of model chunk `chunk` (0..pp*v-1; chunk c runs on stage c mod pp), one micro-batch.
StageTimes chunk_times(const Scenario& sc, const BlockTimes& b, int chunk);

/// Gradient reduction in buckets of `bucket` bytes that become ready evenly over a backward
/// window of `window` seconds; each bucket's all-reduce starts when it is ready and the previous
/// one is done. Returns how long the last bucket finishes after the window ends.
double exposed_bucketed(double grads, double bucket, double window, const Geometry& g, CollectiveAlgo algo);

/// Evaluates one step. Never throws for a plan that cannot run: the result says why.
StepResult analytic_step(const Scenario& sc);

}  // namespace sparsim::sim
