// Two kinds of errors (STYLE.md #10):
//  - InputError: bad user input. Names the file, line, column and key path, what was expected
//    and what was found. The CLI turns it into exit code 2.
//  - SPARSIM_ASSERT: a broken invariant inside the code. Always on, aborts with the location.
#pragma once

#include <stdexcept>
#include <string>

namespace sparsim {

/// Where a value came from: a file position, or a command-line override.
struct Origin {
  std::string file;  ///< path of the YAML file, or "--set" for command-line overrides
  int line = 0;      ///< 1-based; 0 when unknown
  int column = 0;    ///< 1-based; 0 when unknown
};

class InputError : public std::runtime_error {
 public:
  InputError(Origin origin, std::string key_path, std::string message);

  const Origin& origin() const { return origin_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& message() const { return message_; }

 private:
  Origin origin_;
  std::string key_path_;
  std::string message_;
};

[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace sparsim

#define SPARSIM_ASSERT(cond, msg)                                      \
  do {                                                                 \
    if (!(cond)) ::sparsim::assert_fail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)

/// A branch that a correct program never takes.
#define SPARSIM_UNREACHABLE(msg) ::sparsim::assert_fail("unreachable", __FILE__, __LINE__, (msg))
