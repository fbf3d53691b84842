#include "gnuplot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

extern char** environ;

namespace sparsim::report {

namespace fs = std::filesystem;

namespace {

/// A fresh private directory, removed when this goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sparsim-report-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw ToolError("cannot create a temporary directory: " + std::string(std::strerror(errno)));
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string run_gnuplot(const std::string& script, const std::string& program) {
  TempDir tmp;
  const fs::path script_path = tmp.path() / "plot.gp", out_path = tmp.path() / "out.svg",
                 err_path = tmp.path() / "err.txt";
  {
    std::ofstream f(script_path, std::ios::binary);
    f << script;
    if (!f.flush()) throw ToolError("cannot write " + script_path.string());
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> argv_s{program, script_path.string()};
  std::vector<char*> argv{argv_s[0].data(), argv_s[1].data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == ENOENT) {
    throw ToolError("'" + program + "' not found on PATH; the report plots need gnuplot: install gnuplot-nox "
                    "(scripts/install-deps.sh does)");
  }
  if (rc != 0) throw ToolError("cannot start '" + program + "': " + std::string(std::strerror(rc)));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw ToolError("waiting for '" + program + "': " + std::string(std::strerror(errno)));
  }
  const std::string err = slurp(err_path);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                              : "was killed by signal " + std::to_string(WTERMSIG(status));
    throw ToolError("'" + program + "' " + how + " on a report plot:\n" + err);
  }
  std::string svg = slurp(out_path);
  if (svg.find("<svg") == std::string::npos) {
    throw ToolError("'" + program + "' wrote no SVG for a report plot" + (err.empty() ? "" : ":\n" + err));
  }
  if (!err.empty()) std::cerr << "sparsim: gnuplot: " << err;
  return svg;
}

}  // namespace sparsim::report
