// The one loader: scenario YAML (with includes and --set overrides) -> typed Scenario.
#pragma once

#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "config/tree.hpp"

namespace sparsim::config {

struct Loaded {
  Scenario scenario;
  Tree tree;  ///< resolved configuration, defaults filled in (for --resolved)
};

/// Loads a scenario file, applies `overrides` ("key.path=value") in order and validates every
/// key. Throws InputError on any bad input.
Loaded load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});

/// A comparison file: `name`, `baseline` (a variant name) and `variants` (name -> scenario file
/// or inline scenario). Every override applies to every variant.
struct Comparison {
  std::string name;
  std::string baseline;
  std::vector<std::pair<std::string, Scenario>> variants;
  Tree tree;
};
Comparison load_comparison(const std::string& path, const std::vector<std::string>& overrides = {});

/// Reads a model file on its own (the model library; tests of parameter counts).
Model load_model(const std::string& path);
/// Reads a node (hardware) file on its own.
Node load_node(const std::string& path);

// Readers of the parts, for files that embed them.
class Reader;
Scenario read_scenario(Reader top, const std::string& file);
Model read_model(Reader r);
Node read_node(Reader r);
Network read_network(Reader r);

}  // namespace sparsim::config
