// The configuration as a YAML tree with every include resolved and every --set applied,
// remembering where each value came from (file, line, column, or the command line).
// The typed loader (loader.hpp) reads it; `--resolved F` writes it back.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "config/error.hpp"

namespace sparsim::config {

class Tree {
 public:
  /// Loads `path` and, recursively, every file a mapping value names (a string ending in
  /// .yaml or .yml), relative to the file that names it. Throws InputError on a missing file,
  /// a YAML syntax error or an include cycle.
  static Tree load(const std::string& path);

  /// Applies `key.path=value` (the value is parsed as YAML; a .yaml path is an include relative
  /// to the working directory). Creates missing mapping keys; the typed loader then rejects the
  /// unknown ones. Throws InputError when the text has no '=' or the path crosses a scalar.
  /// Errors about the value name it as "FLAG key.path=value" (`sweep` passes "--vary").
  void set(const std::string& assignment, const std::string& flag = "--set");

  /// A deep copy: yaml-cpp nodes are handles, so a plain copy would share the YAML with this
  /// tree, and reading a scenario writes its defaults into the tree. yaml-cpp's Clone drops the
  /// source positions, so errors read from a copy name the file and key path without a line.
  Tree clone() const;

  /// `path` as written at `key_path`, made relative to the directory of the file that holds
  /// that key (the way includes are resolved).
  std::string relative_to_file(const std::string& key_path, const std::string& path) const;

  /// Where the node at `key_path` was written.
  Origin origin(const std::string& key_path, const YAML::Node& node) const;

  /// The resolved tree as YAML text.
  std::string emit() const;

  YAML::Node root() const { return root_; }
  const std::string& file() const { return file_; }

 private:
  void resolve_includes(YAML::Node node, const std::string& key_path, const std::string& file,
                        std::vector<std::string>& stack);

  YAML::Node root_;
  std::string file_;
  std::map<std::string, std::string> file_of_prefix_;  ///< key path -> file it was included from
  std::map<std::string, std::string> overrides_;       ///< key path -> "--set k=v" text
  bool positions_ = true;                              ///< false in a clone(): marks are gone
};

/// Whether a mapping key is one the loader reads: a single value (or null, read as "null"). YAML
/// also allows a mapping or a list as a key ("? [a, b]: x"); no scenario key is one.
bool is_key(const YAML::Node& key);
inline constexpr const char* kNotAKey = "expected a key that is a single value, found a mapping or list used as a key";

/// Parses one YAML file, turning yaml-cpp exceptions into InputError.
YAML::Node load_yaml_file(const std::string& path, const Origin& named_at, const std::string& key);

}  // namespace sparsim::config
