#include "validation/compare.hpp"

#include <algorithm>
#include <cmath>

#include "config/error.hpp"

namespace sparsim::validation {

Categories categories(const nlohmann::json& j) {
  const auto& b = j.at("breakdown_s");
  const auto& c = b.at("exposed_comm");
  return {{"step", j.at("step_time_s").get<double>()},   {"compute", b.at("compute").get<double>()},
          {"ep", c.at("ep").get<double>()},              {"dp", c.at("dp").get<double>()},
          {"h2d", b.at("h2d").get<double>()},            {"d2h", b.at("d2h").get<double>()},
          {"host_optimizer", b.at("host_optimizer").get<double>()}, {"optimizer", b.at("optimizer").get<double>()}};
}

namespace {
/// A calibration's step at its probe's speed (scaled: times the probe, a machine-speed-free
/// number; else as predicted).
double intrinsic(const Calibration& c, bool scaled) { return scaled ? c.predicted.at(0).second * c.speed : c.predicted.at(0).second; }
}  // namespace

bool needs_third(const Calibration& before, const Calibration& after, bool scaled) {
  const double b = intrinsic(before, scaled);
  return b > 0 && std::abs(intrinsic(after, scaled) / b - 1) > (scaled ? kDisagreeScaled : kDisagree);
}

std::size_t median_index(const std::vector<double>& v) {
  SPARSIM_ASSERT(!v.empty(), "median of nothing");
  std::vector<std::size_t> order(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  return order[(order.size() - 1) / 2];
}

Outcome compare(const std::vector<Calibration>& cals, const std::vector<Run>& runs, bool scaled, double tolerance) {
  SPARSIM_ASSERT(cals.size() == 2 || cals.size() == 3, "compare: two or three calibrations");
  SPARSIM_ASSERT(!runs.empty(), "compare: no runs");
  const std::size_t n = cals[0].predicted.size();
  for (const Calibration& c : cals) SPARSIM_ASSERT(c.predicted.size() == n, "compare: calibrations with different categories");
  Outcome o;
  o.scaled = scaled;
  if (cals.size() == 3) {
    std::vector<double> three;
    for (const Calibration& c : cals) three.push_back(intrinsic(c, scaled));
    o.median_calibration = static_cast<int>(median_index(three));
  }
  const Calibration &before = cals[0], &after = cals[1];
  auto weight = [&](const Run& r) {
    if (scaled) return 0.5;
    return after.t > before.t ? std::clamp((r.t - before.t) / (after.t - before.t), 0.0, 1.0) : 0.5;
  };
  // category i predicted for run r, unscaled or (scaled) at the run's speed
  auto predicted = [&](std::size_t i, const Run& r, bool at_run_speed) {
    auto at = [&](const Calibration& c) { return c.predicted[i].second * (scaled && at_run_speed ? c.speed / r.speed : 1.0); };
    if (o.median_calibration >= 0) return at(cals[static_cast<std::size_t>(o.median_calibration)]);
    const double w = weight(r);
    return (1 - w) * at(before) + w * at(after);
  };
  for (const Run& r : runs) {
    const double p = predicted(0, r, true);
    o.run_errors.push_back(r.median_step > 0 ? (p - r.median_step) / r.median_step : 0.0);
  }
  o.pick = median_index(o.run_errors);
  const Run& run = runs[o.pick];
  o.weight = weight(run);
  for (std::size_t i = 0; i < n; ++i) o.predicted.emplace_back(cals[0].predicted[i].first, predicted(i, run, true));
  o.unscaled_step = predicted(0, run, false);
  o.error = o.run_errors[o.pick];
  o.pass = std::abs(o.error) <= tolerance;
  return o;
}

}  // namespace sparsim::validation
