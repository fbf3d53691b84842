#include "validation/fit.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include "config/error.hpp"
#include "sim/analytic.hpp"

namespace sparsim::validation {

const std::vector<FitParameter>& fit_parameters() {
  static const std::vector<FitParameter> all = {
      {"device.gemm.plateau", 0.2, 1.0, [](Scenario& s) { return &s.cluster.node.device.gemm_plateau; }},
      {"device.attention_plateau", 0.05, 1.0, [](Scenario& s) { return &s.cluster.node.device.attention_plateau; }},
      {"device.attention_backward_plateau", 0.05, 1.0, [](Scenario& s) { return &s.cluster.node.device.attention_backward_plateau; }},
      {"device.memory_efficiency", 0.2, 1.0, [](Scenario& s) { return &s.cluster.node.device.memory_efficiency; }},
      {"device.kernel_overhead", 0.0, 100e-6, [](Scenario& s) { return &s.cluster.node.device.kernel_overhead; }},
      {"intra_node.efficiency", 0.1, 1.0, [](Scenario& s) { return &s.cluster.node.intra.efficiency; }},
      {"nic.efficiency", 0.1, 1.0, [](Scenario& s) { return &s.cluster.node.nic.efficiency; }},
  };
  return all;
}

std::vector<FitParameter> parameters_named(const std::string& keys) {
  std::vector<FitParameter> out;
  std::string known;
  for (const auto& p : fit_parameters()) known += (known.empty() ? "" : ", ") + p.key;
  std::stringstream ss(keys);
  std::string key;
  while (std::getline(ss, key, ',')) {
    const auto it = std::find_if(fit_parameters().begin(), fit_parameters().end(), [&](const FitParameter& p) { return p.key == key; });
    if (it == fit_parameters().end())
      throw InputError(Origin{"command line", 0, 0}, "--params", "unknown parameter '" + key + "'; known: " + known);
    if (std::any_of(out.begin(), out.end(), [&](const FitParameter& p) { return p.key == key; }))
      throw InputError(Origin{"command line", 0, 0}, "--params", "'" + key + "' is listed twice");
    out.push_back(*it);
  }
  if (out.empty()) throw InputError(Origin{"command line", 0, 0}, "--params", "expected at least one parameter; known: " + known);
  return out;
}

namespace {

/// Unconstrained coordinates: x = logit((v - lo) / (hi - lo)), so every x is inside the bounds.
double to_x(const FitParameter& p, double v) {
  const double u = std::clamp((v - p.lo) / (p.hi - p.lo), 1e-4, 1 - 1e-4);
  return std::log(u / (1 - u));
}
double to_v(const FitParameter& p, double x) { return p.lo + (p.hi - p.lo) / (1 + std::exp(-x)); }

class Objective {
 public:
  Objective(const RunSet& set, const std::vector<Scenario>& scs, const std::vector<FitParameter>& params)
      : set_(set), scs_(scs), params_(params) {}
  /// Signed errors of `rows` with the parameters at `values`.
  std::vector<double> errors(const std::vector<double>& values, const std::vector<std::size_t>& rows) {
    std::vector<double> e;
    for (std::size_t i : rows) {
      Scenario sc = scs_[i];
      for (std::size_t k = 0; k < params_.size(); ++k) *params_[k].of(sc) = values[k];
      const sim::StepResult r = sim::analytic_step(sc);
      ++evaluations;
      const double per_device = r.step_time > 0 ? r.tokens_per_s / double(std::max<std::int64_t>(1, r.devices)) : 0.0;
      e.push_back(per_device / set_.runs[i].tokens_per_s_per_gpu - 1);
    }
    return e;
  }
  double mape(const std::vector<double>& values, const std::vector<std::size_t>& rows) {
    const std::vector<double> e = errors(values, rows);
    double s = 0;
    for (double x : e) s += std::abs(x);
    return s / static_cast<double>(e.size());
  }
  std::size_t evaluations = 0;

 private:
  const RunSet& set_;
  const std::vector<Scenario>& scs_;
  const std::vector<FitParameter>& params_;
};

/// Nelder-Mead on the unconstrained coordinates from `start` (values), restarted once from the
/// best point (a fresh simplex gets it out of a collapsed one). Returns the best values.
std::vector<double> minimise(Objective& f, const std::vector<FitParameter>& params, const std::vector<double>& start,
                             const std::vector<std::size_t>& rows, int iterations) {
  const std::size_t n = params.size();
  auto value = [&](const std::vector<double>& x) {
    std::vector<double> v(n);
    for (std::size_t k = 0; k < n; ++k) v[k] = to_v(params[k], x[k]);
    return v;
  };
  auto cost = [&](const std::vector<double>& x) { return f.mape(value(x), rows); };
  std::vector<double> best(n);
  for (std::size_t k = 0; k < n; ++k) best[k] = to_x(params[k], start[k]);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::vector<double>> simplex(n + 1, best);
    for (std::size_t k = 0; k < n; ++k) simplex[k + 1][k] += 0.5;
    std::vector<double> c(n + 1);
    for (std::size_t i = 0; i <= n; ++i) c[i] = cost(simplex[i]);
    for (int it = 0; it < iterations / 2; ++it) {
      std::vector<std::size_t> order(n + 1);
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return c[a] < c[b]; });
      const std::size_t lo = order.front(), hi = order.back(), second = order[n - 1];
      if (c[hi] - c[lo] < 1e-7) break;
      std::vector<double> centre(n, 0.0);
      for (std::size_t i = 0; i <= n; ++i)
        if (i != hi)
          for (std::size_t k = 0; k < n; ++k) centre[k] += simplex[i][k] / static_cast<double>(n);
      auto along = [&](double t) {
        std::vector<double> x(n);
        for (std::size_t k = 0; k < n; ++k) x[k] = centre[k] + t * (simplex[hi][k] - centre[k]);
        return x;
      };
      const std::vector<double> r = along(-1);
      const double cr = cost(r);
      if (cr < c[lo]) {
        const std::vector<double> e = along(-2);
        const double ce = cost(e);
        simplex[hi] = ce < cr ? e : r, c[hi] = std::min(ce, cr);
      } else if (cr < c[second]) {
        simplex[hi] = r, c[hi] = cr;
      } else {
        const std::vector<double> k = along(cr < c[hi] ? -0.5 : 0.5);
        const double ck = cost(k);
        if (ck < std::min(cr, c[hi])) {
          simplex[hi] = k, c[hi] = ck;
        } else {  // shrink towards the best
          for (std::size_t i = 0; i <= n; ++i) {
            if (i == lo) continue;
            for (std::size_t j = 0; j < n; ++j) simplex[i][j] = simplex[lo][j] + 0.5 * (simplex[i][j] - simplex[lo][j]);
            c[i] = cost(simplex[i]);
          }
        }
      }
    }
    best = simplex[static_cast<std::size_t>(std::min_element(c.begin(), c.end()) - c.begin())];
  }
  return value(best);
}

}  // namespace

FitResult fit(const RunSet& set, const std::vector<Scenario>& scs, const std::vector<FitParameter>& params,
              const FitOptions& options) {
  SPARSIM_ASSERT(scs.size() == set.runs.size() && !scs.empty(), "fit: one scenario per run");
  Objective f(set, scs, params);
  FitResult r;
  Scenario base = scs.front();
  // an attention plateau of 0 means "the GEMM plateau" (the backward's: the forward's): start there
  Device& d = base.cluster.node.device;
  if (d.attention_plateau == 0) d.attention_plateau = d.gemm_plateau;
  if (d.attention_backward_plateau == 0) d.attention_backward_plateau = d.attention_plateau;
  for (const auto& p : params) r.start.push_back(std::clamp(*p.of(base), p.lo, p.hi));
  std::vector<std::size_t> all(scs.size());
  std::iota(all.begin(), all.end(), 0);
  r.start_mape = f.mape(r.start, all);
  r.values = minimise(f, params, r.start, all, options.iterations);
  r.mape = f.mape(r.values, all);
  auto without = [&](const std::vector<std::size_t>& out) {
    std::vector<std::size_t> in;
    for (std::size_t i : all)
      if (std::find(out.begin(), out.end(), i) == out.end()) in.push_back(i);
    return in;
  };
  if (options.folds > 1 && static_cast<std::size_t>(options.folds) <= all.size()) {
    std::vector<std::size_t> shuffled = all;
    std::mt19937_64 rng(1);  // the folds are the same every run
    for (std::size_t i = shuffled.size() - 1; i > 0; --i) std::swap(shuffled[i], shuffled[rng() % (i + 1)]);
    double sum = 0;
    for (int k = 0; k < options.folds; ++k) {
      std::vector<std::size_t> held;
      for (std::size_t i = static_cast<std::size_t>(k); i < shuffled.size(); i += static_cast<std::size_t>(options.folds)) held.push_back(shuffled[i]);
      const std::vector<double> v = minimise(f, params, r.values, without(held), options.iterations);
      for (double e : f.errors(v, held)) sum += std::abs(e);
    }
    r.kfold_mape = sum / static_cast<double>(all.size());
  }
  if (options.loo) {
    double sum = 0;
    for (std::size_t i : all) {
      const std::vector<double> v = minimise(f, params, r.values, without({i}), options.iterations);
      const double e = f.errors(v, {i}).front();
      r.loo_errors.push_back(e);
      sum += std::abs(e);
      if (std::abs(e) > std::abs(r.loo_worst)) r.loo_worst = e;
    }
    r.loo_mape = sum / static_cast<double>(all.size());
  }
  r.evaluations = f.evaluations;
  return r;
}

namespace {

/// Sets `key` (dotted, under the node's top mapping) to `text`, creating mappings on the way.
void set_key(YAML::Node top, const std::string& key, const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  YAML::Node n = top;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) n.reset(n[parts[i]]);
  n[parts.back()] = text;
}

std::string value_text(const FitParameter& p, double v) {
  if (p.key == "device.kernel_overhead") return fmt::format("{:.3g} us", v * 1e6);
  return fmt::format("{:.4g}", v);
}

}  // namespace

std::string fitted_node_yaml(const std::filesystem::path& base, const std::vector<FitParameter>& params, const FitResult& r,
                             const RunSet& set, const std::string& date) {
  std::ifstream in(base);
  std::string header, line;
  while (std::getline(in, line) && (line.empty() || line[0] == '#')) header += line + "\n";
  YAML::Node top = YAML::LoadFile(base.string());
  std::string fitted;
  for (std::size_t k = 0; k < params.size(); ++k) {
    set_key(top, params[k].key, value_text(params[k], r.values[k]));
    fitted += (fitted.empty() ? "" : ", ") + params[k].key + " " + value_text(params[k], r.start[k]) + " -> " +
              value_text(params[k], r.values[k]);
  }
  std::string errors = fmt::format("MAPE {:.1f}% on the {} runs ({:.1f}% before)", 100 * r.mape, set.runs.size(), 100 * r.start_mape);
  if (r.kfold_mape >= 0) errors += fmt::format(", 5-fold {:.1f}%", 100 * r.kfold_mape);
  if (r.loo_mape >= 0) errors += fmt::format(", leave-one-out {:.1f}% (worst {:+.1f}%)", 100 * r.loo_mape, 100 * r.loo_worst);
  const std::string provenance = "fitted by `sparsim fit` on " + date + " to " + set.runs_file.filename().string() + " (" +
                                 set.name + ", " + std::to_string(set.runs.size()) + " runs): " + fitted + "; " + errors;
  YAML::Node source = top["source"];
  if (!source) {
    top["source"] = YAML::Node(YAML::NodeType::Sequence);
    source = top["source"];
  } else if (!source.IsSequence()) {
    const YAML::Node old = YAML::Clone(source);
    top["source"] = YAML::Node(YAML::NodeType::Sequence);
    source = top["source"];
    source.push_back(old);
  }
  source.push_back(provenance);
  YAML::Emitter e;
  e << top;
  return header + "# " + provenance + "\n" + e.c_str() + "\n";
}

}  // namespace sparsim::validation
