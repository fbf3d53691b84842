// Result JSONs (sparsim.result/1, DESIGN.md "Result JSON") read back for reports: parsed once,
// strictly, into a typed struct; the plots and the page only see `Result`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/error.hpp"
#include "workload/verdict.hpp"

namespace sparsim::report {

/// One named quantity of a result: a breakdown term (s) or a memory term (bytes).
struct Term {
  std::string key;    ///< JSON key path, e.g. "exposed_comm.tp"
  std::string label;  ///< readable name, e.g. "TP comm"
  double value = 0;   ///< SI: seconds or bytes
};

struct Result {
  std::string source;    ///< where it was read from (path), for messages and the page
  std::string label;     ///< unique short name on plots (see assign_labels)
  std::string scenario;
  std::string backend;   ///< analytic | des | measured
  std::int64_t devices = 0;  ///< 0 when the result does not say
  bool feasible = true;
  std::vector<std::string> infeasible, warnings;
  double step_time_s = 0, tokens_per_s = 0, tflops_per_device = 0, mfu = 0;
  double params_total = 0, params_active_per_token = 0;
  std::vector<Term> breakdown_s;      ///< fixed order: compute, tp, pp, dp, ep, bubble, h2d, d2h, host opt, opt
  std::vector<Term> device_bytes;     ///< fixed order: params, grads, optimizer, activations, buffers
  double device_peak_bytes = 0, device_capacity_bytes = 0;
  double host_peak_bytes = 0, host_capacity_bytes = 0;  ///< per node
  bool fits = true;
  /// The file's `verdict` and `verdict_reason`; derived from `feasible`, `infeasible` and the
  /// memory (workload::verdict_of) in results written before the verdict existed.
  workload::Verdict verdict;

  bool measured() const { return backend == "measured"; }
};

/// Parses one result. Throws InputError naming `source` and the key path when the schema is not
/// sparsim.result/1, a required key is missing or a value has the wrong type. Unknown keys are
/// allowed: the schema may grow.
Result parse_result(const nlohmann::json& j, const std::string& source);

/// `j[key]` as a T, for the readers of sparsim's other JSON files (sweep, plan). Throws
/// InputError naming `source`, the key path (`where`.`key`) and `schema` when the key is missing
/// or holds another type.
template <class T>
T typed_get(const nlohmann::json& j, const char* key, const std::string& source, const std::string& where, const char* schema) {
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError({source, 0, 0}, where.empty() ? key : where + "." + key, std::string("not a ") + schema + " file: " + e.what());
  }
}

/// The "schema" of a JSON file ("sparsim.result/1", "sparsim.sweep/1", "sparsim.plan/1"), or ""
/// when it has none or it is not a string: how `sparsim report` picks a page.
inline std::string schema_of(const nlohmann::json& j) {
  return j.is_object() && j.contains("schema") && j.at("schema").is_string() ? j.at("schema").get<std::string>() : "";
}

/// Parses JSON text; a syntax error becomes an InputError with `source`:line:column.
nlohmann::json parse_json_text(const std::string& text, const std::string& source);

/// Gives every result a distinct plot label: the scenario name, with " (backend)" when the
/// backend is not analytic; on a collision the file name (without .json) is used instead, then
/// "#n" is appended.
void assign_labels(std::vector<Result>& results);

}  // namespace sparsim::report
