// Shared parsing of a verb's command line (Boost.Program_options): its options plus one
// positional FILE, and the check of an option that takes one of a few names.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "config/error.hpp"

namespace sparsim::app {

/// Parses `args` against `opts` and one positional argument stored into `file`. Throws
/// boost::program_options::error on unknown options (the CLI turns it into exit code 2).
inline boost::program_options::variables_map parse_verb(const std::vector<std::string>& args,
                                                        const boost::program_options::options_description& opts,
                                                        std::string& file) {
  namespace po = boost::program_options;
  po::options_description hidden;
  hidden.add_options()("file", po::value(&file));
  po::positional_options_description pos;
  pos.add("file", 1);
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

/// Throws InputError naming `flag` ("--backend") when `value` is not one of `known`:
/// "unknown backend 'x'; known: analytic, des".
inline void check_choice(const std::string& flag, const std::string& value, const std::vector<std::string>& known) {
  std::string list;
  for (const auto& k : known) {
    if (k == value) return;
    list += (list.empty() ? "" : ", ") + k;
  }
  throw InputError(Origin{"command line", 0, 0}, flag, "unknown " + flag.substr(2) + " '" + value + "'; known: " + list);
}

}  // namespace sparsim::app
