// `sparsim sweep FILE --vary KEY=VALUES [--vary ...]`: a sensitivity grid over any keys of a
// scenario (analysis/sweep.hpp), written as a table, CSV, JSON (sparsim.sweep/1) and a report.
#pragma once

#include <string>
#include <vector>

namespace sparsim::app {

/// Returns 0 ok, 1 a tool the report needs failed; throws InputError / program_options errors on
/// bad input (exit 2).
int sweep_main(const std::vector<std::string>& args);

}  // namespace sparsim::app
