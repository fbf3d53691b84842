// Writing result files without losing anything the user wrote: an existing file is replaced
// only with --force, and never when it is one of the inputs; writes are atomic (temp + rename).
#pragma once

#include <string>
#include <vector>

namespace sparsim::app {

/// Throws InputError (exit 2) when `path` exists and `force` is false, or names an input.
void check_output_path(const std::string& path, bool force, const std::vector<std::string>& inputs);
/// Writes `text` to `path` atomically.
void write_file(const std::string& path, const std::string& text);

}  // namespace sparsim::app
