// The analytic backend: one training step in closed form (microseconds per evaluation), for
// sweeps and planning. Pipeline schedules (GPipe, 1F1B, interleaved) give the bubble; collectives
// use the alpha-beta costs of collectives.hpp; gradient buckets overlap the last backward.
// A `const workload::Layout& l` beside a Scenario is workload::layout_of(sc): one evaluation
// computes it once and passes it down.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "config/scenario.hpp"
#include "sim/collectives.hpp"
#include "sim/counts.hpp"
#include "sim/result.hpp"
#include "workload/layout.hpp"
#include "workload/memory.hpp"
#include "workload/sparse.hpp"
#include "workload/transformer.hpp"

namespace sparsim::sim {

/// Achieved fraction of peak for a GEMM of `flops` FLOP: log-linear interpolation in the
/// device's table, clamped to its first and last points.
double gemm_efficiency(const Device& d, double flops);

/// FLOP/s of one GEMM from device.gemm_shapes: the rows that share two of its dimensions and its
/// transposition, interpolated linearly in the log of the third (clamped to the ends); 0 when
/// no row matches. A call whose token count varies uses the window-averaged rows (window > 1),
/// others the exact ones; each falls back to the other kind.
double measured_gemm_rate(const Device& d, const workload::GemmCall& c);
/// Time of one GEMM call on a device with a tile model (device.compute_units, gemm_tiles,
/// gemm_plateau): for each output tile T_m x T_n the library could pick, and split-K into 1, 2 or
/// 4 slices of k (slices of at least 512) when the tiles do not fill the units, the
///   tiles  = ceil(m/T_m) ceil(n/T_n) count split,  waves = ceil(tiles / units),
///   tile   = 2 T_m T_n (k/split) / (peak / units x plateau)            (main loop)
///          + T_m T_n out_bytes / (memory_bandwidth / units)                  (epilogue)
///   time   = waves x tile (+ the split-K reduction: read split fp32 partials, write the result)
/// of the fastest choice, and no less than its operands' bytes at the memory bandwidth.
/// `eb`: bytes per element of the operands and the result.
double gemm_time(const workload::GemmCall& c, const Device& d, Precision p, double eb);
/// Time of one flash attention kernel (OpKind::attention): its query-block tiles in waves over
/// the compute units, each tile's matrix work at the GEMM plateau, its exps at exp_rate and its
/// other element work at the fp32 rate (FlashAttention-2 does not overlap them), and no less than
/// its bytes at the achievable bandwidth.
double attention_time(const workload::Op& op, const Device& d, Precision p);
/// Time of one op on one device: GEMMs by shape (gemm_time) on a device with a tile model, else
/// at peak x the FLOP-keyed efficiency, or call by call at their measured shape rates where the
/// device has them (or memory-bound if their bytes take longer); memory ops at the achievable
/// memory bandwidth, or at their kernel's vector rate (else vector_flops) when slower. Each kernel
/// takes at least device.kernel_overhead.
double op_time(const workload::Op& op, const Device& d, Precision p);

/// Peak FLOP/s of `d` at precision `p` (falls back to fp16 for bf16 and vice versa).
double peak_flops(const Device& d, Precision p);

/// Optimizer (Adam) bytes moved per parameter: read and write fp32 master, m, v; read the
/// gradient; write the 16-bit weight.
double adam_bytes_per_param(Precision p);
/// Adam over `params` on the device: bounded by memory_bandwidth and by optimizer_rate if given.
double device_adam_time(const Device& d, double params, Precision p);

/// Per micro-batch times of one pipeline stage, in seconds.
struct StageTimes {
  double forward = 0, backward = 0;        ///< compute (backward includes recomputation)
  double tp_forward = 0, tp_backward = 0;  ///< tensor-parallel collectives
  double ep_forward = 0, ep_backward = 0;  ///< expert-parallel all-to-alls (dispatch, combine)
  /// FLOPs of the model's forward (MFU counts 3x these: Pass::model_flops) and of every pass run
  double model_forward_flops = 0, hardware_flops = 0;
  double busy() const { return forward + backward + tp_forward + tp_backward + ep_forward + ep_backward; }
  StageTimes& operator+=(const StageTimes& o);
  StageTimes operator*(double n) const;
};

/// The hardware threads the node's devices time-share: host.threads when the devices are the
/// host's own cores (host.shares_device_cores) and there are more of them than threads (MPI
/// ranks oversubscribing a CPU, as `calibrate --cpu --ranks` describes them); 0 otherwise.
/// Such a device's rates are its fair share, threads / devices of a thread.
int time_shared_threads(const Node& n);
/// The threads plan `p`'s expert phases are processor-shared over (shared_makespan): the node's
/// time_shared_threads when every device of a node is in the same phase, one device per rank
/// (tp = 1) and the node's devices all data-parallel ranks of one stage; 0 otherwise.
int expert_shared_threads(const Plan& p, const Node& n);

/// How long jobs that start together take on `threads` hardware threads they share: processor
/// sharing, each of the k unfinished jobs runs at min(1, threads / k) of a thread, so the
/// threads of the jobs that finish first go to the others. `fair`: each job's time at the fair
/// share threads / n of a thread (n = fair.size()). Equal jobs take their fair time; uneven ones
/// less than the longest one's fair time. Measured with 4 ranks on 2 cores computing 1, 3, 5
/// and 7 ms of CPU between all-to-alls: 9.4 ms per iteration; this gives 9, the fair share 14.
double shared_makespan(std::vector<double> fair, int threads);

/// Per micro-batch times of the building blocks of a model, each computed once.
struct BlockTimes {
  StageTimes dense_layer, embedding, head;
  std::vector<int> sparse_index;          ///< per layer: index into `sparse`, or -1 (dense)
  std::vector<StageTimes> sparse;         ///< one per sparse layer: all of it
  /// The parts of a sparse layer, in order: attention (+ gate), dispatch all-to-all, the
  /// busiest rank's experts, combine all-to-all (the DES runs the all-to-alls as flows). On a
  /// node whose devices time-share its cores (time_shared_threads), the experts take the
  /// shared_makespan of every rank's experts instead.
  struct SparseParts {
    StageTimes pre, experts;
    double a2a = 0;  ///< one all-to-all, closed form
    /// its parts: bytes over the node's links, bytes over the network, latencies (a2a, summed)
    double a2a_node = 0, a2a_network = 0, a2a_latency = 0;
    int traffic = 0; ///< index into sparse_traffic()
  };
  std::vector<SparseParts> parts;
};
BlockTimes block_times(const Scenario& sc, const workload::Layout& l, const std::vector<workload::SparseLayerTraffic>& traffic);

/// Times of model chunk `chunk` (0..pp*v-1; chunk c runs on stage c mod pp), one micro-batch.
StageTimes chunk_times(const Scenario& sc, const workload::Layout& l, const BlockTimes& b, int chunk);

/// Gradient reduction in buckets of `bucket` bytes that become ready evenly over a backward
/// window of `window` seconds; each bucket's all-reduce starts when it is ready and the previous
/// one is done. Returns how long the last bucket finishes after the window ends.
double exposed_bucketed(double grads, double bucket, double window, const Geometry& g, CollectiveAlgo algo);

/// ZeRO-3 / FSDP FULL_SHARD, one pass of model chunk `chunk` for one micro-batch: each unit (a
/// layer; the embedding on the first chunk; an untied head on the last) all-gathers its
/// parameters before its compute and, in the backward, reduce-scatters its gradients after it,
/// on one communication channel beside the compute. A unit's gather is issued as the previous
/// unit's compute starts (FSDP's backward prefetch; in the forward the CPU runs ahead of the
/// device), its reduce-scatter when its backward ends. Returns the time the pass takes beyond
/// its compute `pass_seconds` (spread evenly over its layers): the first gather, gathers longer
/// than a layer's compute, the last reduce-scatter. 0 without ZeRO-3 or data parallelism.
double zero3_exposed(const Scenario& sc, const workload::Layout& l, int chunk, double pass_seconds, bool backward);

/// Host<->device copy bandwidth one device gets when every device of the node copies at once:
/// min(its PCIe link, its share of the switch uplink, its share of host DRAM bandwidth).
double pcie_share(const Node& node);

/// The end of a step by placement (seconds): Adam on the device (device: the dense part and the
/// experts the step activated; ecss: the dense part), and the host path of offload / ecss:
/// gradients d2h, Adam on the host CPU, 16-bit weights h2d (offload: the dense part and the
/// activated experts; ecss: the activated experts). An expert no token reached has no gradient
/// and is not updated. The two run side by side. `expert_dp`: the all-reduce of expert
/// gradients over dp/ep replicas.
struct OptimizerPhase {
  double device_optimizer = 0, d2h = 0, host_optimizer = 0, h2d = 0, expert_dp = 0;
  /// plan.host_overlap layers: the host path cut into one job per layer (and one for the
  /// embedding / head weights) of the device. `share`: the job's fraction of the host path (its
  /// parameters); `ready`: when its gradients are final, seconds from the end of the step's last
  /// backward (<= 0: the backward of the layers before it is still running); `due`: when the
  /// next step's forward reaches it, seconds from the start of that forward (the forward of the
  /// layers before it). Empty: the host path runs after the backward, all at once.
  struct Job {
    double share = 0, ready = 0, due = 0;
  };
  std::vector<Job> jobs;
  /// Time on the critical path per category: max(device optimizer, host path) split in order.
  struct Exposed {
    double device_optimizer = 0, d2h = 0, host_optimizer = 0, h2d = 0;
    double host() const { return d2h + host_optimizer + h2d; }
  };
  Exposed exposed(bool serial = false) const;  /// serial: host path after the device optimizer
  /// The same for given host-path durations (the DES measures them under contention). With
  /// jobs, the host path is a flow shop of three resources in turn (the d2h direction of the
  /// device's PCIe link, the host CPU, the h2d direction), jobs in the order their gradients are
  /// ready, each job's copy and Adam `share` of the totals; the next step's forward starts after
  /// the device optimizer and waits for a layer whose weights are not back:
  ///   exposed = max(0, max over jobs (h2d end - (device_optimizer + due))),
  /// split over d2h, host Adam and h2d in that order (the parts the overlap hid come first).
  static Exposed expose(double d2h, double host_optimizer, double h2d, double device_optimizer, const std::vector<Job>& jobs,
                        bool serial);
};
/// `blocks` (block_times(sc, l, traffic)): with plan.host_overlap layers, the per-layer times
/// that place the host path's jobs; without it, or null, the host path runs after the backward.
OptimizerPhase optimizer_phase(const Scenario& sc, const workload::Layout& l,
                               const std::vector<workload::SparseLayerTraffic>& traffic, const BlockTimes* blocks = nullptr);
/// Parameters one device sends through the host path each step, gradients down and weights up
/// (offload: its share of the dense part and the activated experts; ecss: the activated experts;
/// device: none), for expert-parallel rank `ep_rank` (the busiest when < 0). `dp`:
/// workload::device_params(sc, l).
double host_path_params(const Scenario& sc, const workload::Layout& l, const workload::DeviceParams& dp,
                        const std::vector<workload::SparseLayerTraffic>& traffic, int ep_rank = -1);

/// Time of the pipeline part of a step for per-device micro-batch times `dev` (one entry per
/// stage, all chunks summed), m micro-batches and point-to-point message time c.
///   GPipe: sum f + (m-1) max f + sum b + (m-1) max b + 2(p-1)c (flow shop, exact on the graph)
///   1F1B:  sum busy + (m-1) max(max busy, 2c + max busy of stages < p-1) + 2(p-1)c
///   interleaved: m max busy + (sum busy - max busy)/v + 2(pv-1)c
struct PipelineTime {
  double total = 0, bubble = 0, pp = 0;
  int worst = 0;  ///< the busiest stage
};
PipelineTime pipeline_time(const std::vector<StageTimes>& dev, sparsim::Schedule schedule, int v, std::int64_t m, double c);

/// Evaluates one step. Never throws for a plan that cannot run: the result says why.
StepResult analytic_step(const Scenario& sc);
/// The same with the routing given: `routed` = workload::sparse_traffic(sc, layout_of(sc)), which
/// depends on the model, the expert-parallel degree, the micro-batch and the micro-batches per
/// step only, so a search over plans computes it once per such combination (analysis/plan.hpp).
/// `verdict_only`: stop once the memory does not fit (the result has its verdict, reasons and
/// memory, and no times): a search prunes such plans before timing them.
StepResult analytic_step(const Scenario& sc, const std::vector<workload::SparseLayerTraffic>* routed, bool verdict_only = false);

/// The block times and layer counts shared by the plans of a search that agree on everything
/// block_times and layer_counts read: tp, sequence parallelism, recomputation, the micro-batch,
/// whether a node's devices time-share its cores, and (sparse models) the routing, hence ep and
/// dp (analysis/plan.cpp keys them). The first plan to need them computes them, on whichever
/// thread; the others read the same numbers they would have computed themselves.
class SharedBlocks {
 public:
  void fill(const Scenario& sc, const workload::Layout& l, const std::vector<workload::SparseLayerTraffic>& traffic) {
    std::call_once(once_, [&] {
      blocks_ = block_times(sc, l, traffic);
      counts_ = layer_counts(sc, traffic);
    });
  }
  const BlockTimes& blocks() const { return blocks_; }  ///< after fill()
  const LayerCounts& counts() const { return counts_; }

 private:
  std::once_flag once_;
  BlockTimes blocks_;
  LayerCounts counts_;
};
/// The same with `shared` block times (nullptr: computed for this plan).
StepResult analytic_step(const Scenario& sc, const std::vector<workload::SparseLayerTraffic>* routed, bool verdict_only,
                         SharedBlocks* shared);

}  // namespace sparsim::sim
