// The discrete-event backend: replays the step graph (sim/graph.hpp) on the SimGrid platform of
// the scenario. Compute ops are SimGrid executions; pipeline messages, data-parallel gradient
// buckets and host<->device copies are flows that share links (contention); latencies are the
// alpha terms of the closed forms. Granularity, per collective:
//   - pipeline p2p: one flow per message (t devices' activations together), eager (the receiver
//     is a permanent receiver of its mailbox, so data flows as soon as it is sent);
//   - data-parallel all-reduce: ring / tree: one aggregated flow per actor to its ring successor
//     per bucket (the bytes every link carries are those of the per-message ring, so contention
//     on a blocking fabric is kept); hierarchical ring: the intra-node phases are closed-form
//     delays (NVLink/HCCS carries no other traffic then), the inter-node ring is flows;
//   - tensor-parallel collectives and ZeRO-3 gathers: closed-form delays inside the compute op
//     (intra-node links that only they use).
// Replicas: the data-parallel replicas are translated copies of one another, so the DES simulates
// a period of them spanning two nodes or more (des/fold.hpp), the ring closed over those, with every link carrying the
// bytes it carries in the full run: cross-replica contention is kept, the result is the full
// run's (tested against DesOptions::fold = false).
// SimGrid 3.32's engine is a process singleton: call des_step once per process.
#pragma once

#include <string>

#include "config/scenario.hpp"
#include "sim/result.hpp"

namespace sparsim::sim {

struct DesOptions {
  std::string trace_path;  ///< Chrome trace JSON to write ("" = none)
  bool fold = true;        ///< simulate the replicas des::fold_of keeps; false: every replica
};

/// Throws InputError (exit 2) when the run would not fit in this machine's memory
/// (des/footprint.hpp), before building anything.
StepResult des_step(const Scenario& sc, const DesOptions& options = {});

}  // namespace sparsim::sim
