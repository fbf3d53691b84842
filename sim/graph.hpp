// The step graph: a Boost.Graph DAG of the ops of one training step, per pipeline-stage actor
// (one actor = one tensor-parallel group of t devices; actors are (data-parallel replica d,
// pipeline stage s), a = d * pp + s). The DES backend executes it with contention; its longest
// path (no contention) is the oracle both backends must meet.
//
// Op kinds (designed for the sparse work as well): compute (forward/backward of a model chunk
// for one micro-batch, including its tensor-parallel collectives), p2p (pipeline activation or
// gradient), collective (a data-parallel gradient bucket), h2d/d2h (host<->device copies),
// host_compute (optimizer on the host CPU), device optimizer.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <string>
#include <utility>
#include <vector>

#include "config/scenario.hpp"
#include "sim/analytic.hpp"
#include "sim/result.hpp"
#include "sim/schedule.hpp"
#include "workload/sparse.hpp"

namespace sparsim::sim {

enum class OpType { compute, p2p, collective, h2d, d2h, host_compute, optimizer };
enum class Category { compute, tp, pp, dp, ep, h2d, d2h, host_optimizer, optimizer };

const char* to_string(OpType);
const char* to_string(Category);

struct StepOp {
  OpType type = OpType::compute;
  std::string name;      ///< e.g. "F c1 mb3" (chunk, micro-batch)
  int actor = 0;         ///< the actor that executes it (p2p: the sender)
  int peer = -1;         ///< p2p: receiving actor
  double seconds = 0;    ///< duration on an idle machine (compute part for compute ops)
  double tp_seconds = 0; ///< compute ops: tensor-parallel collectives inside them
  double dp_seconds = 0; ///< compute ops: exposed ZeRO-3 weight gathers before them
  double ep_seconds = 0; ///< compute ops: expert-parallel all-to-alls inside them (closed form)
  double bytes = 0;      ///< bytes on the wire / over PCIe (per actor: t devices together)
  double latency = 0;    ///< p2p, h2d, d2h: the alpha part of `seconds`
  int chunk = 0, micro_batch = 0;
  bool backward = false;
  bool closed_form = false;  ///< collective: a closed-form delay, not flows (expert dp all-reduce)
  std::vector<Segment> segments;  ///< compute ops with sparse layers: their order of work
  /// compute ops (plan.overlap_ep): runs side by side with the op before it in its actor's
  /// program, a forward of a later micro-batch (paired_time)
  bool paired = false;
};

/// Edge: `to` may start once `fraction` of `from`'s duration has elapsed (1 = after it ends).
struct StepEdge {
  double fraction = 1.0;
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, StepOp, StepEdge>;
using Vertex = Graph::vertex_descriptor;

struct StepGraph {
  Graph g;
  std::vector<workload::SparseLayerTraffic> traffic;  ///< per sparse layer
  std::vector<BlockTimes::SparseParts> parts;         ///< per sparse layer
  std::vector<OptimizerPhase::Job> host_jobs;         ///< plan.host_overlap layers: the host path's jobs
  int actors = 0;
  std::vector<std::vector<Vertex>> program;  ///< per actor: its ops (no p2p) in execution order
  double full_duration(Vertex v) const;       ///< seconds + tp + dp of a vertex
};

/// Builds the graph of one step (feasible plans only): every replica's actors, or the first
/// `replicas` replicas' (a folded DES run, des/fold.hpp; their ops are those of the full graph).
StepGraph build_step_graph(const Scenario& sc);
StepGraph build_step_graph(const Scenario& sc, std::int64_t replicas);

/// Start and finish time of every vertex on an idle machine (ops start as soon as their inputs
/// and the previous op of the same actor are done): the longest path.
struct Timing {
  std::vector<double> start, finish;
  double makespan = 0;
};
Timing longest_path(const StepGraph& sg);

}  // namespace sparsim::sim
