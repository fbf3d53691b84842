#include "calibrate_cpu.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "parallel.hpp"
#include "speed_probe.hpp"

namespace sparsim::calib {

std::map<std::string, CollectiveFit> parse_probe_output(const std::string& text) {
  std::map<std::string, CollectiveFit> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name;
    double bytes = 0, mn = 0, med = 0, mx = 0;
    int reps = 0;
    if (!(ls >> name >> bytes >> mn >> med >> mx >> reps) || mn <= 0) continue;
    out[name].samples.push_back({bytes, mn});  // best time: the machine may be shared
  }
  for (auto it = out.begin(); it != out.end();) {
    if (it->second.samples.size() < 2) {
      it = out.erase(it);
      continue;
    }
    it->second.fit = fit_latency_bandwidth(it->second.samples);
    ++it;
  }
  return out;
}

ShareResult parse_probe_share(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name;
    ShareResult r;
    if (ls >> name && name == "share" && ls >> r.threads >> r.chunk_alone_s >> r.iteration_s >> r.iterations &&
        r.threads > 0 && r.chunk_alone_s > 0 && r.iteration_s > 0) {
      if (!(ls >> r.all_to_all_s >> r.block) || r.all_to_all_s < 0 || r.all_to_all_s >= r.iteration_s)
        r.all_to_all_s = 0, r.block = 0;
      return r;
    }
  }
  return {};
}

std::string mpirun_placement(int ranks, int hardware_threads) {
  return ranks >= hardware_threads ? "--map-by hwthread --bind-to hwthread:overload-allowed" : "--bind-to none";
}

MpiResult run_mpi_probe(const std::string& mpirun, const std::string& probe, int ranks, bool quick, std::ostream& log,
                        int share_block) {
  MpiResult r;
  r.ranks = ranks;
  if (mpirun.empty() || probe.empty()) {
    r.why_not = "sparsim was built without MPI (no mpi_probe)";
    return r;
  }
  if (!std::filesystem::exists(probe)) {
    r.why_not = "mpi_probe not found at " + probe;
    return r;
  }
  const std::string cmd = "'" + mpirun + "' --oversubscribe " + mpirun_placement(ranks, hardware_threads()) + " --allow-run-as-root -np " + std::to_string(ranks) + " '" +
                          probe + "'" + (quick ? " --quick" : "") +
                          (share_block > 0 ? " --share-block " + std::to_string(share_block) : std::string()) + " 2>&1";
  log << "calibrate: " << cmd << "\n";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) {
    r.why_not = "could not start " + mpirun;
    return r;
  }
  std::string text;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe)) text += buf;
  const int status = pclose(pipe);
  if (status != 0) {
    r.why_not = "mpirun exited with status " + std::to_string(status) + ": " + text.substr(0, 400);
    return r;
  }
  r.collectives = parse_probe_output(text);
  r.share = parse_probe_share(text);
  if (!r.collectives.count("allreduce")) {
    r.why_not = "mpi_probe printed no all-reduce timings";
    return r;
  }
  r.ran = true;
  return r;
}

double CpuCalibration::speed_probe_median() const {
  return speed_probe.empty() ? 0 : spread_of(speed_probe).median;
}

CpuCalibration calibrate_cpu(const CpuOptions& options, std::ostream& log) {
  const auto t0 = std::chrono::steady_clock::now();
  CpuCalibration c;
  c.options = options;
  c.system = system_info();
  const int threads = c.system.logical_cpus;
  const bool q = options.quick;
  log << "calibrate: " << c.system.cpu_model << ", " << c.system.cores << " cores, " << threads << " threads; "
      << c.system.blas << "\n";

  // GEMM table per device: each of `ranks` devices owns threads/ranks hardware threads.
  c.threads_per_device = std::max(1, threads / std::max(1, options.ranks));
  set_blas_threads(c.threads_per_device);
  c.gemm = measure_gemm(gemm_shapes(q), q ? 5 : 10, q ? 0.4 : 1.0);
  for (const auto& p : c.gemm) {
    log << "  gemm " << p.shape.m << "x" << p.shape.n << "x" << p.shape.k << " " << p.flop_rate / 1e9 << " GFLOP/s ("
        << p.shape.tag << ")\n";
  }
  trainer::SpeedProbe speed;
  const auto probe = [&] { c.speed_probe.push_back(speed.sample()); };
  probe();
  if (options.gemm_model.hidden > 0) {
    c.model_gemm = measure_gemm_interleaved(model_gemm_shapes(options.gemm_model, q), q ? 7 : 15, q ? 0.1 : 0.3, probe);
    log << "  gemm: " << c.model_gemm.size() << " shapes of the model (h=" << options.gemm_model.hidden
        << ", f=" << options.gemm_model.ffn << ", s=" << options.gemm_model.seq << ")\n";
  }
  double best = 0;
  for (const auto& p : c.gemm) best = std::max(best, p.flop_rate);
  if (c.threads_per_device == threads) {
    c.host_gemm_flop_rate = best;
  } else {
    // The host rate: the largest square shape with every thread.
    set_blas_threads(threads);
    GemmShape big{0, 0, 0, ""};
    for (const auto& p : c.gemm) {
      if (p.shape.tag.rfind("square", 0) == 0 && p.shape.flops() > big.flops()) big = p.shape;
    }
    c.host_gemm_flop_rate = measure_gemm({big}, q ? 3 : 5, q ? 0.4 : 1.0).front().flop_rate;
  }
  set_blas_threads(threads);
  log << "  gemm best " << best / 1e9 << " GFLOP/s per device (" << c.threads_per_device << " threads), host "
      << c.host_gemm_flop_rate / 1e9 << " GFLOP/s\n";

  // DRAM: 3 arrays of 32 MiB (quick) or 128 MiB, far past any last-level cache here.
  c.memory = measure_memory((q ? 4u : 16u) << 20, threads, q ? 5 : 10);
  log << "  copy " << c.memory.copy.bandwidth / 1e9 << " GB/s, triad " << c.memory.triad.bandwidth / 1e9 << " GB/s ("
      << threads << " threads)\n";

  // AdamW as the trainer meets it: right after a backward pass's GEMMs on the device's BLAS
  // threads, whose workers keep polling for work (yielding) beside the update. With 2 threads
  // that made the update 1.5-2x slower than alone. One GEMM of 256^3 before it, or eight, often
  // left them idle (SkylakeX kernels, 2026-12-02; 1.73 M parameters on 2 threads at 1040-1285
  // Mparams/s in two of three calibrations); after two of 512^3, 520-550 in three of four, as
  // the trainer's dense update (527-575).
  set_blas_threads(c.threads_per_device);
  std::vector<float> ga(512 * 512, 0.5f), gb(ga), gc(ga.size());
  const auto after_gemm = [&] {
    for (int i = 0; i < 2; ++i) gemm_blas(512, 512, 512, ga.data(), gb.data(), gc.data());
  };
  c.adam = measure_adam((q ? 4u : 16u) << 20, threads, q ? 3 : 6, after_gemm);
  for (const auto& a : c.adam) {
    log << "  adamw " << a.threads << " threads: " << a.params_per_s / 1e6 << " Mparams/s (" << a.bytes_per_s / 1e9
        << " GB/s)\n";
  }

  // the device's update: the model's, when calibrate knows it (its size sets which cache holds it;
  // dense with 1 rank, 1.73 M parameters: 527-575 Mparams/s in the trainer, 750-1400 at 1 Mi)
  c.adam_device_params = options.adam_params > 0 ? options.adam_params : std::size_t{1} << 20;
  c.adam_device = measure_adam(c.adam_device_params, threads, q ? 5 : 10, after_gemm);
  probe();
  set_blas_threads(threads);
  for (const auto& a : c.adam_device) log << "  adamw " << c.adam_device_params << " params, " << a.threads << " threads: " << a.params_per_s / 1e6 << " Mparams/s\n";
  ElementwiseShape ew;  // the trainer model's shapes when given
  if (options.gemm_model.hidden > 0) {
    const GemmModel& gm = options.gemm_model;
    ew.hidden = gm.hidden, ew.ffn = gm.ffn, ew.seq = gm.seq, ew.vocab = gm.vocab;
    if (gm.tokens > 0) ew.tokens = gm.tokens;
  }
  c.elementwise = measure_elementwise(ew, q ? 5 : 10);
  log << "  element-wise (layer norm, GELU, softmax; 1 thread): " << c.elementwise.rate / 1e9 << " GFLOP/s\n";
  for (const auto& k : c.elementwise.kernels) log << "    " << k.kernel << ": " << k.rate / 1e9 << " GFLOP/s\n";
  probe();
  log << "  speed probe (" << trainer::SpeedProbe::kM << "x" << trainer::SpeedProbe::kN << "x" << trainer::SpeedProbe::kK
      << ", every thread): median " << c.speed_probe_median() << " GFLOP/s of " << c.speed_probe.size() << " samples\n";

  c.mpi = run_mpi_probe(options.mpirun, options.mpi_probe, std::max(2, options.ranks), q, log, options.share_block);
  if (c.mpi.ran) {
    for (const auto& [name, f] : c.mpi.collectives) {
      log << "  " << name << " fit: latency " << f.fit.latency * 1e6 << " us, " << f.fit.bandwidth() / 1e9
          << " GB/s (max residual " << f.fit.max_rel_residual * 100 << " %)\n";
    }
    if (c.mpi.share.threads > 0)
      log << "  " << c.mpi.ranks << " ranks on " << c.mpi.share.threads << " threads: share efficiency "
          << c.mpi.share.efficiency(c.mpi.ranks) << "\n";
  } else {
    log << "  MPI probe skipped: " << c.mpi.why_not << "\n";
  }
  c.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return c;
}

}  // namespace sparsim::calib
