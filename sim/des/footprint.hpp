// What a discrete-event run of a scenario would hold in memory, estimated from the scenario
// alone before anything is built. The DES simulates the actors of the replicas it keeps
// (fold.hpp; all of them when the replicas do not fold) on a platform with a route between every
// two of their nodes, so its memory grows with actors and with nodes squared: 10^9 devices whose
// replicas do not fold would need about 10^9 GiB. des_step refuses (exit 2) a scenario that would
// not fit in this machine's memory, saying how much it would need.
#pragma once

#include "config/scenario.hpp"
#include "sim/des/fold.hpp"

namespace sparsim::sim::des {

/// Bytes per element, measured: peak resident set of `sparsim simulate --backend des` (GNU time
/// -v) on the release build, fitted by least squares. Scenarios: the tiny dense model (8 layers,
/// h 64) on DGX A100 nodes (8 devices, 4 nodes per leaf), within 0.4% on all ten:
///   nodes x actors {512, 1024, 1536, 2048} x the same (tp 8: one actor per node), {128, 256,
///   512, 1024} x 8 per node (tp 1), 512 x 2048 (tp 2), 1024 x 2048 (tp 4); one micro-batch.
/// Step-graph ops from 512 nodes, 512 actors (tp 8, pp 8, dp 64) with 16, 256, 512 and 2048
/// micro-batches (31,744 to 3,933,184 ops): 378 B per op fitted, 173-368 B above the fit of
/// nodes and actors (vectors grow by doubling: larger graphs pay more per op).
struct FootprintConstants {
  double base = 262e6;     ///< the process before the run: mapped libraries (CUDA, BLAS), SimGrid
  double route = 105;      ///< one SimGrid route (node to node in the root zone, or inside a node)
  double actor = 24.6e3;   ///< one pipeline-stage actor: its host, links, SimGrid actors (stage,
                           ///< gradient reducer) and their stacks' touched pages
  double op = 380;         ///< one step-graph vertex with its edges, program entry and message slot
  double segment = 24;     ///< one piece of a compute op with sparse layers (sizeof(Segment))
};

struct Footprint {
  double nodes = 0;   ///< simulated nodes
  double actors = 0;  ///< simulated pipeline-stage actors: replicas x pp
  double routes = 0;  ///< nodes (nodes - 1) between nodes, plus g (g + 3) inside each node
  double ops = 0;     ///< step-graph vertices: compute, p2p, gradient buckets, optimizer tail
  double segments = 0;
  double routing = 0; ///< bytes of the sparse routing model (workload::sparse_traffic_bytes)
  double bytes = 0;   ///< estimated peak resident memory of the run
};

/// Counts from the plan alone (as build_step_graph and build_platform would make them for the
/// replicas `fold` keeps), in doubles so that no count overflows, whatever the cluster size.
/// `sc` must be feasible.
Footprint footprint(const Scenario& sc, const Fold& fold, const FootprintConstants& k = {});

/// Throws InputError (exit 2) naming the scenario file and cluster.nodes when footprint(sc,
/// fold) exceeds this machine's physical memory, with how much it would need.
void require_fits(const Scenario& sc, const Fold& fold);

}  // namespace sparsim::sim::des
