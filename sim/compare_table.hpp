// The side-by-side table of `sparsim compare`: the results (sparsim.result/1 JSON) of a study's
// variants, one column each: verdict, step time, tokens/s, ratio to a baseline, MFU, breakdown,
// device and host memory; below it, why each variant that does not run does not.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sparsim::sim {

/// `names[i]` heads the column of `results[i]`; ratios are to `results[baseline]`.
std::string compare_table(const std::vector<std::string>& names, const std::vector<nlohmann::json>& results,
                          size_t baseline);

}  // namespace sparsim::sim
