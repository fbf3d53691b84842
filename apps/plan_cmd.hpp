// `sparsim plan FILE [--devices N | a,b,c | a..b] [--tokens T] [--price P] [--top K]`: the best
// parallel plans of a scenario's model, hardware and training settings per device count
// (analysis/plan.hpp), with time and cost to train, and why the runner-up loses.
#pragma once

#include <string>
#include <vector>

namespace sparsim::app {

/// Returns 0; throws InputError / program_options errors on bad input (exit 2).
int plan_main(const std::vector<std::string>& args);

}  // namespace sparsim::app
