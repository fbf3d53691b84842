// `sparsim compare FILE`: variants of one study side by side (step time, tokens/s, breakdown,
// device and host memory with verdicts, ratios to a baseline).
#pragma once

#include <string>
#include <vector>

namespace sparsim::app {

/// Returns the exit code; throws InputError (exit 2) on bad input.
int compare_main(const std::vector<std::string>& args);

}  // namespace sparsim::app
