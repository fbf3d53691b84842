#include "config/error.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace sparsim {

namespace {
std::string format_input_error(const Origin& o, const std::string& key, const std::string& msg) {
  std::ostringstream out;
  out << (o.file.empty() ? "<input>" : o.file);
  if (o.line > 0) out << ':' << o.line << ':' << o.column;
  out << ": ";
  if (!key.empty()) out << "key '" << key << "': ";
  out << msg;
  return out.str();
}
}  // namespace

InputError::InputError(Origin origin, std::string key_path, std::string message)
    : std::runtime_error(format_input_error(origin, key_path, message)),
      origin_(std::move(origin)),
      key_path_(std::move(key_path)),
      message_(std::move(message)) {}

void assert_fail(const char* expr, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "sparsim: internal invariant broken at %s:%d: %s (%s)\n", file, line,
               msg.c_str(), expr);
  std::abort();
}

}  // namespace sparsim
