// The GPU calibration run: every kernel entry in turn, printed beside its peak, folded into the
// node file (device, intra_node, host_link). The host part stays the CPU calibration's.
#include <algorithm>
#include <ostream>

#include "common.cuh"
#include "cpu/fit.hpp"
#include "gpu.hpp"

namespace sparsim::calib::gpu {

int device_count(std::string& why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    why = cudaGetErrorString(e);
    return 0;
  }
  if (n == 0) why = "the CUDA runtime reports 0 devices";
  return n;
}

static void print(std::ostream& log, const Rate& r, bool flops) {
  const double unit = flops ? 1e12 : 1e9;
  log << "  " << r.what << ": " << r.achieved / unit << (flops ? " TFLOP/s" : " GB/s");
  if (r.peak > 0) log << " of " << r.peak / unit << " peak (" << 100 * r.achieved / r.peak << " %)";
  log << "\n";
}

void calibrate_gpu(const GpuOptions& o, NodeFile& node, std::ostream& log) {
  CUDA_CHECK(cudaSetDevice(0));
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  int driver = 0, runtime = 0, count = 0;
  CUDA_CHECK(cudaDriverGetVersion(&driver));
  CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  CUDA_CHECK(cudaGetDeviceCount(&count));
  const int reps = o.quick ? 5 : 20;
  log << "calibrate: GPU " << prop.name << ", driver " << driver << ", runtime " << runtime << "\n";

  node.devices = count;
  node.name = std::string(prop.name) + " x" + std::to_string(count) + " (calibrated)";
  node.device.name = prop.name;
  node.device.memory = static_cast<double>(prop.totalGlobalMem);
  node.device.peak_flops.clear();
  node.device.gemm_efficiency.clear();
  node.device.why = {};
  std::string table = "cuBLAS GEMM (best of " + std::to_string(reps) + ", CUDA events):";
  for (const std::string p : {"fp32", "fp16", "bf16"}) {
    const auto rates = cublas_gemm(p, o.quick, reps);
    double best = 0;
    for (const auto& r : rates) best = std::max(best, r.achieved), print(log, r, true);
    node.device.peak_flops[p] = rates.front().peak > 0 ? rates.front().peak : best;
    for (const auto& r : rates) table += " " + r.what + " " + std::to_string(r.achieved / 1e12) + " TFLOP/s;";
    if (p == "bf16") {
      // The training-precision table: efficiency relative to the peak written above.
      std::vector<EfficiencyRow> rows;
      for (const auto& r : rates) rows.push_back({r.flops_or_bytes, std::clamp(r.achieved / node.device.peak_flops[p], 1e-6, 1.0)});
      std::sort(rows.begin(), rows.end(), [](auto& x, auto& y) { return x.flops < y.flops; });
      rows.erase(std::unique(rows.begin(), rows.end(), [](auto& x, auto& y) { return x.flops == y.flops; }), rows.end());
      node.device.gemm_efficiency = rows;
    }
  }
  const Rate hbm = hbm_copy(o.quick ? (std::size_t{256} << 20) : (std::size_t{1} << 30), reps);
  print(log, hbm, false);
  node.device.memory_bandwidth = hbm.achieved;
  const Rate adam = fused_adam(o.quick ? (std::size_t{16} << 20) : (std::size_t{128} << 20), reps);
  print(log, adam, false);
  for (const auto& r : token_permute(o.quick ? 4096 : 16384, 4096, reps)) print(log, r, false);
  double h2d = 0;
  for (const auto& r : host_device_copies(o.quick, reps)) {
    print(log, r, false);
    if (r.what.rfind("H2D pinned", 0) == 0 && r.what.find("while") == std::string::npos) h2d = std::max(h2d, r.achieved);
  }
  node.host_link.bandwidth = h2d;
  node.host_link.switch_bandwidth = h2d;
  node.host_link.devices_per_switch = 1;
  node.host_link.why = {{"bandwidth: best pinned H2D cudaMemcpyAsync rate over sizes"}, {"devices_per_switch: ASSUMPTION 1 (topology not probed)"}};
  node.device.why.source = {"measured by sparsim calibrate --gpu: " + std::string(prop.name) + ", driver " + std::to_string(driver) +
                                ", CUDA runtime " + std::to_string(runtime),
                            table, "memory_bandwidth: copy kernel, best of " + std::to_string(reps) + " (CUDA events)",
                            "peak_flops: SMs x clock x FLOP/clock/SM of the compute capability (datasheet ratios)"};
  node.device.why.note = {"gemm_efficiency: bf16 cuBLAS GEMMs relative to the bf16 peak", "memory: cudaDeviceProp totalGlobalMem"};

  const auto coll = nccl_collectives(o.quick, reps);
  std::vector<Sample> ar;
  for (const auto& r : coll) {
    print(log, r, false);
    if (r.what.find("all-reduce") != std::string::npos) ar.push_back({r.flops_or_bytes, r.seconds.min});
  }
  node.intra.group_size = count;
  if (ar.size() >= 2) {
    const LinearFit f = fit_latency_bandwidth(ar);
    node.intra.latency = std::max(f.latency / (2.0 * (count - 1)), 1e-8);
    node.intra.bandwidth = 2.0 * (count - 1) / count / f.seconds_per_byte;
    node.intra.why = {{"NCCL all-reduce fit, inverted through the ring formula"}, {}};
  } else {
    node.intra.bandwidth = hbm.achieved / 2;
    node.intra.latency = 2e-6;
    node.intra.why = {{}, {"ASSUMPTION: one GPU, nothing to measure; half the HBM copy rate and 2 us"}};
  }
}

}  // namespace sparsim::calib::gpu
