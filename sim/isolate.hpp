// Runs a function in a child process and returns the JSON it produced. SimGrid 3.32's engine is
// a process singleton (its clock and configuration survive an Engine's destruction), so every
// discrete-event simulation of a process that runs several (tests, compare, benchmarks) runs in a
// child process of its own (shared/notes/simgrid-3.32.md).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace sparsim::sim {

/// Throws std::runtime_error when the child fails.
inline nlohmann::json in_child(const std::function<nlohmann::json()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    // The child never returns into its parent's code: an exception ends it with status 4 (the
    // parent then reports a failed child) instead of unwinding into the parent's catch blocks.
    std::string out;
    try {
      out = fn().dump();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sparsim: child simulation: %s\n", e.what());
      _exit(4);
    } catch (...) {
      _exit(4);
    }
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) _exit(3);
      done += static_cast<size_t>(n);
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("child simulation failed");
  return nlohmann::json::parse(text);
}

}  // namespace sparsim::sim
