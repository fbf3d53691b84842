#include "config/units.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

namespace sparsim::units {

namespace {

struct Prefix {
  std::string_view symbol;
  double factor;
};

// Longest symbols first so that "Gi" is tried before "G".
constexpr std::array<Prefix, 11> kPrefixes{{{"Ki", 1024.0},
                                            {"Mi", 1024.0 * 1024},
                                            {"Gi", 1024.0 * 1024 * 1024},
                                            {"Ti", 1024.0 * 1024 * 1024 * 1024},
                                            {"Pi", 1024.0 * 1024 * 1024 * 1024 * 1024},
                                            {"k", 1e3},
                                            {"K", 1e3},
                                            {"M", 1e6},
                                            {"G", 1e9},
                                            {"T", 1e12},
                                            {"P", 1e15}}};

struct Base {
  std::string_view symbol;
  double factor;  // SI value of one unit without prefix
};

std::vector<Base> bases(Dim d) {
  switch (d) {
    case Dim::bytes:
      return {{"B", 1.0}, {"bytes", 1.0}, {"byte", 1.0}};
    case Dim::bandwidth:
      return {{"B/s", 1.0}, {"Bps", 1.0}, {"bps", 0.125}, {"bit/s", 0.125}, {"b/s", 0.125}};
    case Dim::flop_rate:
      return {{"FLOPS", 1.0}, {"FLOP/s", 1.0}, {"flops", 1.0}, {"flop/s", 1.0}};
    case Dim::flops:
      return {{"FLOP", 1.0}, {"flop", 1.0}};
    case Dim::time:
      return {{"s", 1.0}};
    case Dim::param_rate:
      return {{"params/s", 1.0}, {"param/s", 1.0}};
  }
  return {};
}

std::optional<double> time_unit(std::string_view u) {
  if (u == "s" || u == "sec") return 1.0;
  if (u == "ms") return 1e-3;
  if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") return 1e-6;  // us, micro sign, mu
  if (u == "ns") return 1e-9;
  if (u == "min") return 60.0;
  if (u == "h") return 3600.0;
  return std::nullopt;
}

std::optional<double> unit_factor(std::string_view u, Dim d) {
  if (d == Dim::time) return time_unit(u);
  for (const Base& b : bases(d)) {
    if (u == b.symbol) return b.factor;
    if (u.size() > b.symbol.size() && u.substr(u.size() - b.symbol.size()) == b.symbol) {
      std::string_view p = u.substr(0, u.size() - b.symbol.size());
      for (const Prefix& pre : kPrefixes) {
        if (p == pre.symbol) return pre.factor * b.factor;
      }
    }
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view describe(Dim d) {
  switch (d) {
    case Dim::bytes:
      return "a size in bytes such as \"80 GB\" or \"32 GiB\"";
    case Dim::bandwidth:
      return "a bandwidth such as \"25 GB/s\", \"400 GBps\" or \"100 Gbps\"";
    case Dim::flop_rate:
      return "a compute rate such as \"312 TFLOPS\" or \"2.5 TFLOP/s\"";
    case Dim::flops:
      return "a FLOP count such as \"1 GFLOP\"";
    case Dim::time:
      return "a time such as \"2 us\", \"1.5 ms\" or \"3 s\"";
    case Dim::param_rate:
      return "a parameter update rate such as \"788 Mparams/s\"";
  }
  return "a quantity";
}

double parse(std::string_view text, Dim d) {
  std::string_view s = trim(text);
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) {
    throw UnitError("expected a number within a double's range, found \"" + std::string(text) + "\"");
  }
  if (ec != std::errc() || ptr == s.data()) {
    throw UnitError("expected " + std::string(describe(d)) + ", found \"" + std::string(text) +
                    "\" (no number)");
  }
  std::string_view unit = trim(std::string_view(ptr, static_cast<size_t>(s.data() + s.size() - ptr)));
  if (unit.empty()) {
    throw UnitError("expected " + std::string(describe(d)) + ", found \"" + std::string(text) +
                    "\" (no unit)");
  }
  std::optional<double> f = unit_factor(unit, d);
  if (!f) {
    throw UnitError("expected " + std::string(describe(d)) + ", found \"" + std::string(text) +
                    "\" (unknown unit '" + std::string(unit) + "')");
  }
  // "1e300 PB" is a finite number whose SI value is not: the product is checked too
  if (!std::isfinite(value) || !std::isfinite(value * *f)) {
    throw UnitError("expected a finite number, found \"" + std::string(text) + "\"");
  }
  return value * *f;
}

std::string format(double v, Dim d) {
  char buf[64];
  if (d == Dim::time) {
    const double a = std::fabs(v);
    const char* u = "s";
    double f = 1.0;
    if (a != 0 && a < 1e-6) {
      u = "ns";
      f = 1e-9;
    } else if (a != 0 && a < 1e-3) {
      u = "us";
      f = 1e-6;
    } else if (a != 0 && a < 1) {
      u = "ms";
      f = 1e-3;
    }
    std::snprintf(buf, sizeof buf, "%.9g %s", v / f, u);
    return buf;
  }
  const char* base = d == Dim::bytes        ? "B"
                     : d == Dim::bandwidth  ? "B/s"
                     : d == Dim::flop_rate  ? "FLOPS"
                     : d == Dim::param_rate ? "params/s"
                                            : "FLOP";
  static constexpr std::array<std::pair<const char*, double>, 6> kDec{
      {{"P", 1e15}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}, {"", 1.0}}};
  const auto* prefix = &kDec.back();  // no prefix below 1000 (and for NaN)
  for (const auto& e : kDec) {
    if (std::fabs(v) >= e.second) {
      prefix = &e;
      break;
    }
  }
  std::snprintf(buf, sizeof buf, "%.9g %s%s", v / prefix->second, prefix->first, base);
  return buf;
}

}  // namespace sparsim::units
