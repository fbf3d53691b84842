// `sparsim report RESULT.json... --out DIR [--force]` and the `--report DIR` option of the
// other verbs: wiring between the CLI and the report library (reports/).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "report.hpp"

namespace sparsim::app {

/// The `report` verb. Returns the exit code; throws InputError (exit 2) on bad input.
int report_main(const std::vector<std::string>& args);

/// Throws InputError when DIR is not usable as a report directory (a file, or an index.html
/// there without `force`). Call before a long run so it fails early.
void check_report_dir(const std::string& dir, bool force, const std::vector<std::string>& inputs);

/// Builds the page for `inputs` and writes DIR/index.html (and copies of traces). Returns 0, or
/// 1 with a message when a tool (gnuplot) fails; throws InputError on bad input.
int write_report(const std::vector<report::Input>& inputs, const std::string& dir, bool force,
                 const std::vector<std::string>& input_paths);

/// Builds a page with `build` and writes it into DIR as write_report does (any page: `sweep`
/// writes its own).
int write_page(const std::function<report::Page()>& build, const std::string& dir, bool force,
               const std::vector<std::string>& input_paths);

}  // namespace sparsim::app
