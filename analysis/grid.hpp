// The grid of a sensitivity sweep: `--vary key=v1,v2,...` (a list), `--vary key=a..b+step`
// (arithmetic) or `--vary key=a..b*factor` (geometric), and the Cartesian product of several.
// Pure: parsing and ordering only; the values stay YAML texts that the loader reads as it reads
// `--set key=value` (units included: "100 Gbps", "32 GiB").
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sparsim::analysis {

/// How the values of one axis were written.
enum class AxisKind { list, arithmetic, geometric };

/// One varied key and its values, in the order they are swept.
struct Axis {
  std::string key;                  ///< key path, as for --set
  std::string spec;                 ///< what followed '=' on the command line
  AxisKind kind = AxisKind::list;
  std::vector<std::string> values;  ///< YAML texts given to the key: "8", "100 Gbps", "ecss"
  /// The values as numbers, when every value is a number and all carry one unit (or none);
  /// empty otherwise (names, files: the axis is categorical).
  std::vector<double> numbers;
  std::string unit;                 ///< that common unit, "" when none
};

/// The most points one range or one grid may have (a mistyped step must not run for hours).
inline constexpr std::size_t kMaxPoints = 10000;
/// Two range values closer than this relative distance are the same value: the end `b` is
/// included when the last step lands within it (0.1..0.3+0.1 has three points).
inline constexpr double kRangeEpsilon = 1e-9;

/// Parses one `--vary` argument, "key=spec". A spec whose text before ".." is a number is a
/// range, `a..b+step` or `a..b*factor` (a, b, step in one unit, written on either end or
/// both: "1 GiB..4 GiB+1 GiB", "1..4+1 GiB"; the factor has none); anything else is a
/// comma-separated list (commas inside [] or {} belong to the value). Throws InputError naming
/// the key (origin "--vary ARG") for: no '=' or no key, an empty value, a value listed twice,
/// a range without step, step <= 0, factor <= 1, a > b, a <= 0 in a geometric range, ends in
/// different units, or more than kMaxPoints values.
Axis parse_vary(const std::string& arg);

/// Throws InputError when two axes vary the same key, or a key is both varied and fixed by one
/// of `sets` ("key=value").
void check_keys(const std::vector<Axis>& axes, const std::vector<std::string>& sets);

/// The number of grid points, the product of the axes' sizes. Throws InputError naming every
/// key and its size when it exceeds kMaxPoints.
std::size_t grid_size(const std::vector<Axis>& axes);

/// The grid in sweep order: point p's value index on each axis. The first axis varies slowest,
/// the last fastest, as nested loops written in --vary order (itertools.product). No axes: one
/// point with no values.
std::vector<std::vector<std::size_t>> grid(const std::vector<Axis>& axes);

/// "a..b+step" -> "arithmetic", and so on (the JSON names).
const char* to_string(AxisKind k);

}  // namespace sparsim::analysis
