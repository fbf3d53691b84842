// Quantities with units, at the input edge only (STYLE.md #6).
// Inside sparsim every quantity is an SI double: seconds, bytes, FLOP, bytes/s, FLOP/s.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace sparsim::units {

enum class Dim {
  bytes,      ///< "80 GB", "32 GiB"
  bandwidth,  ///< bytes per second: "25 GB/s", "400 GBps", "100 Gbps" (bits)
  flop_rate,  ///< FLOP per second: "312 TFLOPS", "2.5 TFLOP/s"
  flops,      ///< FLOP count: "1 GFLOP"
  time,       ///< seconds: "2 us", "1.5 ms"
  param_rate, ///< parameters updated per second: "788 Mparams/s"
};

/// Human name of a dimension with examples, for error messages.
std::string_view describe(Dim d);

/// Thrown by parse(); the loader adds file, line and key.
class UnitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses "<number> <unit>" into the SI value of dimension `d`. Throws UnitError when the text
/// is not a number followed by a unit of that dimension. Decimal prefixes k M G T P are powers
/// of 1000, Ki Mi Gi Ti Pi powers of 1024; "b"/"bps"/"bit" counts bits, "B" bytes.
double parse(std::string_view text, Dim d);

/// Formats an SI value with a unit that parse() reads back to the same value (up to 9
/// significant digits): format(12.5e9, Dim::bandwidth) == "12.5 GB/s".
std::string format(double si_value, Dim d);

}  // namespace sparsim::units
