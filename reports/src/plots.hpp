// The report's plots as gnuplot scripts (data inline as datablocks). Pure: building a script
// runs nothing; gnuplot.hpp runs it. Each plot is data-driven: it says why it is skipped when the
// results do not call for it (one result has nothing to compare, one cluster size no curve).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "results.hpp"

namespace sparsim::report {

/// A complete gnuplot script that writes one SVG to stdout.
struct Plot {
  std::string id;      ///< short name, e.g. "breakdown"
  std::string alt;     ///< text alternative for the image
  std::string script;  ///< gnuplot commands, terminal included
};

/// A plot, or the sentence that says why there is none.
struct PlotOrSkip {
  std::optional<Plot> plot;
  std::string skipped;  ///< non-empty when `plot` is empty
};

/// The start of every plot script: SVG on stdout, no enhanced text (scenario names contain '_'
/// and '^'), a fixed palette so a term has the same colour in every plot, the title.
std::string plot_header(int width, int height, const std::string& title);
/// `rows` as the inline datablock $name.
std::string datablock(const std::string& rows, const std::string& name = "d");

/// Quotes `s` for a gnuplot datablock or string: double quotes; '"' and '\' and newlines are
/// replaced (gnuplot data files have no escapes).
std::string gnuplot_string(const std::string& s);

/// Breakdown datablock rows: `"label" v1 v2 ...` in seconds, one row per result, one column per
/// term that is non-zero in some result (compute always kept). `terms` gets the kept labels.
std::string breakdown_rows(const std::vector<Result>& results, std::vector<std::string>& terms);

/// Step-time breakdown as stacked bars, one bar per result.
PlotOrSkip breakdown_plot(const std::vector<Result>& results);
/// Device memory per result, stacked by kind, with its capacity marked (GiB).
PlotOrSkip device_memory_plot(const std::vector<Result>& results);
/// Host memory per node per result with its capacity marked (GiB).
PlotOrSkip host_memory_plot(const std::vector<Result>& results);

/// tokens/s of each result divided by the first's; empty when the first is not positive.
std::vector<double> tokens_ratios(const std::vector<Result>& results);
/// tokens/s per result with the ratio to the first written over each bar; needs >= 2 results.
PlotOrSkip variants_plot(const std::vector<Result>& results);

/// One point of a scaling curve.
struct ScalingPoint {
  std::int64_t devices = 0;
  double tokens_per_s = 0, mfu = 0;
  std::string label;
};
/// Predicted (non-measured) results with a known device count, sorted by devices; empty unless
/// at least two device counts differ.
std::vector<ScalingPoint> scaling_points(const std::vector<Result>& results);
PlotOrSkip scaling_plot(const std::vector<Result>& results);

/// A measured result and the prediction of the same scenario, term by term.
struct Comparison {
  std::string metric;  ///< "step time" or a breakdown label
  double measured = 0, predicted = 0;  ///< s
  double error() const { return (predicted - measured) / measured; }  ///< relative, signed
};
struct MeasuredPair {
  const Result* measured = nullptr;
  const Result* predicted = nullptr;
  std::vector<Comparison> rows;  ///< step time, then each breakdown term measured > 0
};
/// Pairs every measured result with the first predicted result of the same scenario name.
/// `unpaired` gets the labels of measured results without a prediction.
std::vector<MeasuredPair> measured_pairs(const std::vector<Result>& results, std::vector<std::string>& unpaired);
/// Predicted against measured time (log-log), with the y = x line and a +-10 % band.
PlotOrSkip measured_plot(const std::vector<Result>& results);

}  // namespace sparsim::report
