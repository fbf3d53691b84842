// What both fuzz targets need around the code they drive: a fresh temporary directory for the
// files they write, and writing one.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace sparsim::fuzz {

/// A new directory /tmp/sparsim-fuzz-NAME-XXXXXX; aborts when it cannot be made.
inline std::filesystem::path fresh_temp_dir(const std::string& name) {
  std::string tmpl = "/tmp/sparsim-fuzz-" + name + "-XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    std::abort();
  }
  return tmpl;
}

/// Replaces the file's contents with `text`, byte for byte.
inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace sparsim::fuzz
