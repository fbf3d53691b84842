#include "sim/analytic.hpp"

#include "config/error.hpp"

#include <algorithm>
#include <cmath>

#include "sim/collectives.hpp"
#include "workload/layout.hpp"
#include "workload/memory.hpp"
#include "workload/params.hpp"

namespace sparsim::sim {

using workload::LayerWork;
using workload::Op;
using workload::Pass;

double gemm_efficiency(const Device& d, double flops) {
  const auto& t = d.gemm_efficiency;
  SPARSIM_ASSERT(!t.empty(), "device without a gemm_efficiency table");
  if (flops <= t.front().flops) return t.front().efficiency;
  if (flops >= t.back().flops) return t.back().efficiency;
  for (size_t i = 1; i < t.size(); ++i) {
    if (flops <= t[i].flops) {
      const double x = (std::log(flops) - std::log(t[i - 1].flops)) / (std::log(t[i].flops) - std::log(t[i - 1].flops));
      return t[i - 1].efficiency + x * (t[i].efficiency - t[i - 1].efficiency);
    }
  }
  return t.back().efficiency;
}

double peak_flops(const Device& d, Precision p) {
  if (auto it = d.peak_flops.find(p); it != d.peak_flops.end()) return it->second;
  const Precision alt = p == Precision::bf16 ? Precision::fp16 : p == Precision::fp16 ? Precision::bf16 : p;
  if (auto it = d.peak_flops.find(alt); it != d.peak_flops.end()) return it->second;
  SPARSIM_UNREACHABLE(std::string("device ") + d.name + " has no peak for " + to_string(p));
}

double op_time(const Op& op, const Device& d, Precision p) {
  const double mem = op.bytes / d.memory_bandwidth;
  if (op.kind == workload::OpKind::memory) return mem;
  const double compute = op.flops / (peak_flops(d, p) * gemm_efficiency(d, op.flops));
  return std::max(compute, mem);
}

double adam_bytes_per_param(Precision p) {
  const workload::ParamBytes b = workload::param_bytes(p);
  return 2 * b.optimizer + b.grad + b.weight;
}

namespace {

double pass_time(const Pass& pass, const Scenario& sc) {
  double t = 0;
  for (const Op& o : pass.ops) t += op_time(o, sc.cluster.node.device, sc.training.precision);
  return t;
}

double tp_time(const Pass& pass, const Scenario& sc, const Geometry& tp) {
  return pass.tp_collectives * all_reduce(sc.plan.tp_algo, tp, pass.tp_bytes);
}

void add(StageTimes& st, const LayerWork& w, const Scenario& sc, const Geometry& tp) {
  st.forward += pass_time(w.forward, sc);
  st.backward += pass_time(w.backward, sc) + pass_time(w.recompute, sc);
  st.tp_forward += tp_time(w.forward, sc, tp);
  st.tp_backward += tp_time(w.backward, sc, tp) + tp_time(w.recompute, sc, tp);
  st.forward_flops += w.forward.flops();
  st.backward_flops += w.backward.flops();
  st.recompute_flops += w.recompute.flops();
}

}  // namespace

// Gradient reduction in buckets that become ready evenly over the backward window `window`;
// each bucket's collective starts when it is ready and the previous one is done. Returns the
// time the last bucket finishes after the window ends.
double exposed_bucketed(double grads, double bucket, double window, const Geometry& g, CollectiveAlgo algo) {
  const int n = std::max(1, static_cast<int>(std::ceil(grads / bucket)));
  double finish = 0;
  for (int i = 0; i < n; ++i) {
    const double bytes = i + 1 < n ? bucket : grads - bucket * (n - 1);
    const double ready = window * (i + 1) / n;
    finish = std::max(finish, ready) + all_reduce(algo, g, bytes);
  }
  return std::max(0.0, finish - window);
}

StageTimes& StageTimes::operator+=(const StageTimes& o) {
  forward += o.forward;
  backward += o.backward;
  tp_forward += o.tp_forward;
  tp_backward += o.tp_backward;
  forward_flops += o.forward_flops;
  backward_flops += o.backward_flops;
  recompute_flops += o.recompute_flops;
  return *this;
}

StageTimes StageTimes::operator*(double n) const {
  StageTimes t = *this;
  t.forward *= n;
  t.backward *= n;
  t.tp_forward *= n;
  t.tp_backward *= n;
  t.forward_flops *= n;
  t.backward_flops *= n;
  t.recompute_flops *= n;
  return t;
}

BlockTimes block_times(const Scenario& sc) {
  const workload::Layout l = workload::layout_of(sc);
  const workload::Shape s = workload::shape_of(sc);
  const Geometry tp = geometry(sc.cluster, l.tp);
  BlockTimes b;
  add(b.dense_layer, workload::dense_layer(s, sc.plan.recompute), sc, tp);
  add(b.embedding, workload::embedding(s), sc, tp);
  add(b.head, workload::head(s, sc.plan.recompute), sc, tp);
  return b;
}

StageTimes chunk_times(const Scenario& sc, const BlockTimes& b, int chunk) {
  const workload::Layout l = workload::layout_of(sc);
  const int chunks = sc.plan.pp * sc.plan.virtual_stages;
  StageTimes st = b.dense_layer * l.layers_per_stage;
  if (chunk == 0) st += b.embedding;
  if (chunk == chunks - 1) st += b.head;
  return st;
}

StepResult analytic_step(const Scenario& sc) {
  StepResult r;
  r.scenario = sc.name;
  r.backend = "analytic";
  r.devices = sc.cluster.devices();
  const workload::ParamCount pc = workload::count_params(sc.model);
  r.params_total = pc.total;
  r.params_active = pc.active;
  r.infeasible = workload::infeasibility(sc);
  if (sc.model.moe) r.infeasible.push_back("sparse (MoE/RRE) layers are not modelled by the analytic backend in this version");
  r.warnings = workload::plan_warnings(sc);
  if (!r.infeasible.empty()) {
    r.feasible = false;
    return r;
  }
  const Plan& p = sc.plan;
  const workload::Layout l = workload::layout_of(sc);
  r.micro_batches = l.micro_batches;
  r.memory = workload::memory(sc);
  if (!r.memory.fits()) r.warnings.push_back("does not fit in memory: see the memory line");

  // Per-device time of one micro-batch through all of this device's chunks; the slowest device
  // sets the pace of the pipeline.
  const BlockTimes blocks = block_times(sc);
  StageTimes worst;
  double fwd_flops = 0, hw_flops = 0;
  for (int stage = 0; stage < p.pp; ++stage) {
    StageTimes dev;
    for (int v = 0; v < p.virtual_stages; ++v) dev += chunk_times(sc, blocks, v * p.pp + stage);
    if (dev.busy() > worst.busy()) worst = dev;
    fwd_flops += dev.forward_flops;
    hw_flops += dev.forward_flops + dev.backward_flops + dev.recompute_flops;
  }
  const double m = l.micro_batches;
  const double per_mb = worst.busy();
  Breakdown& b = r.breakdown;
  b.compute = m * (worst.forward + worst.backward);
  b.tp = m * (worst.tp_forward + worst.tp_backward);
  b.pipeline_bubble = (p.pp - 1.0) / p.virtual_stages * per_mb;

  // Pipeline point-to-point: each micro-batch sends its activation (b, s, h) forward and its
  // gradient backward across each of the v chunk boundaries of a device.
  if (p.pp > 1) {
    const workload::Shape s = workload::shape_of(sc);
    const double bytes = s.b * s.s * s.h * s.eb / (p.sequence_parallel ? p.tp : 1);
    const double one = p2p(neighbour_level(sc.cluster, l.pp), bytes);
    b.pp = 2.0 * p.virtual_stages * (m + (p.pp - 1.0) / p.virtual_stages) * one;
  }

  // Data-parallel gradient reduction (ZeRO 1/2 do a reduce-scatter and an all-gather: the same
  // bytes on the wire as an all-reduce).
  const workload::DeviceParams dparams = workload::device_params(sc);
  const workload::ParamBytes pb = workload::param_bytes(sc.training.precision);
  if (p.dp > 1) {
    const Geometry dpg = geometry(sc.cluster, l.dp);
    const double grads = dparams.total() * pb.grad;
    if (p.overlap_dp) {
      b.dp = exposed_bucketed(grads, p.bucket, worst.backward + worst.tp_backward, dpg, p.dp_algo);
    } else {
      b.dp = all_reduce(p.dp_algo, dpg, grads);
    }
    if (p.zero >= 3) {
      // ZeRO-3 all-gathers the stage's weights before each forward and backward of every
      // micro-batch, prefetched under that pass's compute: only the excess is exposed.
      const double gather = all_gather(dpg, dparams.total() * pb.weight);
      b.dp += m * (std::max(0.0, gather - worst.forward) + std::max(0.0, gather - worst.backward));
    }
  }

  // Optimizer step.
  const double n_local = dparams.total() / (p.zero >= 1 ? p.dp : 1);
  const Node& node = sc.cluster.node;
  if (p.placement == Placement::device) {
    b.optimizer = n_local * adam_bytes_per_param(sc.training.precision) / node.device.memory_bandwidth;
  } else {
    // offload (ZeRO-Offload): gradients go to the host during the last backward, Adam runs on
    // the host CPU for the parameters of all devices of the node, new 16-bit weights come back.
    // Each device's copies share its PCIe link, its switch uplink and the host DRAM.
    const double link = std::min({node.host_link.bandwidth, node.host_link.switch_bandwidth / node.host_link.devices_per_switch,
                                  node.host.memory_bandwidth / node.devices});
    const double d2h = node.host_link.latency + n_local * pb.grad / link;
    const double h2d = node.host_link.latency + n_local * pb.weight / link;
    b.d2h = std::max(0.0, d2h - (worst.backward + worst.tp_backward));
    b.h2d = h2d;
    const double node_params = n_local * node.devices;
    // Adam on the host: bytes through DRAM (fp32 master, m, v read and written, grad read,
    // weight written) or ~10 FLOP per parameter on all cores, whichever is slower.
    const double bytes = node_params * (24.0 + pb.grad + pb.weight);
    b.host_optimizer = std::max(bytes / node.host.memory_bandwidth, 10.0 * node_params / node.host.flops);
  }

  r.step_time = b.total();
  const double tokens = double(sc.training.global_batch) * sc.model.seq_len;
  r.tokens_per_s = tokens / r.step_time;
  // FLOPs per step: per-device flops x tp ranks x micro-batches x data-parallel replicas.
  const double scale = double(p.tp) * m * p.dp;
  r.model_flops = 3.0 * fwd_flops * scale;
  r.hardware_flops = hw_flops * scale;
  r.tflops_per_device = r.hardware_flops / r.step_time / r.devices / 1e12;
  r.mfu = r.model_flops / r.step_time / (r.devices * peak_flops(node.device, sc.training.precision));
  return r;
}

}  // namespace sparsim::sim
