#include "output.hpp"

#include <filesystem>
#include <fstream>

#include "config/error.hpp"

namespace sparsim::app {

namespace fs = std::filesystem;

void check_output_path(const std::string& path, bool force, const std::vector<std::string>& inputs) {
  const Origin cli{"command line", 0, 0};
  std::error_code ec;
  for (const auto& in : inputs) {
    if (fs::exists(path, ec) && fs::equivalent(path, in, ec)) {
      throw InputError(cli, path, "refusing to overwrite an input file");
    }
  }
  if (!force && fs::exists(path, ec)) {
    throw InputError(cli, path, "output file exists; pass --force to replace it");
  }
}

void write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(Origin{"command line", 0, 0}, path, "cannot write file");
    out << text;
    if (!out.flush()) throw InputError(Origin{"command line", 0, 0}, path, "write failed");
  }
  fs::rename(tmp, path);
}

}  // namespace sparsim::app
