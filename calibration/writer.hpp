// Writing a calibrated hardware file: the node schema of scenarios/README.md (read by
// models/config/loader.cpp read_node), every figure with its provenance under source:/note:.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cpu/calibrate_cpu.hpp"
#include "cpu/gemm.hpp"

namespace sparsim::calib {

/// Free-form provenance: emitted verbatim (already YAML) under a `source:` or `note:` key.
struct Provenance {
  std::vector<std::string> source;  ///< plain strings, one list item each
  std::vector<std::string> note;
};

/// One node file, in SI units (bytes, s, B/s, FLOP/s), mirroring config::Node plus provenance.
struct NodeFile {
  std::string header;  ///< comment lines at the top (without '#')
  std::string name;
  int devices = 1;
  struct {
    std::string name;
    std::map<std::string, double> peak_flops;  ///< "fp32", "fp16", "bf16" -> FLOP/s
    double memory = 0;
    double memory_bandwidth = 0;
    std::vector<EfficiencyRow> gemm_efficiency;
    std::vector<GemmShapeRate> gemm_shapes;  ///< empty: not written
    double vector_flops = 0;    ///< 0: not written
    std::map<std::string, double> vector_rates;  ///< kernel -> FLOP/s; empty: not written
    double optimizer_rate = 0;  ///< params/s; 0: not written
    Provenance why;
  } device;
  struct {
    int group_size = 1;
    double bandwidth = 0;
    double latency = 0;
    Provenance why;
  } intra;
  struct {
    std::string name;
    int sockets = 1;
    int cores = 1;
    int threads = 1;  ///< hardware threads; written when not equal to cores
    double flops = 0;
    double memory = 0;
    double memory_bandwidth = 0;
    double optimizer_rate = 0;  ///< params/s; 0: not written
    bool shares_device_cores = false;
    Provenance why;
  } host;
  struct {
    double bandwidth = 0;
    double latency = 0;
    int devices_per_switch = 1;
    double switch_bandwidth = 0;
    Provenance why;
  } host_link;
  struct {
    int count = 1;
    double bandwidth = 0;
    double latency = 0;
    Provenance why;
  } nic;
  Provenance why;              ///< top level
  std::string measurements;    ///< YAML block (indented 2) written under source: measurements:
};

/// The YAML text of `f`. Quantities carry units ("123.4 GFLOPS", "12.5 GB/s", "1.2 us").
std::string to_yaml(const NodeFile& f);

/// The node file of a CPU calibration: the CPU split into `ranks` devices (see
/// calibration/README.md "What a CPU-calibrated file means").
NodeFile node_from_cpu(const CpuCalibration& c);

/// A YAML double-quoted scalar.
std::string quote(const std::string& s);

}  // namespace sparsim::calib
