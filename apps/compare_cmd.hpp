// `sparsim compare FILE`: variants of one study side by side (step time, tokens/s, breakdown,
// device and host memory with verdicts, ratios to a baseline).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sparsim::app {

/// Returns the exit code; throws InputError (exit 2) on bad input.
int compare_main(const std::vector<std::string>& args);

/// The side-by-side table of result JSONs (sparsim.result/1), ratios to result `baseline`.
std::string compare_table(const std::vector<std::string>& names, const std::vector<nlohmann::json>& results,
                          size_t baseline);

}  // namespace sparsim::app
