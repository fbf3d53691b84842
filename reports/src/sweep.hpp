// The report of a sweep (sparsim.sweep/1, written by `sparsim sweep --json`): one plot per varied
// key, tokens/s against that key's values with one line per combination of the other keys'
// values, and a table of every point. `sweep --report DIR` and `report SWEEP.json` build it.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plots.hpp"
#include "report.hpp"
#include "results.hpp"

namespace sparsim::report {

struct SweepAxis {
  std::string key, kind, unit;       ///< kind: list | arithmetic | geometric
  std::vector<std::string> values;   ///< as given
  std::vector<double> numbers;       ///< empty: categorical (names, files, mixed units)
};

struct SweepPoint {
  std::vector<std::size_t> index;  ///< value index on each axis
  std::string verdict;             ///< runs | does-not-fit | infeasible
  Result result;
};

struct SweepData {
  std::string file, scenario, backend, order;
  std::vector<std::string> sets;
  std::vector<SweepAxis> axes;
  std::vector<SweepPoint> points;
};

/// Reads a sparsim.sweep/1 object strictly (each point's result with parse_result). Throws
/// InputError naming `source` and what is wrong.
SweepData parse_sweep(const nlohmann::json& j, const std::string& source);

/// Tokens/s against axis `k`: one line per combination of the other axes' values (infeasible
/// points leave a gap; points that do not fit in memory get a black ring), a log x axis for a
/// geometric range, the values as tics for a categorical axis. Skipped for a one-value axis.
PlotOrSkip sweep_plot(const SweepData& s, std::size_t k);

/// The page: what was swept, a plot per varied key, a table of every point.
Page build_sweep_page(const nlohmann::json& sweep, const std::string& source, const Renderer& render = gnuplot_renderer);

}  // namespace sparsim::report
