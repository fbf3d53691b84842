#include "analysis/grid.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>

#include "config/error.hpp"

namespace sparsim::analysis {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

/// A number and the unit written after it ("100 Gbps" -> 100, "Gbps"; "8" -> 8, "").
struct Quantity {
  double value = 0;
  std::string unit;
};

/// The leading number of `s` and where it ends; nullopt when `s` does not start with one.
std::optional<std::pair<double, std::size_t>> leading_number(std::string_view s) {
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  return std::make_pair(v, static_cast<std::size_t>(p - s.data()));
}

/// A unit starts with a letter (or a non-ASCII sign such as µ) and has no spaces inside.
bool unit_like(std::string_view u) {
  if (u.empty()) return true;
  if (!(std::isalpha(static_cast<unsigned char>(u.front())) || static_cast<unsigned char>(u.front()) >= 0x80)) return false;
  return std::none_of(u.begin(), u.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

/// "<number> [unit]" with nothing else; nullopt otherwise.
std::optional<Quantity> quantity(std::string_view text) {
  const std::string_view s = trim(text);
  const auto n = leading_number(s);
  if (!n) return std::nullopt;
  const std::string_view u = trim(s.substr(n->second));
  if (!unit_like(u)) return std::nullopt;
  return Quantity{n->first, std::string(u)};
}

/// A range value as YAML text: integers exactly, others with 12 significant digits (which hides
/// the rounding of a + i * step: 0.1 + 2 * 0.1 prints as 0.3).
std::string format_value(double v, const std::string& unit) {
  const std::string n = v == std::floor(v) && std::fabs(v) < 1e15 ? fmt::format("{:.0f}", v) : fmt::format("{:.12g}", v);
  return unit.empty() ? n : n + " " + unit;
}

/// Splits at commas outside [] and {} (a YAML list or mapping is one value).
std::vector<std::string> split_top_level(std::string_view s) {
  std::vector<std::string> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || (s[i] == ',' && depth == 0)) {
      out.emplace_back(trim(s.substr(start, i - start)));
      start = i + 1;
    } else if (s[i] == '[' || s[i] == '{') {
      ++depth;
    } else if ((s[i] == ']' || s[i] == '}') && depth > 0) {
      --depth;
    }
  }
  return out;
}

class AxisParser {
 public:
  explicit AxisParser(const std::string& arg) : origin_{"--vary " + arg, 0, 0} {
    const auto eq = arg.find('=');
    if (eq == std::string::npos || trim(std::string_view(arg).substr(0, eq)).empty()) {
      throw InputError(origin_, "", "expected key.path=v1,v2,... or key.path=a..b+step or key.path=a..b*factor");
    }
    axis_.key = std::string(trim(std::string_view(arg).substr(0, eq)));
    axis_.spec = std::string(trim(std::string_view(arg).substr(eq + 1)));
  }

  Axis parse() {
    if (axis_.spec.empty()) fail("empty value: expected v1,v2,... or a..b+step or a..b*factor");
    const auto items = split_top_level(axis_.spec);
    const auto dots = axis_.spec.find("..");
    if (items.size() == 1 && dots != std::string::npos && quantity(std::string_view(axis_.spec).substr(0, dots))) {
      parse_range(dots);
    } else {
      parse_list(items);
    }
    std::set<std::string> seen;
    for (const auto& v : axis_.values) {
      if (!seen.insert(v).second) fail("value '" + v + "' is listed twice");
    }
    return axis_;
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const { throw InputError(origin_, axis_.key, msg); }
  [[noreturn]] void fail_range(const std::string& msg) const { fail("range '" + axis_.spec + "': " + msg); }

  void parse_list(const std::vector<std::string>& items) {
    if (items.size() > kMaxPoints) fail(fmt::format("{} values; at most {}", items.size(), kMaxPoints));
    for (const auto& v : items) {
      if (v.empty()) fail("empty value in the list '" + axis_.spec + "' (two commas in a row, or one at an end)");
      axis_.values.push_back(v);
    }
    // Numeric when every value is a number in one unit (or none): plots get a numeric x axis.
    std::vector<double> numbers;
    for (const auto& v : items) {
      const auto q = quantity(v);
      if (!q || (!numbers.empty() && q->unit != axis_.unit)) return;
      if (numbers.empty()) axis_.unit = q->unit;
      numbers.push_back(q->value);
    }
    axis_.numbers = numbers;
  }

  void parse_range(std::size_t dots) {
    const std::string_view spec = axis_.spec;
    const Quantity a = *quantity(spec.substr(0, dots));
    const std::string_view rest = trim(spec.substr(dots + 2));
    const auto b = leading_number(rest);
    if (!b) fail_range("expected a number after '..' (a..b+step or a..b*factor)");
    const auto op = rest.find_first_of("+*", b->second);
    if (op == std::string_view::npos) fail_range("expected a step: a..b+step (arithmetic) or a..b*factor (geometric)");
    const std::string b_unit(trim(rest.substr(b->second, op - b->second)));
    const auto step = quantity(rest.substr(op + 1));
    if (!step) fail_range("expected a number after '" + std::string(1, rest[op]) + "', found '" + std::string(trim(rest.substr(op + 1))) + "'");
    if (!unit_like(b_unit)) fail_range("expected a unit or '+'/'*' after the end, found '" + b_unit + "'");
    if (!std::isfinite(a.value) || !std::isfinite(b->first) || !std::isfinite(step->value)) fail_range("expected finite numbers");
    const bool geometric = rest[op] == '*';
    if (geometric && !step->unit.empty()) fail_range("a factor has no unit, found '" + step->unit + "'");
    for (const std::string& u : {a.unit, b_unit, step->unit}) {  // one unit, written anywhere
      if (!u.empty() && !axis_.unit.empty() && u != axis_.unit) {
        fail_range("the numbers are in different units ('" + axis_.unit + "' and '" + u + "'); write them in one unit");
      }
      if (!u.empty()) axis_.unit = u;
    }
    if (a.value > b->first) {
      fail_range(fmt::format("the start {} is greater than the end {}; write the smaller end first", a.value, b->first));
    }
    if (!geometric) {
      axis_.kind = AxisKind::arithmetic;
      if (!(step->value > 0)) fail_range(fmt::format("expected a step > 0, found {}", step->value));
      fill(a.value, b->first, (b->first - a.value) / step->value, [&](double i) { return a.value + i * step->value; });
    } else {
      axis_.kind = AxisKind::geometric;
      if (!(step->value > 1)) fail_range(fmt::format("expected a factor > 1, found {}", step->value));
      if (!(a.value > 0)) fail_range(fmt::format("a geometric range needs a start > 0, found {}", a.value));
      fill(a.value, b->first, std::log(b->first / a.value) / std::log(step->value),
           [&](double i) { return a.value * std::pow(step->value, i); });
    }
  }

  /// Points a, ..., up to b: `steps` is how many steps fit between them (b included when the
  /// last one lands within kRangeEpsilon of it); value(i) is the i-th point.
  template <class F>
  void fill(double a, double b, double steps, F value) {
    const double n = std::floor(steps + kRangeEpsilon) + 1;
    if (n > static_cast<double>(kMaxPoints)) {
      fail_range(fmt::format("{:.6g} points; at most {} (a larger step or factor?)", n, kMaxPoints));
    }
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
      double v = value(static_cast<double>(i));
      if (std::fabs(v - b) <= kRangeEpsilon * std::max(std::fabs(b), std::fabs(a))) v = b;
      axis_.values.push_back(format_value(v, axis_.unit));
      axis_.numbers.push_back(v);
    }
  }

  Origin origin_;
  Axis axis_;
};

}  // namespace

Axis parse_vary(const std::string& arg) { return AxisParser(arg).parse(); }

void check_keys(const std::vector<Axis>& axes, const std::vector<std::string>& sets) {
  std::set<std::string> varied;
  for (const auto& a : axes) {
    if (!varied.insert(a.key).second) {
      throw InputError(Origin{"--vary " + a.key + "=" + a.spec, 0, 0}, a.key, "this key is varied twice; give all its values in one --vary");
    }
  }
  for (const auto& s : sets) {
    const std::string key(trim(std::string_view(s).substr(0, s.find('='))));
    if (varied.count(key) != 0) {
      throw InputError(Origin{"--set " + s, 0, 0}, key, "this key is also varied (--vary); drop one of the two");
    }
  }
}

std::size_t grid_size(const std::vector<Axis>& axes) {
  double n = 1;  // each axis has at most kMaxPoints values: a double holds the product exactly
  std::string sizes;
  for (const auto& a : axes) {
    n *= static_cast<double>(a.values.size());
    sizes += fmt::format("{}{}: {}", sizes.empty() ? "" : " x ", a.key, a.values.size());
  }
  if (n > static_cast<double>(kMaxPoints)) {
    throw InputError(Origin{"--vary", 0, 0}, "",
                     fmt::format("the grid has {:.0f} points ({}); at most {}", n, sizes, kMaxPoints));
  }
  return static_cast<std::size_t>(n);
}

std::vector<std::vector<std::size_t>> grid(const std::vector<Axis>& axes) {
  const std::size_t n = grid_size(axes);
  std::vector<std::vector<std::size_t>> out(n, std::vector<std::size_t>(axes.size()));
  for (std::size_t p = 0; p < n; ++p) {
    std::size_t rest = p;
    for (std::size_t k = axes.size(); k-- > 0;) {  // the last axis is the fastest digit
      out[p][k] = rest % axes[k].values.size();
      rest /= axes[k].values.size();
    }
  }
  return out;
}

const char* to_string(AxisKind k) {
  switch (k) {
    case AxisKind::list: return "list";
    case AxisKind::arithmetic: return "arithmetic";
    case AxisKind::geometric: return "geometric";
  }
  return "list";
}

}  // namespace sparsim::analysis
