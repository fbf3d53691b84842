#include "sysinfo.hpp"

#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "gemm.hpp"
#include "parallel.hpp"

namespace sparsim::calib {

namespace {

std::string slurp(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

SystemInfo parse_cpuinfo(const std::string& cpuinfo) {
  SystemInfo s;
  std::set<std::pair<std::string, std::string>> cores;
  std::set<std::string> sockets, flags;
  std::string phys = "0", line;
  int processors = 0;
  std::istringstream in(cpuinfo);
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon)), val = trim(line.substr(colon + 1));
    if (key == "processor") ++processors;
    else if (key == "model name" && s.cpu_model.empty()) s.cpu_model = val;
    else if (key == "physical id") phys = val, sockets.insert(val);
    else if (key == "core id") cores.insert({phys, val});
    else if (key == "flags" && flags.empty()) {
      std::istringstream fs(val);
      for (std::string f; fs >> f;) {
        if (f == "avx2" || f == "fma" || f == "avx512f" || f == "avx512_bf16" || f == "amx_bf16") flags.insert(f);
      }
    }
  }
  s.logical_cpus = std::max(1, processors);
  s.cores = cores.empty() ? s.logical_cpus : static_cast<int>(cores.size());
  s.sockets = sockets.empty() ? 1 : static_cast<int>(sockets.size());
  for (const auto& f : flags) s.cpu_flags += (s.cpu_flags.empty() ? "" : " ") + f;
  if (s.cpu_model.empty()) s.cpu_model = "unknown CPU";
  return s;
}

double parse_meminfo_total(const std::string& meminfo) {
  std::istringstream in(meminfo);
  std::string key, unit;
  double v = 0;
  while (in >> key >> v >> unit) {
    if (key == "MemTotal:") return unit == "kB" ? v * 1024.0 : v;  // the kernel's "kB" is KiB
  }
  return 0;
}

SystemInfo system_info() {
  SystemInfo s = parse_cpuinfo(slurp("/proc/cpuinfo"));
  s.logical_cpus = std::max(s.logical_cpus, hardware_threads());
  s.memory_bytes = parse_meminfo_total(slurp("/proc/meminfo"));
#if defined(__clang__)
  s.compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  s.compiler = std::string("gcc ") + __VERSION__;
#else
  s.compiler = "unknown compiler";
#endif
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  s.date_utc = buf;
  s.blas = blas_config();
  return s;
}

}  // namespace sparsim::calib
