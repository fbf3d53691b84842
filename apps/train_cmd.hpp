// `sparsim train FILE`: the reference trainer on this machine (one rank; for several ranks run
// build/trainer_mpi under mpirun). Writes the measured result (sparsim.result/1, backend
// "measured") and a Chrome trace with the simulator's categories.
#pragma once

#include <string>
#include <vector>

namespace sparsim::app {

/// Runs `sparsim train FILE [--set K=V]... [--json F] [--trace F] [--resolved F] [--format
/// table|json] [--force]`. Returns 0 ok, 1 the run failed; throws InputError / program_options
/// errors on bad input (exit 2).
int train_main(const std::vector<std::string>& args);

}  // namespace sparsim::app
