// The order of work of one pipeline stage, and the order of work inside one pass of a model
// chunk: what both backends need to time plan.overlap_ep, and the DES to run it.
#pragma once

#include <utility>
#include <vector>

#include "config/scenario.hpp"
#include "sim/analytic.hpp"
#include "workload/layout.hpp"

namespace sparsim::sim {

/// The order in which a pipeline stage runs its (pass, chunk, micro-batch) work.
struct Work {
  bool backward;
  int chunk;
  int micro_batch;
};
/// Megatron-LM's orders: GPipe (all forwards, then all backwards), 1F1B (warm-up forwards, then
/// one forward one backward, then cool-down), interleaved 1F1B over v chunks. `overlap`
/// (plan.overlap_ep): one more forward warms up, so that in the steady state each forward can
/// run beside the backward after it, of an earlier micro-batch.
std::vector<Work> stage_order(sparsim::Schedule s, int pp, int v, int m, int stage, bool overlap = false);
/// The (forward, backward) pairs of the steady state of stage_order(..., overlap = true), which
/// plan.overlap_ep runs side by side; none for GPipe.
std::vector<std::pair<Work, Work>> overlap_pairs(sparsim::Schedule s, int pp, int v, int m, int stage);


/// A piece of a compute op of a chunk with sparse layers: compute, or one all-to-all of sparse
/// layer `a2a` (index into StepGraph::parts), dispatch-shaped or (transpose) combine-shaped.
struct Segment {
  double seconds = 0;
  int a2a = -1;
  bool transpose = false;
};

/// The order of work inside one pass (forward, or backward with its recomputation) of model
/// chunk `vs`: compute, with each sparse layer's dispatch and combine all-to-alls between its
/// attention (+ gate) and its experts; consecutive compute merged into one segment. Compute
/// segments include the tensor-parallel collectives.
std::vector<Segment> segments_of(const Scenario& sc, const workload::Layout& l, const BlockTimes& b, int vs, bool backward);

/// What a piece of a pass occupies: the device's compute, the links inside a node, the
/// network, or nothing shared (an all-to-all's latencies).
enum class Resource { compute, node_links, network, latency };
struct Phase {
  double seconds = 0;
  Resource on = Resource::compute;
};
/// A pass's segments as phases: each all-to-all split into its bytes over the node's links and
/// over the network, in the order the DES sends them (a hierarchical dispatch inside the node
/// first, its combine between nodes first), then its latencies.
std::vector<Phase> phases_of(const std::vector<Segment>& segments, const BlockTimes& b);

/// How long two passes take side by side (plan.overlap_ep): a fluid model of two streams of
/// phases, each resource shared equally by the streams on it (processor sharing, as the DES's
/// host and its links share them; latencies are not shared). At least the longer stream and
/// each resource's total; at most the two streams one after the other.
double paired_time(const std::vector<Phase>& a, const std::vector<Phase>& b);

/// Per micro-batch seconds plan.overlap_ep hides on each pipeline stage: over the stage's
/// overlap_pairs, the sum of (both passes one after the other - paired_time), divided by the
/// micro-batches. At most the stage's all-to-all time. Empty without overlap_ep.
std::vector<double> overlap_hidden(const Scenario& sc, const workload::Layout& l, const BlockTimes& b);

}  // namespace sparsim::sim
