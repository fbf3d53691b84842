// Loads a trainer config YAML (schema: README.md) with the project's loader conventions:
// config::Tree (includes, --set overrides, file:line origins) and config::Reader (typed keys,
// unknown keys rejected, InputError naming file, line and key path).
#pragma once

#include <string>
#include <vector>

#include "config.hpp"

namespace sparsim::trainer {

struct TrainFile {
  std::string name;
  TrainConfig config;
  std::string corpus;       ///< directory, or "synthetic"
  int warmup_steps = 1;
  std::string checkpoint;   ///< empty = none
  int checkpoint_every = 0;
  bool resume = false;
  std::string resolved;     ///< the resolved YAML (defaults written back)
};

TrainFile load_train_file(const std::string& path, const std::vector<std::string>& sets = {});

}  // namespace sparsim::trainer
