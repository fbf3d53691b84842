// Typed reading of one YAML mapping with key paths in every error, and rejection of unknown
// keys (DESIGN.md "Errors"). Defaults that are applied are written back into the tree, so the
// resolved configuration (`--resolved`) shows every value the simulation used.
#pragma once

#include <yaml-cpp/yaml.h>

#include <limits>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/enums.hpp"
#include "config/tree.hpp"
#include "config/units.hpp"

namespace sparsim::config {

/// A name -> value table for an enumerated key; errors list the known names (STYLE.md #8).
template <class E>
using Choices = std::vector<std::pair<std::string, E>>;

class Reader {
 public:
  Reader(const Tree& tree, YAML::Node map, std::string key_path);

  bool has(const std::string& key) const;
  bool is_list(const std::string& key) const { return has(key) && map_[key].IsSequence(); }

  /// The default largest integer accepted: the keys held in an `int` (a larger value is an
  /// error, never a silent wrap). Counts that grow with the cluster pass kMaxCount.
  static constexpr long long kMaxInt = std::numeric_limits<int>::max();

  /// Required keys. `min` and `max` bound the value accepted (sizes must be positive).
  long long integer(const std::string& key, long long min = 1, long long max = kMaxInt);
  double number(const std::string& key, double min, double max);
  double quantity(const std::string& key, units::Dim d);  ///< > 0
  std::string text(const std::string& key);
  bool flag(const std::string& key);
  template <class E>
  E choice(const std::string& key, const Choices<E>& choices);
  /// A shared policy (config/enums.hpp): "unknown router 'x'; known: ..." names its kind.
  template <class E>
  E choice(const std::string& key, const Names<E>& names);

  /// Optional keys with a default (written back into the tree).
  long long integer_or(const std::string& key, long long def, long long min = 1, long long max = kMaxInt);
  double number_or(const std::string& key, double def, double min, double max);
  double quantity_or(const std::string& key, units::Dim d, double def);
  bool flag_or(const std::string& key, bool def);
  template <class E>
  E choice_or(const std::string& key, const Choices<E>& choices, E def);
  template <class E>
  E choice_or(const std::string& key, const Names<E>& names, E def);

  /// A nested mapping (required).
  Reader child(const std::string& key);
  /// A sequence: the nodes and their key paths.
  std::vector<std::pair<YAML::Node, std::string>> sequence(const std::string& key);

  /// Throws for every key of the mapping that was never read (except source/note).
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  [[noreturn]] void fail_at(const YAML::Node& node, const std::string& key_path,
                            const std::string& message) const;
  const std::string& path() const { return path_; }
  const Tree& tree() const { return *tree_; }

  /// Reads a scalar node as `T`, or throws naming `key_path`.
  long long as_integer(const YAML::Node& n, const std::string& key_path, long long min, long long max = kMaxInt) const;
  double as_number(const YAML::Node& n, const std::string& key_path, double min, double max) const;

 private:
  YAML::Node get(const std::string& key);  ///< required, marks used
  std::string sub(const std::string& key) const;
  std::string scalar(const YAML::Node& n, const std::string& key_path) const;
  template <class E>
  E lookup(const YAML::Node& n, const std::string& key_path, const Choices<E>& choices) const;

  const Tree* tree_;
  YAML::Node map_;
  std::string path_;
  std::set<std::string> used_;
  mutable std::set<std::string> asked_;  ///< optional keys looked for with has(): known here too
};

template <class E>
E Reader::lookup(const YAML::Node& n, const std::string& key_path, const Choices<E>& choices) const {
  const std::string s = scalar(n, key_path);
  std::string known;
  for (const auto& [name, value] : choices) {
    if (name == s) return value;
    known += (known.empty() ? "" : ", ") + name;
  }
  fail_at(n, key_path, "unknown value '" + s + "'; known: " + known);
}

template <class E>
E Reader::choice(const std::string& key, const Choices<E>& choices) {
  return lookup(get(key), sub(key), choices);
}

template <class E>
E Reader::choice(const std::string& key, const Names<E>& names) {
  const YAML::Node n = get(key);
  const std::string s = scalar(n, sub(key));
  if (const auto v = names.find(s)) return *v;
  fail_at(n, sub(key), names.unknown(s));
}

template <class E>
E Reader::choice_or(const std::string& key, const Choices<E>& choices, E def) {
  if (has(key)) return choice(key, choices);
  used_.insert(key);
  for (const auto& [name, value] : choices) {
    if (value == def) {
      map_[key] = name;
      break;
    }
  }
  return def;
}

template <class E>
E Reader::choice_or(const std::string& key, const Names<E>& names, E def) {
  if (has(key)) return choice(key, names);
  return choice_or(key, names.values, def);
}

}  // namespace sparsim::config
