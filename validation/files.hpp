// Reading and writing the files of a validate directory (it belongs to validate: its files are
// rewritten on every run).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace sparsim::validation {

/// Writes `text` to `path` (atomically: a temporary file, then a rename).
void write_text(const std::filesystem::path& path, const std::string& text);
/// Parses a JSON file; throws std::runtime_error naming a missing or bad file.
nlohmann::json read_json(const std::filesystem::path& path);

}  // namespace sparsim::validation
