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
    const std::string out = fn().dump();
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
