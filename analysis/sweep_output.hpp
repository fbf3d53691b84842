// A sweep's results written out: the sparsim.sweep/1 JSON, CSV and the readable table. Pure
// functions of the sweep and its per-point results (sparsim.result/1), in point order.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/sweep.hpp"

namespace sparsim::analysis {

/// The grid order, as the JSON and the table state it.
inline constexpr const char* kOrder = "first --vary varies slowest (nested loops in --vary order)";

/// {"schema": "sparsim.sweep/1", "file", "scenario", "backend", "order", "set": [...],
///  "vary": [{"key", "spec", "kind", "values": [text...], "numbers": [...] | null, "unit"}],
///  "points": [{"index": [...], "values": {key: text}, "verdict", "result": sparsim.result/1}]}
nlohmann::json sweep_json(const Sweep& s, const std::string& backend, const std::vector<nlohmann::json>& results);

/// One header line, then one row per point: the varied keys (values as given), then the columns
/// of sim::csv_header() (its verdict among them). Fields with a comma or quote are quoted.
std::string sweep_csv(const Sweep& s, const std::vector<nlohmann::json>& results);

/// A title, one row per point (varied values, step time, tokens/s, MFU, verdict, device and host
/// memory, and each breakdown term that is non-zero at some point), then why points cannot run.
std::string sweep_table(const Sweep& s, const std::string& backend, const std::vector<nlohmann::json>& results);

}  // namespace sparsim::analysis
