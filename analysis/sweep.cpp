#include "analysis/sweep.hpp"

#include <algorithm>

#include "config/error.hpp"
#include "config/loader.hpp"
#include "config/reader.hpp"
#include "sim/analytic.hpp"
#include "sim/des/des_backend.hpp"
#include "sim/isolate.hpp"

namespace sparsim::analysis {

namespace {

std::string key_of(const std::string& assignment) { return assignment.substr(0, assignment.find('=')); }

/// `inner` is `outer` or a key inside it.
bool inside(const std::string& inner, const std::string& outer) {
  return inner.rfind(outer, 0) == 0 && (inner.size() == outer.size() || inner[outer.size()] == '.');
}

std::size_t depth(const std::string& assignment) {
  const std::string k = key_of(assignment);
  return static_cast<std::size_t>(std::count(k.begin(), k.end(), '.'));
}

const char* kVary = "--vary";

}  // namespace

Sweep::Sweep(std::string file, std::vector<std::string> sets, std::vector<Axis> axes)
    : file_(std::move(file)), sets_(std::move(sets)), axes_(std::move(axes)) {
  check_keys(axes_, sets_);
  std::vector<std::string> late_sets;
  for (const auto& s : sets_) {
    const bool late = std::any_of(axes_.begin(), axes_.end(), [&](const Axis& a) { return inside(key_of(s), a.key); });
    (late ? late_sets : early_sets_).push_back(s);
  }
  for (auto& index : grid(axes_)) {
    Point p{std::move(index), {}};
    for (std::size_t k = 0; k < axes_.size(); ++k) p.assignments.push_back(axes_[k].key + "=" + axes_[k].values[p.index[k]]);
    p.assignments.insert(p.assignments.end(), late_sets.begin(), late_sets.end());
    // A key before the keys inside it (cluster.node before cluster.node.nic.count), else in
    // --vary order: a value that replaces a subtree comes before the values set inside it.
    std::stable_sort(p.assignments.begin(), p.assignments.end(),
                     [](const std::string& a, const std::string& b) { return depth(a) < depth(b); });
    points_.push_back(std::move(p));
  }
  base_ = config::Tree::load(file_);
  for (const auto& s : early_sets_) base_.set(s);
}

void Sweep::apply(config::Tree& t, const Point& p) const {
  for (const auto& a : p.assignments) {
    const bool fixed = std::find(sets_.begin(), sets_.end(), a) != sets_.end();
    t.set(a, fixed ? "--set" : kVary);
  }
}

Scenario Sweep::scenario(std::size_t i) const {
  SPARSIM_ASSERT(i < points_.size(), "sweep point out of range");
  try {
    config::Tree t = base_.clone();
    apply(t, points_[i]);
    return config::read_scenario(config::Reader(t, t.root(), ""), file_);
  } catch (const InputError&) {
    // The copy has no source positions: read this point again from its files, as simulate
    // does, so the error names the line too, and the point when the file is blamed.
    try {
      config::Tree t = config::Tree::load(file_);
      for (const auto& s : early_sets_) t.set(s);
      apply(t, points_[i]);
      config::read_scenario(config::Reader(t, t.root(), ""), file_);
    } catch (const InputError& e) {
      if (e.origin().file.rfind(kVary, 0) == 0) throw;
      std::string at;
      for (const auto& a : points_[i].assignments) at += (at.empty() ? "" : ", ") + a;
      throw InputError(e.origin(), e.key_path(), e.message() + " (at the sweep point " + at + ")");
    }
    SPARSIM_UNREACHABLE("a sweep point failed on the copied tree but reads from its files");
  }
}

std::string verdict(const nlohmann::json& result) {
  if (result.contains("verdict")) return result.at("verdict").get<std::string>();
  // results written before the verdict field
  if (!result.at("feasible").get<bool>()) return "infeasible";
  return result.at("memory").at("fits").get<bool>() ? "runs" : "does-not-fit";
}

nlohmann::json evaluate_point(const Sweep& s, std::size_t i, Backend backend) {
  const Scenario sc = s.scenario(i);
  if (backend == Backend::des) return sim::in_child([&] { return sim::to_json(sim::des_step(sc)); });
  return sim::to_json(sim::analytic_step(sc));
}

std::vector<nlohmann::json> evaluate(const Sweep& s, Backend backend, const std::function<void(std::size_t)>& progress,
                                     Share share) {
  const std::size_t n = s.points().size();
  std::vector<nlohmann::json> results(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!share.has(i)) {
      s.scenario(i);  // read only: a bad value anywhere surfaces here, on every share
      continue;
    }
    results[i] = evaluate_point(s, i, Backend::analytic);  // a bad value anywhere surfaces here
    if (backend == Backend::analytic && progress) progress(i);
  }
  if (backend == Backend::des) {
    for (std::size_t i = 0; i < n; ++i) {
      if (!share.has(i)) continue;
      results[i] = evaluate_point(s, i, Backend::des);
      if (progress) progress(i);
    }
  }
  return results;
}

}  // namespace sparsim::analysis
