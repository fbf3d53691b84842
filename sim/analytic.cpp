#include "sim/analytic.hpp"

#include "config/error.hpp"

#include <algorithm>
#include <cmath>

#include "sim/collectives.hpp"
#include "sim/counts.hpp"
#include "sim/schedule.hpp"
#include "workload/layout.hpp"
#include "workload/memory.hpp"
#include "workload/params.hpp"
#include "workload/sparse.hpp"

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

namespace {

double measured_gemm_rate(const Device& d, const workload::GemmCall& c, bool windowed) {
  const double dims[3] = {c.m, c.n, c.k};
  for (int free = 0; free < 3; ++free) {  // the dimension interpolated over: m, n, then k
    const int a = (free + 1) % 3, b = (free + 2) % 3;
    std::vector<std::pair<double, double>> line;  // (free dimension, rate) of the rows on this line
    for (const GemmShapeRate& g : d.gemm_shapes) {
      const double gd[3] = {g.m, g.n, g.k};
      if ((g.window > 1) == windowed && g.trans == c.trans && gd[a] == dims[a] && gd[b] == dims[b])
        line.emplace_back(gd[free], g.flop_rate);
    }
    if (line.empty()) continue;
    std::sort(line.begin(), line.end());
    const double x = dims[free];
    if (x <= line.front().first) return line.front().second;
    if (x >= line.back().first) return line.back().second;
    for (std::size_t i = 1; i < line.size(); ++i) {
      if (x <= line[i].first) {
        const auto [x0, r0] = line[i - 1];
        const auto [x1, r1] = line[i];
        return r0 + (std::log(x) - std::log(x0)) / (std::log(x1) - std::log(x0)) * (r1 - r0);
      }
    }
  }
  return 0;
}

}  // namespace

double measured_gemm_rate(const Device& d, const workload::GemmCall& c) {
  // a varying token count takes the window-averaged rows, a fixed one the exact rows; either
  // falls back to the other kind when its own has no match
  const double rate = measured_gemm_rate(d, c, c.varies);
  return rate > 0 ? rate : measured_gemm_rate(d, c, !c.varies);
}

double gemm_time(const workload::GemmCall& c, const Device& d, Precision p, double eb) {
  SPARSIM_ASSERT(d.compute_units > 0 && !d.gemm_tiles.empty() && d.gemm_plateau > 0, "gemm_time: no tile model");
  const double units = d.compute_units;
  const double unit_rate = peak_flops(d, p) / units * d.gemm_plateau;
  // the epilogue streams the tile out as a GEMM library does, at the HBM's rate (memory_efficiency
  // is the framework's element-wise kernels')
  const double unit_bandwidth = d.memory_bandwidth / units;
  double best = 0;
  for (const auto& [tm, tn] : d.gemm_tiles) {
    for (const double split : {1.0, 2.0, 4.0}) {
      if (split > 1 && c.k / split < 512) break;
      const double tiles = std::ceil(c.m / tm) * std::ceil(c.n / tn) * c.count * split;
      // split-K only pays when the unsplit tiles leave units idle
      if (split > 1 && tiles / split >= units) break;
      const double waves = std::ceil(tiles / units);
      const double out = split > 1 ? 4.0 : eb;  // split-K slices write fp32 partials
      const double tile = 2.0 * tm * tn * std::ceil(c.k / split) / unit_rate + tm * tn * out / unit_bandwidth;
      double t = waves * tile;
      if (split > 1) t += c.m * c.n * c.count * (4.0 * split + eb) / d.memory_bandwidth;
      if (best == 0 || t < best) best = t;
    }
  }
  const double bytes = (c.m * c.k + c.k * c.n + c.m * c.n) * eb * c.count;
  return std::max(best, bytes / d.memory_bandwidth);
}

double attention_time(const Op& op, const Device& d, Precision p) {
  const double bandwidth = d.memory_bandwidth * d.memory_efficiency;
  // non-matrix FP32 work on the CUDA cores (peak_flops.fp32 of a GPU); exps there too without
  // an exp rate
  const double fp32 = peak_flops(d, Precision::fp32);
  const double exp_rate = d.exp_rate > 0 ? d.exp_rate : fp32;
  if (d.compute_units == 0 || op.tiles <= 0) {
    const double matrix = op.flops / (peak_flops(d, p) * gemm_efficiency(d, op.flops));
    return std::max(op.bytes / bandwidth, matrix + op.exps / exp_rate + op.element_ops / fp32);
  }
  const double units = d.compute_units;
  const double forward = d.attention_plateau > 0 ? d.attention_plateau : d.gemm_plateau;
  const double plateau = op.backward && d.attention_backward_plateau > 0 ? d.attention_backward_plateau : forward;
  const double per_tile = (op.flops / (peak_flops(d, p) * plateau) + op.exps / exp_rate + op.element_ops / fp32) *
                          units / op.tiles;  // one unit's time for one (average) tile
  return std::max(op.bytes / bandwidth, std::ceil(op.tiles / units) * per_tile);
}

double op_time(const Op& op, const Device& d, Precision p) {
  const double mem = op.bytes / (d.memory_bandwidth * d.memory_efficiency);
  double t = 0, kernels = 1;
  if (op.kind == workload::OpKind::memory) {
    const auto measured = op.kernel.empty() ? d.vector_rates.end() : d.vector_rates.find(op.kernel);
    const double rate = measured != d.vector_rates.end() ? measured->second : d.vector_flops;
    t = rate > 0 ? std::max(mem, op.vflops / rate) : mem;
  } else if (op.kind == workload::OpKind::attention) {
    t = attention_time(op, d, p);
  } else if (!d.gemm_shapes.empty() && !op.calls.empty()) {
    // each GEMM at its measured shape's rate; a shape off the table at the FLOP-keyed efficiency
    double compute = 0;
    for (const workload::GemmCall& c : op.calls) {
      const double rate = measured_gemm_rate(d, c);
      compute += c.flops() / (rate > 0 ? rate : peak_flops(d, p) * gemm_efficiency(d, c.flops() / c.count));
    }
    t = std::max(compute, mem);
  } else if (d.compute_units > 0 && !d.gemm_tiles.empty() && !op.calls.empty()) {
    // by shape: each call one kernel, its operands at the op's element size
    const double eb = workload::element_bytes(p);
    for (const workload::GemmCall& c : op.calls) t += std::max(gemm_time(c, d, p, eb), d.kernel_overhead);
    return t;
  } else {
    t = std::max(op.flops / (peak_flops(d, p) * gemm_efficiency(d, op.flops / op.count)), mem);
    kernels = std::max<double>(1, static_cast<double>(op.calls.size()));
  }
  return std::max(t, kernels * d.kernel_overhead);
}

double adam_bytes_per_param(Precision p) {
  const workload::ParamBytes b = workload::param_bytes(p);
  return 2 * b.optimizer + b.grad + b.weight;
}

double device_adam_time(const Device& d, double params, Precision p) {
  const double mem = params * adam_bytes_per_param(p) / d.memory_bandwidth;
  return d.optimizer_rate > 0 ? std::max(mem, params / d.optimizer_rate) : mem;
}

namespace {

double pass_time(const Pass& pass, const Scenario& sc) {
  double t = 0;
  for (const Op& o : pass.ops) t += op_time(o, sc.cluster.node.device, sc.training.precision);
  return t;
}

double tp_time(const Pass& pass, const Scenario& sc, const Geometry& tp) {
  double t = 0;
  for (double bytes : pass.tp) t += all_reduce(sc.plan.tp_algo, tp, bytes);
  return t;
}

void add(StageTimes& st, const LayerWork& w, const Scenario& sc, const Geometry& tp) {
  st.forward += pass_time(w.forward, sc);
  st.backward += pass_time(w.backward, sc) + pass_time(w.recompute, sc);
  st.tp_forward += tp_time(w.forward, sc, tp);
  st.tp_backward += tp_time(w.backward, sc, tp) + tp_time(w.recompute, sc, tp);
  st.model_forward_flops += w.forward.model_flops();
  st.hardware_flops += w.forward.flops() + w.backward.flops() + w.recompute.flops();
}

}  // namespace

// Gradient reduction in buckets that become ready evenly over the backward window `window`;
// each bucket's collective starts when it is ready and the previous one is done. Returns the
// time the last bucket finishes after the window ends. In closed form (no loop over the
// buckets: a small bucket makes billions of them): n = ceil(grads / bucket) buckets, all full
// but the last, ready every d = window / n. A full bucket's collective takes c; bucket i ends at
// f_i = max(f_(i-1), (i+1) d) + c, so f_i = (i+1) d + c while c <= d (each bucket waits for its
// release) and f_i = d + (i+1) c when c > d (each waits for the one before). The last bucket
// starts at max(f_(n-2), window).
double exposed_bucketed(double grads, double bucket, double window, const Geometry& g, CollectiveAlgo algo) {
  const double n = std::max(1.0, std::ceil(grads / bucket));
  const double d = window / n, c = all_reduce(algo, g, bucket);
  const double full_done = n < 2 ? 0.0 : c <= d ? (n - 1) * d + c : d + (n - 1) * c;
  const double finish = std::max(full_done, window) + all_reduce(algo, g, grads - bucket * (n - 1));
  return std::max(0.0, finish - window);
}

StageTimes& StageTimes::operator+=(const StageTimes& o) {
  forward += o.forward;
  backward += o.backward;
  tp_forward += o.tp_forward;
  tp_backward += o.tp_backward;
  ep_forward += o.ep_forward;
  ep_backward += o.ep_backward;
  model_forward_flops += o.model_forward_flops;
  hardware_flops += o.hardware_flops;
  return *this;
}

StageTimes StageTimes::operator*(double n) const {
  StageTimes t = *this;
  t.forward *= n;
  t.backward *= n;
  t.tp_forward *= n;
  t.tp_backward *= n;
  t.ep_forward *= n;
  t.ep_backward *= n;
  t.model_forward_flops *= n;
  t.hardware_flops *= n;
  return t;
}

int time_shared_threads(const Node& n) {
  const int threads = std::max(n.host.threads, n.host.cores);
  return n.host.shares_device_cores && threads > 0 && n.devices > threads ? threads : 0;
}

int expert_shared_threads(const Plan& p, const Node& n) {
  return p.tp == 1 && p.dp % n.devices == 0 ? time_shared_threads(n) : 0;
}

double shared_makespan(std::vector<double> fair, int threads) {
  SPARSIM_ASSERT(threads > 0, "shared_makespan: no threads");
  const double n = static_cast<double>(fair.size());
  if (fair.empty()) return 0;
  // work in thread-seconds: the fair share is threads / n of a thread
  std::sort(fair.begin(), fair.end());
  double t = 0, done = 0;
  for (std::size_t i = 0; i < fair.size(); ++i) {
    const double work = fair[i] * std::min(1.0, threads / n);
    const double running = n - static_cast<double>(i);
    t += (work - done) / std::min(1.0, threads / running);
    done = work;
  }
  return t;
}

BlockTimes block_times(const Scenario& sc, const workload::Layout& l, const std::vector<workload::SparseLayerTraffic>& traffic) {
  const workload::Shape s = workload::shape_of(sc);
  const Geometry tp = geometry(sc.cluster, l.tp);
  const int etp = sc.plan.expert_tp(), groups = sc.plan.tp / etp;
  const Geometry etp_group = geometry(sc.cluster, workload::Group{etp, 1});  // an expert's devices
  BlockTimes b;
  const Node& node = sc.cluster.node;
  const int shared_threads = expert_shared_threads(sc.plan, node);
  add(b.dense_layer, workload::dense_layer(s, sc.plan.recompute), sc, tp);
  add(b.embedding, workload::embedding(s), sc, tp);
  add(b.head, workload::head(s, sc.plan.recompute), sc, tp);
  b.sparse_index.assign(sc.model.layers, -1);
  if (sc.model.moe) {
    const Moe& e = *sc.model.moe;
    // Every sparse layer's pre-block (attention, gate, shared experts) is the same work, and
    // layers whose busiest rank got the same tokens run the same experts: each is built and
    // timed once (a deterministic function of its inputs: the same numbers as building it per
    // layer, faster when the plan search evaluates many plans of a deep model).
    StageTimes pre;
    add(pre, workload::sparse_pre_block(s, e, sc.plan.recompute), sc, tp);
    std::vector<std::pair<const workload::SparseLayerTraffic*, StageTimes>> experts_of;  // layers timed so far
    for (size_t i = 0; i < traffic.size(); ++i) {
      const workload::SparseLayerTraffic& tr = traffic[i];
      const Geometry ep = geometry(sc.cluster, workload::Group{tr.group, sc.plan.tp});
      BlockTimes::SparseParts part;
      part.pre = pre;
      const auto same = std::find_if(experts_of.begin(), experts_of.end(), [&](const auto& seen) {
        const workload::SparseLayerTraffic& o = *seen.first;
        return o.busiest_rank_tokens == tr.busiest_rank_tokens && o.local_experts == tr.local_experts &&
               o.busiest_expert_tokens == tr.busiest_expert_tokens && (groups == 1 || o.rank_expert_tokens == tr.rank_expert_tokens);
      });
      if (same != experts_of.end()) {
        part.experts = same->second;
      } else {
        // the busiest rank's experts, or with plan.etp its busiest sub-group's, each over its etp devices
        const workload::DeviceExperts x = groups == 1 ? workload::DeviceExperts{tr.busiest_rank_tokens, tr.local_experts, tr.busiest_expert_tokens}
                                                      : workload::device_experts(tr, -1, groups);
        add(part.experts, workload::expert_block(s, x.tokens, x.experts, e.expert_ffn_hidden, sc.plan.recompute, x.expert_tokens, etp), sc,
            etp_group);
        if (experts_of.size() < 8) experts_of.emplace_back(&tr, part.experts);  // a few distinct loads: a short search
      }
      if (shared_threads > 0) {
        // The node's devices are ranks time-sharing its cores: each expert phase (forward;
        // backward) lasts until the node's last rank is done, and the ranks that finish first
        // leave their share to the others. Node k holds data-parallel ranks kD..kD+D-1, expert
        // rank d mod ep; the slowest node sets the pace.
        std::vector<StageTimes> of_rank(sc.plan.ep);
        for (int r = 0; r < sc.plan.ep; ++r) {
          const std::vector<double>& mine = tr.rank_expert_tokens[r];
          double sum = 0;
          for (double x : mine) sum += x;
          if (sum > 0)
            add(of_rank[r], workload::expert_block(s, sum, tr.local_experts, e.expert_ffn_hidden, sc.plan.recompute, mine), sc, tp);
        }
        const int D = node.devices;
        part.experts.forward = part.experts.backward = 0;
        for (int k = 0; k < std::max(1, sc.plan.ep / D); ++k) {
          std::vector<double> fwd, bwd;
          for (int d = k * D; d < (k + 1) * D; ++d) {
            fwd.push_back(of_rank[d % sc.plan.ep].forward);
            bwd.push_back(of_rank[d % sc.plan.ep].backward);
          }
          part.experts.forward = std::max(part.experts.forward, shared_makespan(fwd, shared_threads));
          part.experts.backward = std::max(part.experts.backward, shared_makespan(bwd, shared_threads));
        }
      }
      if (sc.plan.ep_algo == CollectiveAlgo::hierarchical_a2a && tr.per_node > 1) {
        SPARSIM_ASSERT(ep.per_node == tr.per_node, "hierarchical all-to-all: the routing and the geometry disagree on ranks per node");
        part.a2a = hierarchical_all_to_all(ep, tr.intra_phase_bytes / sc.plan.tp, tr.inter_phase_bytes / sc.plan.tp);
        part.a2a_node = tr.intra_phase_bytes / sc.plan.tp / ep.intra.bandwidth;
        part.a2a_network = tr.inter_phase_bytes / sc.plan.tp / ep.inter.bandwidth;
      } else {
        part.a2a = all_to_all(ep, tr.pairwise_bytes / sc.plan.tp);
        const double bytes = ep.size > 1 ? tr.pairwise_bytes / sc.plan.tp / slowest_level(ep).bandwidth : 0.0;
        (ep.per_node >= ep.size ? part.a2a_node : part.a2a_network) = bytes;
      }
      part.a2a_latency = part.a2a - part.a2a_node - part.a2a_network;
      part.traffic = static_cast<int>(i);
      // The whole layer: its parts plus dispatch and combine in every pass that runs the
      // experts (forward, backward, and the recomputed forward under full recomputation).
      StageTimes st = part.pre;
      st += part.experts;
      st.ep_forward = 2 * part.a2a;
      st.ep_backward = (sc.plan.recompute == Recompute::full ? 4 : 2) * part.a2a;
      b.parts.push_back(part);
      b.sparse_index[tr.layer] = static_cast<int>(b.sparse.size());
      b.sparse.push_back(st);
    }
  }
  return b;
}

StageTimes chunk_times(const Scenario& sc, const workload::Layout& l, const BlockTimes& b, int chunk) {
  const int chunks = sc.plan.pp * sc.plan.virtual_stages;
  StageTimes st;
  for (int layer = chunk * l.layers_per_stage; layer < (chunk + 1) * l.layers_per_stage; ++layer) {
    st += b.sparse_index[layer] < 0 ? b.dense_layer : b.sparse[b.sparse_index[layer]];
  }
  if (chunk == 0) st += b.embedding;
  if (chunk == chunks - 1) st += b.head;
  return st;
}

namespace {

/// The parameters one device updates per step: its dense share and its experts, each divided by
/// the replicas ZeRO-1 and up shard the update over.
struct Updated {
  double dense = 0, experts = 0;
};
Updated updated_params(const Scenario& sc, const workload::Layout& l, const workload::DeviceParams& dp,
                       const std::vector<workload::SparseLayerTraffic>& traffic, int ep_rank) {
  const Plan& p = sc.plan;
  const double d = p.zero >= 1 ? double(p.dp) : 1.0, de = p.zero >= 1 ? double(std::max<std::int64_t>(1, p.dp / p.ep)) : 1.0;
  // Plain heterogeneous training (offload) does not know which experts a step used: every
  // expert's gradient (zero where no token came) goes to the host, Adam updates all of them and
  // every weight comes back (MindSpore's optimizer heterogeneity runs the optimizer sub-graph
  // over all parameters, published-figures §1.4; the reference trainer's offload does the same).
  if (p.placement == Placement::offload) return {dp.dense / d, dp.experts / de};
  // Elsewhere an expert no token reached this step has no gradient, and its update is skipped:
  // PyTorch's optimizers skip a parameter whose gradient is None, ECSS updates only the experts
  // the step activated, and the reference trainer does the same.
  return {dp.dense / d, workload::activated_expert_params(sc, l, dp, traffic, ep_rank) / de};
}

}  // namespace

double host_path_params(const Scenario& sc, const workload::Layout& l, const workload::DeviceParams& dp,
                        const std::vector<workload::SparseLayerTraffic>& traffic, int ep_rank) {
  const Updated u = updated_params(sc, l, dp, traffic, ep_rank);
  switch (sc.plan.placement) {
    case Placement::device: return 0;
    case Placement::offload: return u.dense + u.experts;
    case Placement::ecss: return u.experts;
  }
  return 0;
}

namespace {

/// The host path's jobs of plan.host_overlap layers (OptimizerPhase::Job), on the stage that
/// device_params counts (the one holding the most sparse layers). The device's chunks run one
/// after the other; the last micro-batch's backward and the next step's first forward are the
/// windows (a conservative reading for pp > 1, whose later stages start their forward later).
/// A job's parameters: ecss, the experts of a sparse layer (equal shares); offload, every
/// layer's dense part and experts, and the embedding / head weights of the stage's edge, each
/// sharded as ZeRO shards the update.
std::vector<OptimizerPhase::Job> host_jobs(const Scenario& sc, const workload::Layout& l, const BlockTimes& b) {
  const Plan& p = sc.plan;
  const Model& m = sc.model;
  int stage = 0, most = -1;
  for (int s = 0; s < p.pp; ++s) {
    int sparse = 0;
    for (int v = 0; v < p.virtual_stages; ++v)
      for (int i = (v * p.pp + s) * l.layers_per_stage; i < (v * p.pp + s + 1) * l.layers_per_stage; ++i) sparse += b.sparse_index[i] >= 0;
    if (sparse > most) most = sparse, stage = s;
  }
  const workload::ParamCount c = workload::count_params(m);
  const double d = p.zero >= 1 ? double(p.dp) : 1.0, de = p.zero >= 1 ? double(std::max<std::int64_t>(1, p.dp / p.ep)) : 1.0;
  const double experts = m.moe ? double(m.moe->experts) / p.ep * c.expert / de : 0.0;
  const bool all = p.placement == Placement::offload;
  // (parameters, forward, backward) of each item of the device, in forward order
  struct Item {
    double params, fwd, bwd;
  };
  auto fwd = [](const StageTimes& t) { return t.forward + t.tp_forward + t.ep_forward; };
  auto bwd = [](const StageTimes& t) { return t.backward + t.tp_backward + t.ep_backward; };
  const double emb = m.vocab * double(m.hidden) + (m.learned_positions ? m.seq_len * double(m.hidden) : 0);
  std::vector<Item> items;
  for (int v = 0; v < p.virtual_stages; ++v) {
    const int chunk = v * p.pp + stage, chunks = p.pp * p.virtual_stages;
    if (chunk == 0) items.push_back({all ? (p.pp == 1 ? c.embedding : emb) / d : 0.0, fwd(b.embedding), bwd(b.embedding)});
    for (int i = chunk * l.layers_per_stage; i < (chunk + 1) * l.layers_per_stage; ++i) {
      const int k = b.sparse_index[i];
      const StageTimes& t = k < 0 ? b.dense_layer : b.sparse[k];
      const double dense = k < 0 ? c.dense_layer() : c.sparse_layer_dense_part();
      items.push_back({(all ? dense / d : 0.0) + (k >= 0 ? experts : 0.0), fwd(t), bwd(t)});
    }
    if (chunk == chunks - 1) {
      const double head = p.pp == 1 ? 0.0 : c.embedding - emb + (m.tied_embeddings ? emb : 0.0);  // as device_params
      items.push_back({all ? head / d : 0.0, fwd(b.head), bwd(b.head)});
    }
  }
  double total = 0;
  for (const Item& x : items) total += x.params;
  std::vector<OptimizerPhase::Job> jobs;
  double before_f = 0, before_b = 0;  // forward and backward of the items before this one
  for (const Item& x : items) {
    if (x.params > 0 && total > 0) jobs.push_back({x.params / total, -before_b, before_f});
    before_f += x.fwd;
    before_b += x.bwd;
  }
  std::stable_sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& z) { return a.ready < z.ready; });
  return jobs;
}

}  // namespace

OptimizerPhase optimizer_phase(const Scenario& sc, const workload::Layout& l,
                               const std::vector<workload::SparseLayerTraffic>& traffic, const BlockTimes* blocks) {
  const Plan& p = sc.plan;
  const Node& node = sc.cluster.node;
  const workload::ParamBytes pb = workload::param_bytes(sc.training.precision);
  const workload::DeviceParams dp = workload::device_params(sc, l);
  OptimizerPhase o;
  const Updated u = updated_params(sc, l, dp, traffic, -1);
  const double host_params = host_path_params(sc, l, dp, traffic);  // parameters one device updates on the host
  if (p.placement == Placement::device) o.device_optimizer = device_adam_time(node.device, u.dense + u.experts, sc.training.precision);
  if (p.placement == Placement::ecss) o.device_optimizer = device_adam_time(node.device, u.dense, sc.training.precision);
  if (host_params > 0) {
    // Gradients to the host, Adam on the host CPU for the parameters of all devices of the
    // node, new 16-bit weights back. Each device's copies share its PCIe link, its switch
    // uplink and the host DRAM.
    const double link = pcie_share(node);
    o.d2h = node.host_link.latency + host_params * pb.grad / link;
    o.h2d = node.host_link.latency + host_params * pb.weight / link;
    // Adam on the host: bytes through DRAM (fp32 master, m, v read and written, grad read,
    // weight written), ~10 FLOP per parameter on all cores, or the measured AdamW rate where
    // the node file gives one, whichever is slowest.
    const double node_params = host_params * node.devices;
    o.host_optimizer = std::max({node_params * (24.0 + pb.grad + pb.weight) / node.host.memory_bandwidth,
                                 10.0 * node_params / node.host.flops,
                                 node.host.optimizer_rate > 0 ? node_params / node.host.optimizer_rate : 0.0});
  }
  if (host_params > 0 && blocks != nullptr && p.host_overlap == HostOverlap::layers) o.jobs = host_jobs(sc, l, *blocks);
  // Expert gradients are reduced over the dp/ep replicas that hold the same experts.
  if (sc.model.moe && p.dp / p.ep > 1) {
    const Geometry edp = geometry(sc.cluster, workload::Group{p.dp / p.ep, std::int64_t{p.tp} * p.ep});
    o.expert_dp = all_reduce(p.dp_algo, edp, dp.experts * pb.grad);
  }
  return o;
}

OptimizerPhase::Exposed OptimizerPhase::exposed(bool serial) const {
  return expose(d2h, host_optimizer, h2d, device_optimizer, jobs, serial);
}

OptimizerPhase::Exposed OptimizerPhase::expose(double d2h, double host_optimizer, double h2d, double device_optimizer,
                                               const std::vector<Job>& jobs, bool serial) {
  // The device optimizer and the host path (d2h -> host Adam -> h2d) run side by side; the
  // device optimizer hides the start of the host path. On a CPU whose cores are the devices
  // (host.shares_device_cores) one runs after the other, and nothing overlaps their compute.
  Exposed x;
  x.device_optimizer = device_optimizer;
  double hidden = serial ? 0.0 : device_optimizer;
  if (!serial && !jobs.empty()) {
    // Layer by layer: a flow shop over the d2h lane, the host CPU and the h2d lane.
    double D = -1e300, C = -1e300, U = -1e300, late = 0;
    for (const Job& j : jobs) {
      D = std::max(j.ready, D) + d2h * j.share;
      C = std::max(D, C) + host_optimizer * j.share;
      U = std::max(C, U) + h2d * j.share;
      late = std::max(late, U - (device_optimizer + j.due));
    }
    hidden = std::max(0.0, d2h + host_optimizer + h2d - late);
  }
  auto take = [&](double t) {
    const double h = std::min(hidden, t);
    hidden -= h;
    return t - h;
  };
  x.d2h = take(d2h);
  x.host_optimizer = take(host_optimizer);
  x.h2d = take(h2d);
  return x;
}

double zero3_exposed(const Scenario& sc, const workload::Layout& l, int chunk, double pass_seconds, bool backward) {
  const Plan& p = sc.plan;
  if (p.zero < 3 || p.dp <= 1) return 0.0;
  const Geometry dpg = geometry(sc.cluster, l.dp);
  const workload::ParamCount c = workload::count_params(sc.model);
  const double weight = workload::param_bytes(sc.training.precision).weight, reduce = workload::grad_reduce_bytes(sc);
  const int chunks = p.pp * p.virtual_stages, n = l.layers_per_stage;
  // the units of the pass in forward order: (parameters on this device, compute seconds)
  std::vector<std::pair<double, double>> units;
  const double emb = sc.model.vocab * double(sc.model.hidden) + (sc.model.learned_positions ? sc.model.seq_len * double(sc.model.hidden) : 0);
  if (chunk == 0) units.emplace_back(emb / p.tp, 0.0);
  for (int i = chunk * n; i < (chunk + 1) * n; ++i)
    units.emplace_back(workload::zero3_unit_params(sc, c, sc.model.is_sparse_layer(i)), pass_seconds / n);
  // a tied head uses the embedding's parameters, which the root unit keeps gathered
  if (chunk == chunks - 1 && !sc.model.tied_embeddings) units.emplace_back(emb / p.tp, 0.0);
  if (backward) std::reverse(units.begin(), units.end());
  auto gather = [&](std::size_t i) { return all_gather(dpg, units[i].first * weight); };
  double compute = 0, comm = gather(0), ready = comm;  // the first gather has nothing to hide behind
  for (std::size_t i = 0; i < units.size(); ++i) {
    const double start = std::max(compute, ready);
    if (i + 1 < units.size()) ready = comm = std::max(comm, start) + gather(i + 1);  // prefetch the next
    compute = start + units[i].second;
    if (backward) comm = std::max(comm, compute) + all_gather(dpg, units[i].first * reduce);  // reduce-scatter
  }
  return std::max(compute, comm) - pass_seconds;
}

double pcie_share(const Node& node) {
  return std::min({node.host_link.bandwidth, node.host_link.switch_bandwidth / node.host_link.devices_per_switch,
                   node.host.memory_bandwidth / node.devices});
}

PipelineTime pipeline_time(const std::vector<StageTimes>& dev, sparsim::Schedule schedule, int v, std::int64_t m, double c) {
  const int p = static_cast<int>(dev.size());
  PipelineTime pt;
  double sum_busy = 0, sum_f = 0, sum_b = 0, max_f = 0, max_b = 0, max_other = 0;
  for (int s = 0; s < p; ++s) {
    const double f = dev[s].forward + dev[s].tp_forward + dev[s].ep_forward;
    const double bw = dev[s].backward + dev[s].tp_backward + dev[s].ep_backward;
    sum_busy += f + bw;
    sum_f += f;
    sum_b += bw;
    max_f = std::max(max_f, f);
    max_b = std::max(max_b, bw);
    if (dev[s].busy() > dev[pt.worst].busy()) pt.worst = s;
    if (s < p - 1) max_other = std::max(max_other, f + bw);
  }
  const double busy = dev[pt.worst].busy();
  // The first activation and the last gradient cross every chunk boundary: p*v - 1 of them.
  const double ramp = 2.0 * (p * v - 1) * c;
  double steady = busy;                    // time between micro-batches in the steady state
  double fill = 0;                         // everything before and after it
  switch (schedule) {
    case sparsim::Schedule::gpipe:
      // Forwards flow through the stages, then backwards: a flow shop of identical jobs twice.
      pt.total = sum_f + (m - 1) * max_f + sum_b + (m - 1) * max_b + ramp;
      pt.pp = ramp;
      pt.bubble = std::max(0.0, pt.total - ramp - m * busy);
      return pt;
    case sparsim::Schedule::one_f_one_b:
      // A stage s < p-1 waits for the gradient of stage s+1 between its backward and its next
      // forward: the steady state runs at max(busiest stage, 2c + busiest stage but the last).
      steady = std::max(busy, 2 * c + max_other);
      fill = sum_busy - busy;
      break;
    case sparsim::Schedule::interleaved:
      // Megatron-LM's interleaved 1F1B: the fill and drain shrink by v.
      fill = (sum_busy - busy) / v;
      break;
  }
  pt.total = m * busy + fill + (m - 1) * (steady - busy) + ramp;
  pt.bubble = std::max(0.0, fill);
  pt.pp = ramp + (m - 1) * (steady - busy);
  return pt;
}

StepResult analytic_step(const Scenario& sc) { return analytic_step(sc, nullptr); }

StepResult analytic_step(const Scenario& sc, const std::vector<workload::SparseLayerTraffic>* routed, bool verdict_only) {
  return analytic_step(sc, routed, verdict_only, nullptr);
}

StepResult analytic_step(const Scenario& sc, const std::vector<workload::SparseLayerTraffic>* routed, bool verdict_only,
                         SharedBlocks* shared) {
  StepResult r;
  r.scenario = sc.name;
  r.backend = "analytic";
  r.devices = sc.cluster.devices();
  const workload::ParamCount pc = workload::count_params(sc.model);
  r.params_total = pc.total;
  r.params_active = pc.active;
  r.infeasible = workload::infeasibility(sc);
  const workload::Layout l = workload::layout_of(sc);  // once per evaluation; an infeasible plan has one too
  r.warnings = workload::plan_warnings(sc, l);
  if (!r.infeasible.empty()) {
    r.feasible = false;
    return r;
  }
  const Plan& p = sc.plan;
  r.micro_batches = l.micro_batches;
  std::vector<workload::SparseLayerTraffic> own;
  if (routed == nullptr) {
    own = workload::sparse_traffic(sc, l);
    routed = &own;
  }
  const std::vector<workload::SparseLayerTraffic>& traffic = *routed;
  r.memory = workload::memory(sc, l, &traffic);
  if (verdict_only && !r.memory.fits()) return r;
  if (shared != nullptr) shared->fill(sc, l, traffic);
  r.counts = shared != nullptr ? step_counts(sc, l, traffic, shared->counts()) : step_counts(sc, l, traffic);

  // Per-device time of one micro-batch through all of this device's chunks.
  BlockTimes own_blocks;
  const BlockTimes& blocks = shared != nullptr ? shared->blocks() : (own_blocks = block_times(sc, l, traffic));
  std::vector<StageTimes> dev(p.pp);
  double fwd_flops = 0, hw_flops = 0;
  for (int stage = 0; stage < p.pp; ++stage) {
    for (int v = 0; v < p.virtual_stages; ++v) dev[stage] += chunk_times(sc, l, blocks, v * p.pp + stage);
    fwd_flops += dev[stage].model_forward_flops;
    hw_flops += dev[stage].hardware_flops;
  }
  // plan.overlap_ep: each stage's all-to-alls hidden under the compute of the pass beside them
  // (schedule.hpp), taken from its forward and backward all-to-alls in proportion.
  const std::vector<double> hidden = overlap_hidden(sc, l, blocks);
  for (std::size_t s = 0; s < hidden.size(); ++s) {
    StageTimes& d = dev[s];
    const double ep = d.ep_forward + d.ep_backward;
    SPARSIM_ASSERT(hidden[s] <= ep * (1 + 1e-9) + 1e-15, "overlap_ep hides more than the stage's all-to-alls");
    if (ep <= 0) continue;
    const double keep = std::max(0.0, 1.0 - hidden[s] / ep);
    d.ep_forward *= keep;
    d.ep_backward *= keep;
  }
  // One pipeline point-to-point message: the activation (b, s, h) forward or its gradient back.
  double c = 0;
  if (p.pp > 1) {
    const workload::Shape s = workload::shape_of(sc);
    const double bytes = s.b * s.s * s.h * s.eb / (p.sequence_parallel ? p.tp : 1);
    c = p2p(neighbour_level(sc.cluster, l.pp), bytes);
  }
  const PipelineTime pt = pipeline_time(dev, p.schedule, p.virtual_stages, l.micro_batches, c);
  const StageTimes& worst = dev[pt.worst];
  const double m = l.micro_batches;
  Breakdown& b = r.breakdown;
  b.compute = m * (worst.forward + worst.backward);
  b.tp = m * (worst.tp_forward + worst.tp_backward);
  b.ep = m * (worst.ep_forward + worst.ep_backward);
  b.pipeline_bubble = pt.bubble;
  b.pp = pt.pp;

  // Data-parallel gradient reduction (ZeRO 1/2 do a reduce-scatter and an all-gather: the same
  // bytes on the wire as an all-reduce).
  const workload::DeviceParams dparams = workload::device_params(sc, l);
  const OptimizerPhase op = optimizer_phase(sc, l, traffic, &blocks);
  if (p.dp > 1 && p.zero >= 3) {
    // ZeRO-3 / FSDP: every pass gathers its units' weights and the backward reduce-scatters
    // their gradients, per micro-batch (zero3_exposed); nothing is left for the step's end.
    for (int v = 0; v < p.virtual_stages; ++v) {
      const int chunk = v * p.pp + pt.worst;
      const StageTimes ct = chunk_times(sc, l, blocks, chunk);
      b.dp += m * (zero3_exposed(sc, l, chunk, ct.forward, false) + zero3_exposed(sc, l, chunk, ct.backward, true));
    }
  } else if (p.dp > 1) {
    const Geometry dpg = geometry(sc.cluster, l.dp);
    const double grads = dparams.dense * workload::grad_reduce_bytes(sc);  // expert gradients: op.expert_dp
    if (p.overlap_dp) {
      // The pipeline drains at stage 0: its last backward (chunk 0) is the window that hides
      // the buckets.
      const StageTimes first = chunk_times(sc, l, blocks, 0);
      b.dp = exposed_bucketed(grads, p.bucket, first.backward + first.tp_backward + first.ep_backward, dpg, p.dp_algo);
    } else {
      b.dp = all_reduce(p.dp_algo, dpg, grads);
    }
  }
  if (p.dp > 1) b.dp += op.expert_dp;

  // Optimizer step: on the device, and/or on the host behind copies (placements).
  const OptimizerPhase::Exposed x = op.exposed(sc.cluster.node.host.shares_device_cores);
  b.optimizer = x.device_optimizer;
  b.d2h = x.d2h;
  b.host_optimizer = x.host_optimizer;
  b.h2d = x.h2d;
  const Node& node = sc.cluster.node;

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
