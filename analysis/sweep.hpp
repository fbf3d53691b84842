// `sparsim sweep`: one scenario evaluated at every point of a grid of key values. The scenario's
// files are read once; each point is that tree copied, with the point's values applied as
// `--set` applies them (config::Tree::set) and read by the one loader. The list of points is
// built first and each point is evaluated on its own, so the points can be split over processes.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/grid.hpp"
#include "config/scenario.hpp"
#include "config/tree.hpp"

namespace sparsim::analysis {

/// One point of the grid.
struct Point {
  std::vector<std::size_t> index;        ///< value index on each axis
  std::vector<std::string> assignments;  ///< "key=value", in the order they are applied
};

class Sweep {
 public:
  /// Reads `file` (and its includes) once and applies the `sets` ("key=value") that no varied
  /// key contains; a set inside a varied key (--set cluster.node.nic.count=2 with --vary
  /// cluster.node=a.yaml,b.yaml) is applied at every point after the value that replaces it.
  /// Throws InputError for bad axes (check_keys, grid_size) or an unreadable file.
  Sweep(std::string file, std::vector<std::string> sets, std::vector<Axis> axes);

  const std::string& file() const { return file_; }
  const std::vector<std::string>& sets() const { return sets_; }
  const std::vector<Axis>& axes() const { return axes_; }
  /// In sweep order (grid(): the first axis varies slowest).
  const std::vector<Point>& points() const { return points_; }

  /// The scenario at point `i`, as `simulate FILE --set ...` with the sets and the point's
  /// values would load it. Throws InputError for a value the key does not accept, naming the
  /// key, the value ("--vary key=value") and, where the file says it, the line.
  Scenario scenario(std::size_t i) const;

 private:
  void apply(config::Tree& t, const Point& p) const;

  std::string file_;
  std::vector<std::string> sets_;
  std::vector<std::string> early_sets_;  ///< applied once, to base_
  std::vector<Axis> axes_;
  std::vector<Point> points_;
  config::Tree base_;  ///< the file with early_sets_ applied
};

enum class Backend { analytic, des };

/// "runs", "does-not-fit" or "infeasible" (DESIGN.md "CLI") of a sparsim.result/1 object.
std::string verdict(const nlohmann::json& result);

/// Point `i` on `backend`, as a sparsim.result/1 object. The DES runs in a child process (SimGrid
/// is a process singleton, sim/isolate.hpp).
nlohmann::json evaluate_point(const Sweep& s, std::size_t i, Backend backend);

/// Which points one process evaluates: every `parts`-th from `part` on (the ranks of mpirun).
struct Share {
  std::size_t part = 0, parts = 1;
  bool has(std::size_t i) const { return i % parts == part; }
};

/// Every point of `share` in order (the others are null). Every point is read, and each of the
/// share evaluated analytically, first, so a bad value anywhere is an InputError (on every
/// share alike) before any DES runs; the DES then runs point by point. `progress(i)` is called
/// after point i's final evaluation.
std::vector<nlohmann::json> evaluate(const Sweep& s, Backend backend,
                                     const std::function<void(std::size_t)>& progress = {}, Share share = {});

}  // namespace sparsim::analysis
