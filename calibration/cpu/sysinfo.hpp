// What machine and toolchain a calibration ran on (the provenance of a calibrated file).
#pragma once

#include <string>

namespace sparsim::calib {

struct SystemInfo {
  std::string cpu_model;     ///< /proc/cpuinfo "model name"
  int logical_cpus = 1;      ///< online hardware threads
  int cores = 1;             ///< physical cores: distinct (physical id, core id) pairs
  int sockets = 1;           ///< distinct physical ids
  double memory_bytes = 0;   ///< /proc/meminfo MemTotal, bytes
  std::string cpu_flags;     ///< the vector extensions present (avx2, fma, avx512f, avx512_bf16, amx)
  std::string compiler;      ///< compiler that built sparsim
  std::string date_utc;      ///< ISO 8601, when the calibration ran
  std::string blas;          ///< openblas_get_config()
};

/// Reads /proc/cpuinfo and /proc/meminfo (falls back to 1 core, 0 bytes where unreadable).
SystemInfo system_info();
/// Parses the text of /proc/cpuinfo into model, cores, sockets and flags (testable without /proc).
SystemInfo parse_cpuinfo(const std::string& cpuinfo);
/// MemTotal of a /proc/meminfo text, in bytes (0 when absent).
double parse_meminfo_total(const std::string& meminfo);

}  // namespace sparsim::calib
