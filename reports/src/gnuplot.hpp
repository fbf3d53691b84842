// Runs gnuplot (Debian: gnuplot-nox) as a subprocess on a script and returns the SVG it writes.
#pragma once

#include <stdexcept>
#include <string>

namespace sparsim::report {

/// A tool the report needs is missing or failed: not bad input, the run failed (exit 1).
class ToolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Runs `program` (looked up on PATH) with `script` as its input file and returns its stdout.
/// Throws ToolError when the program is missing, exits non-zero or writes no <svg>; its stderr
/// is quoted in the message. Warnings on stderr of a successful run are passed to our stderr.
std::string run_gnuplot(const std::string& script, const std::string& program = "gnuplot");

}  // namespace sparsim::report
