// `sparsim validate [--quick]`: calibrate this machine, run the reference trainer on a set of
// configurations (dense, top-k MoE, RRE, RRE+ECSS; 1 and 4 MPI ranks), simulate the same
// configurations on the calibrated hardware file, and compare per category.
#pragma once

#include <string>
#include <vector>

namespace sparsim::app {

/// Returns 0 when every configuration's step-time error is within the tolerance, 1 otherwise
/// (or when a stage fails); throws InputError / program_options errors on bad input.
int validate_main(const std::vector<std::string>& args);

}  // namespace sparsim::app
