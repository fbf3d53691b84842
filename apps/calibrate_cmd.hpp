// `sparsim calibrate`: measure this machine and write a calibrated hardware (node) file.
#pragma once

#include <string>
#include <vector>

namespace sparsim::app {

/// Exit code of `calibrate --gpu` when no CUDA device is present or sparsim was built without CUDA.
constexpr int kNoDevice = 3;

/// Runs `sparsim calibrate [--cpu] [--gpu] --out F.yaml [--quick] [--force] [--ranks N]`.
/// Returns 0 ok, 1 a kernel failed its reference check, 2 bad input, 3 no GPU (with --gpu).
/// Throws InputError / program_options errors for bad input (main turns them into exit 2).
int calibrate_main(const std::vector<std::string>& args);

}  // namespace sparsim::app
