// The HTML report (issue 7): one self-contained page from any number of result JSONs, with
// gnuplot SVG plots embedded as data: URIs. `sparsim report`, and `--report DIR` on simulate
// (later compare and validate), all come through build_page.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "gnuplot.hpp"
#include "plots.hpp"
#include "results.hpp"

namespace sparsim::report {

/// One result to report, with what was found next to it.
struct Input {
  std::string source;         ///< where it came from: a path, or the scenario simulated
  nlohmann::json result;      ///< sparsim.result/1
  std::string resolved_yaml;  ///< the resolved configuration; empty when unknown
  std::string trace_path;     ///< a Chrome trace of the step; empty when none
};

/// `dir/r.json` + ".trace.json" -> `dir/r.trace.json`: a sidecar file named like the result
/// (a trailing ".json" is replaced, anything else is kept).
std::string sidecar_path(const std::string& result_path, const std::string& suffix);

/// Reads RESULT.json, and RESULT.resolved.yaml and RESULT.trace.json when they exist. Throws
/// InputError for a missing or unreadable file or text that is not JSON.
Input read_input(const std::string& path);

/// Turns a plot script into SVG text (gnuplot by default; tests may substitute).
using Renderer = std::function<std::string(const Plot&)>;
std::string gnuplot_renderer(const Plot& plot);

/// The start of a page up to <body>, with `title` (escaped here) and the shared CSS.
std::string page_head(const std::string& title);
/// The end of a page: which command generated it, </body></html>.
std::string page_foot(const std::string& command);
/// The plot as an <img> with its SVG inline, or the sentence that says why there is none.
std::string plot_or_skip(const PlotOrSkip& p, const Renderer& render);

/// The report's files: index.html, plus traces to copy next to it so its links work.
struct Page {
  std::string html;
  std::vector<std::pair<std::string, std::string>> copies;  ///< {source path, file name inside DIR}
};

/// Parses every input (InputError on a bad one) and builds the page. At least one input.
Page build_page(const std::vector<Input>& inputs, const Renderer& render = gnuplot_renderer);

}  // namespace sparsim::report
