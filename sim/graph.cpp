#include "sim/graph.hpp"

#include <boost/graph/topological_sort.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "config/error.hpp"
#include "sim/analytic.hpp"
#include "sim/collectives.hpp"
#include "workload/layout.hpp"
#include "workload/memory.hpp"
#include "workload/sparse.hpp"

namespace sparsim::sim {

const char* to_string(OpType t) {
  switch (t) {
    case OpType::compute: return "compute";
    case OpType::p2p: return "p2p";
    case OpType::collective: return "collective";
    case OpType::h2d: return "h2d";
    case OpType::d2h: return "d2h";
    case OpType::host_compute: return "host_compute";
    case OpType::optimizer: return "optimizer";
  }
  return "?";
}

const char* to_string(Category c) {
  switch (c) {
    case Category::compute: return "compute";
    case Category::tp: return "tp";
    case Category::pp: return "pp";
    case Category::dp: return "dp";
    case Category::ep: return "ep";
    case Category::h2d: return "h2d";
    case Category::d2h: return "d2h";
    case Category::host_optimizer: return "host_optimizer";
    case Category::optimizer: return "optimizer";
  }
  return "?";
}

double StepGraph::full_duration(Vertex v) const {
  const StepOp& o = g[v];
  return o.seconds + o.tp_seconds + o.dp_seconds + o.ep_seconds;
}

namespace {

Vertex add_op(StepGraph& sg, StepOp op) { return boost::add_vertex(std::move(op), sg.g); }
void depend(StepGraph& sg, Vertex from, Vertex to, double fraction = 1.0) {
  boost::add_edge(from, to, StepEdge{fraction}, sg.g);
}

}  // namespace

StepGraph build_step_graph(const Scenario& sc) { return build_step_graph(sc, sc.plan.dp); }

StepGraph build_step_graph(const Scenario& sc, std::int64_t replicas) {
  const Plan& p = sc.plan;
  SPARSIM_ASSERT(replicas >= 1 && replicas <= p.dp, "graph: replicas out of range");
  const workload::Layout l = workload::layout_of(sc);
  const std::vector<workload::SparseLayerTraffic> traffic = workload::sparse_traffic(sc, l);
  const BlockTimes blocks = block_times(sc, l, traffic);
  const OptimizerPhase phase = optimizer_phase(sc, l, traffic, &blocks);
  // One vertex per op of every actor: des_step refuses a scenario whose graph would not fit in
  // memory (des/footprint.hpp) long before its counts outgrow an int.
  constexpr std::int64_t kInt = std::numeric_limits<int>::max();
  SPARSIM_ASSERT(replicas * p.pp <= kInt && l.micro_batches <= kInt, "graph: more actors or micro-batches than an int holds");
  const int m = static_cast<int>(l.micro_batches), v = p.virtual_stages, chunks = p.pp * v;
  const double t = p.tp;
  StepGraph sg;
  sg.actors = static_cast<int>(replicas * p.pp);
  sg.traffic = traffic;
  sg.parts = blocks.parts;
  sg.host_jobs = phase.jobs;
  sg.program.resize(sg.actors);

  const workload::DeviceParams dparams = workload::device_params(sc, l);
  const Geometry dpg = geometry(sc.cluster, l.dp);

  std::map<std::tuple<int, bool, int, int>, Vertex> work;  // (replica, backward, virtual stage, mb)
  const bool overlap = workload::overlaps_ep(sc);
  for (int d = 0; d < sg.actors / p.pp; ++d) {
    for (int s = 0; s < p.pp; ++s) {
      const int a = d * p.pp + s;
      std::set<std::pair<int, int>> paired;  // (chunk, micro-batch) of the backwards that run beside a forward
      if (overlap)
        for (const auto& [f, b] : overlap_pairs(p.schedule, p.pp, v, m, s)) paired.emplace(b.chunk, b.micro_batch);
      for (const Work& w : stage_order(p.schedule, p.pp, v, m, s, overlap)) {
        const int vs = w.chunk * p.pp + s;
        const StageTimes ct = chunk_times(sc, l, blocks, vs);
        StepOp op;
        op.type = OpType::compute;
        op.actor = a;
        op.chunk = w.chunk;
        op.micro_batch = w.micro_batch;
        op.backward = w.backward;
        op.name = std::string(w.backward ? "B" : "F") + " L" + std::to_string(vs * l.layers_per_stage) + "-" +
                  std::to_string((vs + 1) * l.layers_per_stage - 1) + " mb" + std::to_string(w.micro_batch);
        op.seconds = w.backward ? ct.backward : ct.forward;
        op.tp_seconds = w.backward ? ct.tp_backward : ct.tp_forward;
        op.ep_seconds = w.backward ? ct.ep_backward : ct.ep_forward;
        // ZeRO-3: the pass's weight gathers and gradient reduce-scatters beyond its compute (as
        // in the analytic backend)
        op.dp_seconds = zero3_exposed(sc, l, vs, op.seconds, w.backward);
        if (!blocks.parts.empty()) op.segments = segments_of(sc, l, blocks, vs, w.backward);
        op.paired = w.backward && paired.count({w.chunk, w.micro_batch}) > 0;
        const Vertex x = add_op(sg, op);
        if (!sg.program[a].empty()) depend(sg, sg.program[a].back(), x);
        sg.program[a].push_back(x);
        work[{d, w.backward, vs, w.micro_batch}] = x;
      }
    }
  }
  // Pipeline point-to-point: activations forward, gradients backward, (b, s, h) per device.
  if (p.pp > 1) {
    const workload::Shape s = workload::shape_of(sc);
    const double per_device = s.b * s.s * s.h * s.eb / (p.sequence_parallel ? p.tp : 1);
    const Level level = neighbour_level(sc.cluster, l.pp);
    const double seconds = p2p(level, per_device);
    for (int d = 0; d < sg.actors / p.pp; ++d) {
      for (int vs = 0; vs < chunks; ++vs) {
        for (int i = 0; i < m; ++i) {
          for (bool backward : {false, true}) {
            const int next = backward ? vs - 1 : vs + 1;
            if (next < 0 || next >= chunks) continue;
            StepOp op;
            op.type = OpType::p2p;
            op.actor = d * p.pp + vs % p.pp;
            op.peer = d * p.pp + next % p.pp;
            op.seconds = seconds;
            op.bytes = per_device * t;
            op.latency = level.latency;
            op.micro_batch = i;
            op.backward = backward;
            op.name = std::string(backward ? "grad" : "act") + " L" + std::to_string(vs * l.layers_per_stage) + " mb" +
                      std::to_string(i);
            const Vertex x = add_op(sg, op);
            depend(sg, work.at({d, backward, vs, i}), x);
            depend(sg, x, work.at({d, backward, next, i}));
          }
        }
      }
    }
  }
  // Data-parallel gradient buckets after (overlapping) the last backward, then the optimizer.
  for (int a = 0; a < sg.actors; ++a) {
    const Vertex last = sg.program[a].back();
    Vertex tail = last;
    if (p.dp > 1 && p.zero < 3) {  // ZeRO-3 reduce-scatters inside the passes
      const double grads = dparams.dense * workload::grad_reduce_bytes(sc);
      const double buckets = p.overlap_dp ? std::max(1.0, std::ceil(grads / p.bucket)) : 1.0;
      SPARSIM_ASSERT(buckets <= double(kInt), "graph: more gradient buckets than an int holds");
      const int n = static_cast<int>(buckets);
      const double bucket = p.overlap_dp ? p.bucket : grads;
      for (int i = 0; i < n; ++i) {
        StepOp op;
        op.type = OpType::collective;
        op.actor = a;
        op.bytes = (i + 1 < n ? bucket : grads - bucket * (n - 1)) * t;
        op.seconds = all_reduce(p.dp_algo, dpg, op.bytes / t);
        op.name = "grad bucket " + std::to_string(i);
        const Vertex x = add_op(sg, op);
        depend(sg, last, x, p.overlap_dp ? double(i + 1) / n : 1.0);
        if (i > 0) depend(sg, tail, x);
        tail = x;
        sg.program[a].push_back(x);
      }
    }
    if (phase.expert_dp > 0) {
      StepOp op;
      op.type = OpType::collective;
      op.actor = a;
      op.name = "expert grads all-reduce";
      op.seconds = phase.expert_dp;
      op.closed_form = true;
      const Vertex x = add_op(sg, op);
      depend(sg, tail, x);
      tail = x;
      sg.program[a].push_back(x);
    }
    // The host path (offload, ecss) and the device optimizer run side by side after the
    // gradients are reduced.
    if (phase.d2h > 0) {
      const double lat = sc.cluster.node.host_link.latency;
      const double bytes_g = (phase.d2h - lat) * pcie_share(sc.cluster.node) * t;
      const double bytes_w = (phase.h2d - lat) * pcie_share(sc.cluster.node) * t;
      auto host_op = [&](OpType type, const char* name, double seconds, double bytes, double latency) {
        StepOp op;
        op.type = type;
        op.name = name;
        op.actor = a;
        op.seconds = seconds;
        op.bytes = bytes;
        op.latency = latency;
        return op;
      };
      const StepOp d2h = host_op(OpType::d2h, "grads d2h", phase.d2h, bytes_g, lat);
      const StepOp host = host_op(OpType::host_compute, "host adam", phase.host_optimizer, 0, 0);
      const StepOp h2d = host_op(OpType::h2d, "weights h2d", phase.h2d, bytes_w, lat);
      const Vertex x1 = add_op(sg, d2h), x2 = add_op(sg, host), x3 = add_op(sg, h2d);
      depend(sg, tail, x1);
      depend(sg, x1, x2);
      depend(sg, x2, x3);
      for (Vertex x : {x1, x2, x3}) sg.program[a].push_back(x);
    }
    if (phase.device_optimizer > 0) {
      StepOp op;
      op.type = OpType::optimizer;
      op.actor = a;
      op.name = "adam";
      op.seconds = phase.device_optimizer;
      const Vertex x = add_op(sg, op);
      depend(sg, tail, x);
      sg.program[a].push_back(x);
    }
  }
  return sg;
}

Timing longest_path(const StepGraph& sg) {
  const Graph& g = sg.g;
  std::vector<Vertex> order;
  boost::topological_sort(g, std::back_inserter(order));
  std::reverse(order.begin(), order.end());
  Timing t;
  t.start.assign(boost::num_vertices(g), 0.0);
  t.finish.assign(boost::num_vertices(g), 0.0);
  for (Vertex v : order) {
    SPARSIM_ASSERT(!g[v].paired, "longest_path: the graph oracle does not model plan.overlap_ep's side-by-side passes");
    double start = 0;
    for (auto [e, end] = boost::in_edges(v, g); e != end; ++e) {
      const Vertex u = boost::source(*e, g);
      const double f = g[*e].fraction;
      start = std::max(start, f >= 1.0 ? t.finish[u] : t.start[u] + f * sg.full_duration(u));
    }
    t.start[v] = start;
    t.finish[v] = start + sg.full_duration(v);
    t.makespan = std::max(t.makespan, t.finish[v]);
  }
  return t;
}

}  // namespace sparsim::sim
