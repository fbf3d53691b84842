// The written hardware file is the node schema: it loads with config::load_node, its numbers
// come back (within the 6 significant digits written), and a scenario simulates on it.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "config/loader.hpp"
#include "sim/analytic.hpp"
#include "writer.hpp"

using namespace sparsim;
using namespace sparsim::calib;

namespace {

// A calibration with round numbers instead of measurements: 2 threads, 10 GiB, GEMMs at 10,
// 40 and 50 GFLOP/s, triad 20 GB/s, copy 16 GB/s (12 GB/s on one thread), all-reduce among 2
// ranks t = 4 us + S / 5 GB/s; one model GEMM shape, 2e6 FLOP in 100 us median (20 GFLOP/s).
CpuCalibration synthetic(int ranks) {
  CpuCalibration c;
  c.options.ranks = ranks;
  c.system.cpu_model = "Test CPU: \"quoted\" model";
  c.system.logical_cpus = 2;
  c.system.cores = 2;
  c.system.memory_bytes = 10.0 * (1 << 30);
  c.system.blas = "OpenBLAS 0.0 test";
  c.system.date_utc = "2000-01-01T00:00:00Z";
  c.threads_per_device = std::max(1, 2 / ranks);
  c.gemm = {GemmPoint{{10, 10, 10, "tiny"}, {1, 1, 1, 3}, 10e9, 0},
            GemmPoint{{100, 100, 100, "mid"}, {1, 1, 1, 3}, 40e9, 0},
            GemmPoint{{1000, 1000, 1000, "big"}, {1, 1, 1, 3}, 50e9, 0}};
  c.host_gemm_flop_rate = 50e9;
  c.memory.copy.bandwidth = 16e9;
  c.memory.copy_one_thread.bandwidth = 12e9;
  c.model_gemm = {GemmPoint{{100, 100, 100, "model ffn_up weight gradient", GemmTrans::tn}, {50e-6, 100e-6, 200e-6, 3}, 40e9, 0}};
  c.memory.triad.bandwidth = 20e9;
  c.memory.threads = 2;
  c.adam = {AdamResult{2, {1, 1, 1, 3}, 1e8, 2.8e9}};
  c.mpi.ran = true;
  c.mpi.ranks = 2;
  CollectiveFit ar;
  ar.samples = {{0, 4e-6}, {5e9, 1.000004}};
  ar.fit.latency = 4e-6;
  ar.fit.seconds_per_byte = 1.0 / 5e9;
  c.mpi.collectives["allreduce"] = ar;
  c.elementwise.rate = 10e9;
  c.elementwise.kernels = {KernelRate{"layernorm", 1e6, {1, 1, 1, 3}, 4e9}, KernelRate{"cross_entropy", 1e6, {1, 1, 1, 3}, 30e9}};
  return c;
}

std::string write_temp(const std::string& text, const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("writer: a CPU calibration loads back as a node with the derived figures", "[calibration][writer]") {
  const std::string path = write_temp(to_yaml(node_from_cpu(synthetic(1))), "sparsim-calib-writer-1.yaml");
  const Node n = config::load_node(path);
  CHECK(n.devices == 1);
  // peak = best measured rate (50 GFLOP/s) for fp32 and, by decision, bf16/fp16.
  CHECK(n.device.peak_flops.at(Precision::fp32) == Approx(50e9));
  CHECK(n.device.peak_flops.at(Precision::bf16) == Approx(50e9));
  CHECK(n.device.memory == Approx(10.0 * (1 << 30)).epsilon(1e-6));
  CHECK(n.device.memory_bandwidth == Approx(20e9));
  // efficiencies 10/50, 40/50, 50/50 at 2e3, 2e6, 2e9 FLOP.
  REQUIRE(n.device.gemm_efficiency.size() == 3);
  CHECK(n.device.gemm_efficiency[0].flops == Approx(2e3));
  CHECK(n.device.gemm_efficiency[0].efficiency == Approx(0.2));
  CHECK(n.device.gemm_efficiency[1].efficiency == Approx(0.8));
  CHECK(n.device.gemm_efficiency[2].efficiency == Approx(1.0));
  // Ring all-reduce over p = 2: t = 2(p-1)/p S/B + 2(p-1) a = S/B + 2a. The fit t = 4 us + S/5 GB/s
  // gives a = 2 us and B = 5 GB/s.
  CHECK(n.intra.group_size == 1);
  CHECK(n.intra.latency == Approx(2e-6));
  CHECK(n.intra.bandwidth == Approx(5e9));
  CHECK(n.host.flops == Approx(50e9));
  CHECK(n.host.memory_bandwidth == Approx(20e9));
  // A memcpy moves S bytes in 2S / copy-rate (STREAM counts read + write): one device's copies
  // are one thread (6 GB/s), the devices together all threads (8 GB/s).
  CHECK(n.host_link.bandwidth == Approx(6e9));
  CHECK(n.host_link.switch_bandwidth == Approx(8e9));
  CHECK(n.host.shares_device_cores);
  // model shapes at their median time
  REQUIRE(n.device.gemm_shapes.size() == 1);
  CHECK(n.device.gemm_shapes[0].trans == GemmTrans::tn);
  CHECK(n.device.gemm_shapes[0].flop_rate == Approx(20e9));
  CHECK(n.nic.bandwidth == Approx(5e9));
  std::filesystem::remove(path);
}

TEST_CASE("writer: --ranks 2 splits the CPU into two devices", "[calibration][writer]") {
  // Each device: 1 of the 2 threads (the table was measured so), half the memory and triad.
  const std::string path = write_temp(to_yaml(node_from_cpu(synthetic(2))), "sparsim-calib-writer-2.yaml");
  const Node n = config::load_node(path);
  CHECK(n.devices == 2);
  CHECK(n.intra.group_size == 2);
  CHECK(n.device.memory == Approx(5.0 * (1 << 30)).epsilon(1e-6));
  CHECK(n.device.memory_bandwidth == Approx(10e9));
  CHECK(n.host.memory_bandwidth == Approx(20e9));
  CHECK(n.device.gemm_shapes[0].flop_rate == Approx(20e9));  // 1 thread of 2 per device: no share below 1
  std::filesystem::remove(path);
}

TEST_CASE("writer: element-wise kernels and windowed model GEMMs are written and load back", "[calibration][writer]") {
  CpuCalibration c = synthetic(1);
  GemmPoint windowed = c.model_gemm[0];
  windowed.shape.trans = GemmTrans::nn;
  windowed.shape.window = 16;
  c.model_gemm.push_back(windowed);
  const std::string path = write_temp(to_yaml(node_from_cpu(c)), "sparsim-calib-writer-5.yaml");
  const Node n = config::load_node(path);
  CHECK(n.device.vector_flops == Approx(10e9));
  REQUIRE(n.device.vector_rates.size() == 3);  // cross_entropy's rate stands for its backward too
  CHECK(n.device.vector_rates.at("layernorm") == Approx(4e9));
  CHECK(n.device.vector_rates.at("cross_entropy_bwd") == Approx(30e9));
  REQUIRE(n.device.gemm_shapes.size() == 2);
  CHECK(n.device.gemm_shapes[0].window == 1);
  CHECK(n.device.gemm_shapes[1].window == 16);
  // the window's FLOPs (16 GEMMs around m = 100) over its median time
  CHECK(n.device.gemm_shapes[1].flop_rate == Approx(windowed.shape.flops() / 100e-6));
  std::filesystem::remove(path);
}

TEST_CASE("writer: ranks beyond the threads get the fair share times the measured sharing efficiency",
          "[calibration][writer]") {
  // 4 ranks on 2 threads: fair share 1/2; mpi_probe measured a 4 ms chunk alone and 10 ms per
  // iteration of all four, so each rank got 4 x 4 / 2 / 10 = 0.8 of its share.
  CpuCalibration c = synthetic(4);
  c.mpi.ranks = 4;
  c.mpi.share = ShareResult{2, 4e-3, 10e-3, 40};
  CHECK(c.mpi.share.efficiency(4) == Approx(0.8));
  const std::string over = write_temp(to_yaml(node_from_cpu(c)), "sparsim-calib-writer-6.yaml");
  const Node n = config::load_node(over);
  CHECK(n.device.peak_flops.at(Precision::fp32) == Approx(50e9 * 0.5 * 0.8));
  CHECK(n.device.gemm_shapes[0].flop_rate == Approx(20e9 * 0.5 * 0.8));
  CHECK(n.device.vector_rates.at("layernorm") == Approx(4e9 * 0.5 * 0.8));
  // not measured (or not oversubscribed): the fair share alone
  c.mpi.share = ShareResult{};
  const std::string plain = write_temp(to_yaml(node_from_cpu(c)), "sparsim-calib-writer-7.yaml");
  const Node fair = config::load_node(plain);
  CHECK(fair.device.peak_flops.at(Precision::fp32) == Approx(50e9 * 0.5));
  std::filesystem::remove(over);
  std::filesystem::remove(plain);
  CHECK(parse_probe_share("allreduce 64 1 1 1 3\nshare 2 0.004 0.01 40\n").efficiency(4) == Approx(0.8));
  // the iteration's all-to-all alone is charged apart: 4 x 4 / 2 / (10 - 2)
  const ShareResult with_coll = parse_probe_share("share 2 0.004 0.01 40 0.002 8192\n");
  CHECK(with_coll.block == 8192);
  CHECK(with_coll.efficiency(4) == Approx(1.0));
  CHECK(parse_probe_share("allreduce 64 1 1 1 3\n").threads == 0);
}

TEST_CASE("writer: the provenance names the CPU, the library, the date and the spread", "[calibration][writer]") {
  const std::string y = to_yaml(node_from_cpu(synthetic(1)));
  CHECK(y.find("Test CPU: \\\"quoted\\\" model") != std::string::npos);
  CHECK(y.find("blas: OpenBLAS OpenBLAS 0.0 test") != std::string::npos);
  CHECK(y.find("2000-01-01T00:00:00Z") != std::string::npos);
  CHECK(y.find("median: ") != std::string::npos);
  CHECK(y.find("allreduce: {latency_us: 4") != std::string::npos);
}

TEST_CASE("writer: the speed probe's median and samples are in the provenance", "[calibration][writer]") {
  CpuCalibration c = synthetic(1);
  CHECK(to_yaml(node_from_cpu(c)).find("speed_probe:") == std::string::npos);  // none taken
  c.speed_probe = {150, 170, 160};
  const std::string path = write_temp(to_yaml(node_from_cpu(c)), "sparsim-writer-probe.yaml");
  CHECK(config::load_node(path).name.find("Test CPU") != std::string::npos);  // still a node file
  const std::string y = to_yaml(node_from_cpu(c));
  CHECK(y.find("{m: 512, n: 1024, k: 256, calls: 2, gflops: 160, samples: [150, 170, 160]}") != std::string::npos);
}

TEST_CASE("writer: a scenario simulates on the calibrated node", "[calibration][writer]") {
  // tests/data/tiny.yaml has tp 2 x pp 2 x dp 2 = 8 devices; with 1 device per node, 8 nodes.
  const std::string path = write_temp(to_yaml(node_from_cpu(synthetic(1))), "sparsim-calib-writer-3.yaml");
  const auto loaded = config::load_scenario(std::string(SPARSIM_SOURCE_DIR) + "/tests/data/tiny.yaml",
                                            {"cluster.node=" + path, "cluster.nodes=8"});
  const auto r = sim::analytic_step(loaded.scenario);
  CHECK(r.step_time > 0);
  std::filesystem::remove(path);
}

TEST_CASE("writer: quote escapes what YAML needs escaped", "[calibration][writer]") {
  CHECK(quote("a: b") == "\"a: b\"");
  CHECK(quote("x\"y\\z") == "\"x\\\"y\\\\z\"");
}
