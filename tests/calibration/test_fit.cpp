// The alpha-beta fit on synthetic data whose answer is known by construction.
#include <catch2/catch.hpp>

#include "cpu/calibrate_cpu.hpp"
#include "cpu/fit.hpp"

using namespace sparsim::calib;

TEST_CASE("fit: exact data t = 5 us + S / 10 GB/s is recovered", "[calibration][fit]") {
  // S = 64 B .. 16 MiB by 4x; t = 5e-6 + S * 1e-10 exactly, so any weighting gives a = 5e-6,
  // b = 1e-10 (bandwidth 1e10 B/s) with zero residual.
  std::vector<Sample> s;
  for (double bytes = 64; bytes <= 16 * 1024 * 1024; bytes *= 4) s.push_back({bytes, 5e-6 + bytes * 1e-10});
  const LinearFit f = fit_latency_bandwidth(s);
  CHECK(f.latency == Approx(5e-6).epsilon(1e-9));
  CHECK(f.seconds_per_byte == Approx(1e-10).epsilon(1e-9));
  CHECK(f.bandwidth() == Approx(1e10).epsilon(1e-9));
  CHECK(f.max_rel_residual < 1e-9);
}

TEST_CASE("fit: two points give the line through them", "[calibration][fit]") {
  // (0 B, 2 s) and (10 B, 4 s): a = 2 s, b = (4 - 2) / 10 = 0.2 s/B.
  const LinearFit f = fit_latency_bandwidth({{0, 2}, {10, 4}});
  CHECK(f.latency == Approx(2));
  CHECK(f.seconds_per_byte == Approx(0.2));
}

TEST_CASE("fit: relative weighting keeps the latency of noisy large messages", "[calibration][fit]") {
  // t = 1 us + S / 1 GB/s, with the 16 MiB point 10 % slow. Unweighted LSQ would let that point
  // drag the intercept by ~1e-3 s; weights 1/t^2 make every point count by its relative error,
  // so the fitted latency stays within 1 % of 1 us and the bandwidth within 10 %.
  std::vector<Sample> s;
  for (double bytes = 8; bytes <= 16 * 1024 * 1024; bytes *= 4) s.push_back({bytes, 1e-6 + bytes * 1e-9});
  s.back().seconds *= 1.1;
  const LinearFit f = fit_latency_bandwidth(s);
  CHECK(f.latency == Approx(1e-6).epsilon(0.01));
  CHECK(f.bandwidth() == Approx(1e9).epsilon(0.1));
  CHECK(f.max_rel_residual > 0.01);
}

TEST_CASE("fit: mpi_probe output parses into one fit per collective", "[calibration][fit]") {
  // allreduce: best times t = 2 us + S * 1 ns (1 GB/s) at S = 64 and 4096; a malformed line is skipped;
  // alltoall has a single point, too few to fit, so it is dropped.
  const std::string text =
      "allreduce 64 2.064e-06 3e-6 4e-6 10\n"
      "allreduce 4096 6.096e-06 9e-6 9e-6 10\n"
      "garbage line\n"
      "alltoall 64 1e-6 2e-6 3e-6 10\n";
  const auto m = parse_probe_output(text);
  REQUIRE(m.size() == 1);
  const LinearFit& f = m.at("allreduce").fit;
  CHECK(f.latency == Approx(2e-6));
  CHECK(f.seconds_per_byte == Approx(1e-9));
}

TEST_CASE("mpirun placement: ranks beyond the hardware threads are bound to them, fewer are not",
          "[calibration][mpi]") {
  const std::string bound = "--map-by hwthread --bind-to hwthread:overload-allowed";
  CHECK(sparsim::calib::mpirun_placement(4, 2) == bound);  // validate's 4 ranks on 2 vCPUs
  CHECK(sparsim::calib::mpirun_placement(2, 2) == bound);  // one BLAS thread each
  CHECK(sparsim::calib::mpirun_placement(1, 2) == "--bind-to none");  // its BLAS threads span the cores
  CHECK(sparsim::calib::mpirun_placement(4, 16) == "--bind-to none");
}
