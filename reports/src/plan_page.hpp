// The report of a plan search (sparsim.plan/1, written by `sparsim plan --json`): the best plan
// of each device count on a Pareto front of time to train against cost (or against devices when
// no price was given), the best plans' step breakdowns and device memory side by side, and every
// shown plan in a table. `plan --report DIR` and `report PLAN.json` build it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plots.hpp"
#include "report.hpp"
#include "results.hpp"

namespace sparsim::report {

struct PlanChoice {
  std::size_t rank = 0;
  std::string plan;  ///< "tp 8 pp 4 ..."
  double days = 0, device_hours = 0, cost = 0;  ///< 0 when the search had no --tokens / --price
  Result result;
};

/// One plan of `plan --verify K` on the DES.
struct PlanVerified {
  std::size_t des_rank = 0, rank = 0;  ///< by the DES's step; by the analytic backend's
  std::string plan;
  double analytic_step_s = 0, des_step_s = 0;
};

struct PlanSize {
  std::int64_t devices = 0;
  std::size_t plans = 0, runs = 0, does_not_fit = 0, infeasible = 0;
  std::vector<PlanChoice> best;  ///< fastest first; empty when no plan runs
  std::string runner_up;         ///< "#3 (tp ...) loses: +0.4 s pipeline bubble", or empty
  std::vector<PlanVerified> verified;  ///< by the DES's step; empty without --verify
};

struct PlanData {
  std::string scenario, file;
  double tokens = 0, price = 0;  ///< --tokens, --price (0: not given)
  std::vector<PlanSize> sizes;
};

/// Reads a sparsim.plan/1 object strictly (each shown plan's result with parse_result). Throws
/// InputError naming `source` and what is wrong; a file written without the shown plans' results
/// (before the report page existed) is one of them, with the command that writes a new one.
PlanData parse_plan(const nlohmann::json& j, const std::string& source);

/// The device counts whose best plan no other count's best beats on both axes: shorter time to
/// train (with --tokens; else higher tokens/s) and lower cost (with --price; else fewer devices).
/// Indices into `p.sizes`, in device order.
std::vector<std::size_t> pareto_front(const PlanData& p);

/// Time to train (or tokens/s) of each count's best plan against devices, the front drawn through.
PlotOrSkip plan_front_plot(const PlanData& p);
/// Cost against time to train, one point per device count labelled with it (needs --price).
PlotOrSkip plan_cost_plot(const PlanData& p);

/// The page.
Page build_plan_page(const nlohmann::json& plan, const std::string& source, const Renderer& render = gnuplot_renderer);

}  // namespace sparsim::report
