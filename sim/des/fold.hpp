// The data-parallel replicas the DES simulates. A step's dp replicas run the same program on
// translated copies of the same hardware: replica d + R sits R * tp devices further on, with the
// same links, the same node mates and (on a blocking fabric) the same leaf mates as replica d,
// and every flow of the step (pipeline p2p, the data-parallel ring's step to d + 1 or to the next
// node, an expert-parallel group's all-to-all) goes to a replica the same distance away. So the
// DES may simulate R consecutive replicas, the data-parallel ring closed over them (member d + 1
// mod R), with the ring's bytes and alpha terms of all dp (collectives.hpp), and get every
// actor's time of the full run: each simulated link carries the bytes it carries in the full run
// (shared/notes/simgrid-3.32.md: aggregation must keep the bytes on every link, or contention
// disappears). It does, when R is a multiple of the period of everything replicas share:
//   - a node's actors: q = devices / tp consecutive replicas of one stage (dp a multiple of q,
//     else a node holds two stages and nothing is folded);
//   - an expert-parallel group: ep consecutive replicas;
//   - on a fabric whose leaf uplinks can be slower than the NICs below them (oversubscription x
//     NIC efficiency > 1): a leaf, nodes_per_leaf x q replicas of one stage (dp a multiple of
//     it, else a leaf holds two stages and nothing is folded). On a non-blocking fabric no link
//     above the NICs binds (a leaf's uplink carries at most its NICs, the leaf switch is a fat
//     pipe), so leaves need not align;
// and R spans at least two nodes (on a blocking fabric, two leaves), so that a flow that leaves
// its node or leaf in the full run (the ring's step from the last replica of a node, of a leaf)
// leaves it in the folded run too, over the same links, instead of looping back inside it: R is
// one period when that spans two, else two periods. R = dp when dp is not above that.
#pragma once

#include <cstdint>
#include <string>

#include "config/scenario.hpp"

namespace sparsim::sim::des {

struct Fold {
  std::int64_t replicas = 1;  ///< data-parallel replicas simulated, R (plan.dp: none folded)
  std::string unfolded;       ///< why nothing folds, when that is the reason R = dp ("" otherwise)
};

/// The replicas to simulate for `sc` (a feasible plan; the DES needs tp to divide devices).
Fold fold_of(const Scenario& sc);

/// No fold: every replica simulated (DesOptions::fold = false, and the check of the fold).
Fold unfolded(const Scenario& sc);

}  // namespace sparsim::sim::des
