// `sparsim fit RUNS --node HW.yaml --out FITTED.yaml`: a node file's few efficiencies fitted to
// measured runs (validation/fit.hpp).
#pragma once

#include <string>
#include <vector>

namespace sparsim::app {

int fit_main(const std::vector<std::string>& args);

}  // namespace sparsim::app
