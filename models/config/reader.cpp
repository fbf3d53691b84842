#include "config/reader.hpp"

#include <algorithm>
#include <charconv>
#include <vector>
#include <cmath>
#include <limits>

namespace sparsim::config {

Reader::Reader(const Tree& tree, YAML::Node map, std::string key_path)
    : tree_(&tree), map_(std::move(map)), path_(std::move(key_path)) {
  if (!map_.IsMap()) fail_at(map_, path_, "expected a mapping");
  for (auto it = map_.begin(); it != map_.end(); ++it)
    if (!is_key(it->first)) fail_at(it->first, path_, kNotAKey);
}

std::string Reader::sub(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

bool Reader::has(const std::string& key) const {
  asked_.insert(key);
  const YAML::Node n = map_[key];
  return n.IsDefined() && !n.IsNull();
}

void Reader::fail(const std::string& key, const std::string& message) const {
  YAML::Node n = map_[key];
  fail_at(n.IsDefined() ? n : map_, sub(key), message);
}

void Reader::fail_at(const YAML::Node& node, const std::string& key_path,
                     const std::string& message) const {
  throw InputError(tree_->origin(key_path, node), key_path, message);
}

namespace {
// Levenshtein distance, to point at a misspelt key instead of reporting the key as missing.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}
}  // namespace

YAML::Node Reader::get(const std::string& key) {
  used_.insert(key);
  if (!has(key)) {
    for (auto it = map_.begin(); it != map_.end(); ++it) {
      const std::string k = it->first.as<std::string>();
      if (!used_.count(k) && edit_distance(k, key) <= 2) {
        fail_at(it->first, sub(k), "unknown key '" + k + "'; did you mean '" + key + "'?");
      }
    }
    fail_at(map_, sub(key), "missing required key '" + key + "'");
  }
  return map_[key];
}

std::string Reader::scalar(const YAML::Node& n, const std::string& key_path) const {
  if (!n.IsScalar()) fail_at(n, key_path, "expected a single value, found a mapping or list");
  return n.Scalar();
}

long long Reader::as_integer(const YAML::Node& n, const std::string& key_path, long long min, long long max) const {
  const std::string s = scalar(n, key_path);
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  const std::string range = max == std::numeric_limits<long long>::max()
                                ? ">= " + std::to_string(min)
                                : "in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  // Out of the range of a long long: digits from_chars could not hold.
  if (ec == std::errc::result_out_of_range) fail_at(n, key_path, "expected an integer " + range + ", found " + s);
  if (ec != std::errc() || p != s.data() + s.size()) {
    fail_at(n, key_path, "expected an integer, found '" + s + "'");
  }
  if (v < min || v > max) fail_at(n, key_path, "expected an integer " + range + ", found " + s);
  return v;
}

double Reader::as_number(const YAML::Node& n, const std::string& key_path, double min,
                         double max) const {
  const std::string s = scalar(n, key_path);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) {
    fail_at(n, key_path, "expected a number, found '" + s + "'");
  }
  if (v < min || v > max) {
    fail_at(n, key_path, "expected a number in [" + std::to_string(min) + ", " +
                             std::to_string(max) + "], found " + s);
  }
  return v;
}

long long Reader::integer(const std::string& key, long long min, long long max) {
  return as_integer(get(key), sub(key), min, max);
}

double Reader::number(const std::string& key, double min, double max) {
  return as_number(get(key), sub(key), min, max);
}

double Reader::quantity(const std::string& key, units::Dim d) {
  YAML::Node n = get(key);
  const std::string s = scalar(n, sub(key));
  double v = 0;
  try {
    v = units::parse(s, d);
  } catch (const units::UnitError& e) {
    fail_at(n, sub(key), e.what());
  }
  if (!(v > 0)) fail_at(n, sub(key), "expected a positive value, found '" + s + "'");
  return v;
}

std::string Reader::text(const std::string& key) { return scalar(get(key), sub(key)); }

bool Reader::flag(const std::string& key) {
  YAML::Node n = get(key);
  const std::string s = scalar(n, sub(key));
  if (s == "true") return true;
  if (s == "false") return false;
  fail_at(n, sub(key), "expected true or false, found '" + s + "'");
}

long long Reader::integer_or(const std::string& key, long long def, long long min, long long max) {
  if (has(key)) return integer(key, min, max);
  used_.insert(key);
  map_[key] = def;
  return def;
}

double Reader::number_or(const std::string& key, double def, double min, double max) {
  if (has(key)) return number(key, min, max);
  used_.insert(key);
  map_[key] = def;
  return def;
}

double Reader::quantity_or(const std::string& key, units::Dim d, double def) {
  if (has(key)) return quantity(key, d);
  used_.insert(key);
  map_[key] = units::format(def, d);
  return def;
}

bool Reader::flag_or(const std::string& key, bool def) {
  if (has(key)) return flag(key);
  used_.insert(key);
  map_[key] = def;
  return def;
}

Reader Reader::child(const std::string& key) {
  YAML::Node n = get(key);
  if (!n.IsMap()) fail_at(n, sub(key), "expected a mapping (or the path of a .yaml file)");
  return Reader(*tree_, n, sub(key));
}

std::vector<std::pair<YAML::Node, std::string>> Reader::sequence(const std::string& key) {
  YAML::Node n = get(key);
  if (!n.IsSequence()) fail_at(n, sub(key), "expected a list");
  std::vector<std::pair<YAML::Node, std::string>> out;
  for (size_t i = 0; i < n.size(); ++i) out.emplace_back(n[i], sub(key) + "." + std::to_string(i));
  return out;
}

void Reader::finish() const {
  for (auto it = map_.begin(); it != map_.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    if (k == "source" || k == "note" || used_.count(k)) continue;
    std::set<std::string> all(used_);
    all.insert(asked_.begin(), asked_.end());
    for (const auto& u : all)
      if (!map_[u].IsDefined() && edit_distance(k, u) <= 2)
        fail_at(it->first, sub(k), "unknown key '" + k + "'; did you mean '" + u + "'?");
    std::string known;
    for (const auto& u : all) known += (known.empty() ? "" : ", ") + u;
    fail_at(it->first, sub(k), "unknown key '" + k + "'; known here: " + known);
  }
}

}  // namespace sparsim::config
