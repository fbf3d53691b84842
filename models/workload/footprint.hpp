// Memory the simulator itself needs for a scenario, estimated before it allocates anything.
// The closed forms take any cluster size, but a few structures grow with ranks: the expert-
// parallel routing matrices (ep x E per sparse layer) here, and the discrete-event platform
// and step graph (every actor simulated; sim/des/footprint.hpp). A scenario whose structures
// would not fit in this machine's memory is refused (InputError, exit 2) with what it would
// need, instead of being killed or crashing on an allocation.
#pragma once

#include <string>

#include "config/scenario.hpp"

namespace sparsim::workload {

/// Bytes of physical memory of this machine (sysconf: _SC_PHYS_PAGES x _SC_PAGE_SIZE). The
/// total, not what is free now, so that whether a scenario is refused does not change from
/// run to run.
double machine_memory_bytes();

/// Throws InputError naming the scenario file and `key` when `bytes` exceed machine_memory_bytes():
/// "<what> would need about X GiB, more than this machine's Y GiB of memory; <advice>".
void require_memory(const Scenario& sc, const std::string& key, const std::string& what, double bytes,
                    const std::string& advice);

/// Estimated peak bytes of sparse_traffic(sc) and the copies a run keeps of it: per sparse layer
/// the [rank][expert] token matrix (ep x E doubles), the dispatch bytes (ep x ep) and every
/// rank's expert loads (E), plus the token-ID histograms and routing tables (V per domain).
/// 0 for a dense model.
double sparse_traffic_bytes(const Scenario& sc);

}  // namespace sparsim::workload
