#include "writer.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "config/error.hpp"
#include "speed_probe.hpp"

namespace sparsim::calib {

namespace {

std::string num(double v, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g %s", v, unit);
  return buf;
}
std::string flop_rate(double v) { return num(v / 1e9, "GFLOPS"); }
std::string bandwidth(double v) { return num(v / 1e9, "GB/s"); }
std::string bytes_gib(double v) { return num(v / (1024.0 * 1024 * 1024), "GiB"); }
std::string micros(double v) { return num(v * 1e6, "us"); }
std::string param_rate(double v) { return num(v / 1e6, "Mparams/s"); }

void provenance(std::ostringstream& o, const Provenance& p, const std::string& indent) {
  auto list = [&](const char* key, const std::vector<std::string>& items) {
    if (items.empty()) return;
    o << indent << key << ":\n";
    for (const auto& s : items) o << indent << "  - " << quote(s) << "\n";
  };
  list("source", p.source);
  list("note", p.note);
}

std::string g(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\', out += ch;
    else if (ch == '\n') out += "\\n";
    else if (static_cast<unsigned char>(ch) < 0x20) out += ' ';
    else out += ch;
  }
  return out + "\"";
}

std::string to_yaml(const NodeFile& f) {
  SPARSIM_ASSERT(f.devices >= 1 && !f.device.peak_flops.empty() && !f.device.gemm_efficiency.empty(), "incomplete node");
  std::ostringstream o;
  std::istringstream hs(f.header);
  for (std::string line; std::getline(hs, line);) o << "# " << line << "\n";
  o << "name: " << quote(f.name) << "\n";
  o << "source:\n";
  for (const auto& s : f.why.source) o << "  - " << quote(s) << "\n";
  if (!f.measurements.empty()) o << "  - measurements:\n" << f.measurements;
  if (!f.why.note.empty()) {
    o << "note:\n";
    for (const auto& s : f.why.note) o << "  - " << quote(s) << "\n";
  }
  o << "devices: " << f.devices << "\n";
  o << "device:\n  name: " << quote(f.device.name) << "\n  peak_flops:\n";
  for (const auto& [prec, v] : f.device.peak_flops) o << "    " << prec << ": " << flop_rate(v) << "\n";
  o << "  memory: " << bytes_gib(f.device.memory) << "\n";
  o << "  memory_bandwidth: " << bandwidth(f.device.memory_bandwidth) << "\n";
  o << "  gemm_efficiency:\n";
  std::string last;
  for (const auto& r : f.device.gemm_efficiency) {
    const std::string fl = num(r.flops / 1e6, "MFLOP");
    SPARSIM_ASSERT(fl != last, "gemm_efficiency FLOP counts collide after rounding");
    last = fl;
    o << "    - {flops: " << fl << ", efficiency: " << g(std::clamp(r.efficiency, 1e-6, 1.0)) << "}\n";
  }
  if (f.device.vector_flops > 0) o << "  vector_flops: " << flop_rate(f.device.vector_flops) << "\n";
  if (!f.device.vector_rates.empty()) {
    o << "  vector_rates:\n";
    for (const auto& [kernel, rate] : f.device.vector_rates) o << "    " << kernel << ": " << flop_rate(rate) << "\n";
  }
  if (f.device.optimizer_rate > 0) o << "  optimizer_rate: " << param_rate(f.device.optimizer_rate) << "\n";
  if (!f.device.gemm_shapes.empty()) {
    o << "  gemm_shapes:\n";
    for (const auto& r : f.device.gemm_shapes) {
      o << "    - {m: " << r.m << ", n: " << r.n << ", k: " << r.k << ", trans: " << to_string(r.trans)
        << ", rate: " << flop_rate(r.flop_rate) << (r.window > 1 ? ", window: " + std::to_string(r.window) : std::string())
        << "}\n";
    }
  }
  provenance(o, f.device.why, "  ");
  o << "intra_node:\n  group_size: " << f.intra.group_size << "\n  bandwidth: " << bandwidth(f.intra.bandwidth)
    << "\n  latency: " << micros(f.intra.latency) << "\n";
  provenance(o, f.intra.why, "  ");
  o << "host:\n  name: " << quote(f.host.name) << "\n  sockets: " << f.host.sockets << "\n  cores: " << f.host.cores
    << (f.host.threads != f.host.cores ? "\n  threads: " + std::to_string(f.host.threads) : std::string())
    << "\n  flops: " << flop_rate(f.host.flops) << "\n  memory: " << bytes_gib(f.host.memory)
    << "\n  memory_bandwidth: " << bandwidth(f.host.memory_bandwidth) << "\n";
  if (f.host.optimizer_rate > 0) o << "  optimizer_rate: " << param_rate(f.host.optimizer_rate) << "\n";
  if (f.host.shares_device_cores) o << "  shares_device_cores: true\n";
  provenance(o, f.host.why, "  ");
  o << "host_link:\n  bandwidth: " << bandwidth(f.host_link.bandwidth) << "\n  latency: " << micros(f.host_link.latency)
    << "\n  devices_per_switch: " << f.host_link.devices_per_switch
    << "\n  switch_bandwidth: " << bandwidth(f.host_link.switch_bandwidth) << "\n";
  provenance(o, f.host_link.why, "  ");
  o << "nic:\n  count: " << f.nic.count << "\n  bandwidth: " << bandwidth(f.nic.bandwidth)
    << "\n  latency: " << micros(f.nic.latency) << "\n";
  provenance(o, f.nic.why, "  ");
  return o.str();
}

namespace {

std::string spread_yaml(const Spread& s) {
  return "{min: " + g(s.min) + ", median: " + g(s.median) + ", max: " + g(s.max) + ", samples: " + std::to_string(s.samples) + "}";
}

std::string measurements_yaml(const CpuCalibration& c) {
  std::ostringstream o;
  const std::string in = "      ";
  o << in << "gemm_fp32:  # seconds per GEMM over the repetitions; GFLOP/s at the best (min) time\n";
  for (const auto& p : c.gemm) {
    o << in << "  - {m: " << p.shape.m << ", n: " << p.shape.n << ", k: " << p.shape.k << ", what: " << quote(p.shape.tag)
      << ", gflops: " << g(p.flop_rate / 1e9) << ", seconds: " << spread_yaml(p.seconds)
      << ", max_rel_error_vs_reference: " << g(p.max_error) << "}\n";
  }
  auto bw = [&](const char* name, const BandwidthResult& b) {
    o << in << name << ": {gb_per_s: " << g(b.bandwidth / 1e9) << ", bytes_per_pass: " << g(b.bytes)
      << ", threads: " << c.memory.threads << ", seconds: " << spread_yaml(b.seconds) << "}\n";
  };
  bw("copy", c.memory.copy);
  o << in << "copy_one_thread: {gb_per_s: " << g(c.memory.copy_one_thread.bandwidth / 1e9)
    << ", seconds: " << spread_yaml(c.memory.copy_one_thread.seconds) << "}\n";
  bw("triad", c.memory.triad);
  o << in << "adamw_fp32:  # one update of all parameters; 28 bytes of DRAM traffic per parameter\n";
  for (const auto& a : c.adam) {
    o << in << "  - {threads: " << a.threads << ", mparams_per_s: " << g(a.params_per_s / 1e6)
      << ", gb_per_s: " << g(a.bytes_per_s / 1e9) << ", seconds: " << spread_yaml(a.seconds) << "}\n";
  }
  o << in << "adamw_fp32_device:  # " << c.adam_device_params << " parameters: the device's update (the model's, or 1 Mi)\n";
  for (const auto& a : c.adam_device) {
    o << in << "  - {threads: " << a.threads << ", mparams_per_s: " << g(a.params_per_s / 1e6)
      << ", seconds: " << spread_yaml(a.seconds) << "}\n";
  }
  const ElementwiseResult& e = c.elementwise;
  o << in << "elementwise:  # trainer kernels, 1 thread: layer norm fwd+bwd [T,h], GELU fwd+bwd [T,f], softmax [T,s]\n";
  o << in << "  {tokens: " << e.shape.tokens << ", hidden: " << e.shape.hidden << ", ffn: " << e.shape.ffn
    << ", seq: " << e.shape.seq << ", vflops: " << g(e.vflops) << ", gflops: " << g(e.rate / 1e9)
    << ", seconds: " << spread_yaml(e.seconds) << "}\n";
  if (!e.kernels.empty()) {
    o << in << "elementwise_kernels:  # each alone, 1 thread; GFLOP/s at the median time\n";
    for (const auto& k : e.kernels)
      o << in << "  - {kernel: " << k.kernel << ", vflops: " << g(k.vflops) << ", gflops: " << g(k.rate / 1e9)
        << ", seconds: " << spread_yaml(k.seconds) << "}\n";
  }
  if (!c.speed_probe.empty()) {
    o << in << "speed_probe:  # trainer/speed_probe.hpp between the measurements: the machine's speed while calibrated (GFLOP/s, median)\n";
    o << in << "  {m: " << trainer::SpeedProbe::kM << ", n: " << trainer::SpeedProbe::kN << ", k: " << trainer::SpeedProbe::kK
      << ", calls: " << trainer::SpeedProbe::kCalls << ", gflops: " << g(c.speed_probe_median()) << ", samples: [";
    for (std::size_t i = 0; i < c.speed_probe.size(); ++i) o << (i ? ", " : "") << g(c.speed_probe[i]);
    o << "]}\n";
  }
  if (c.mpi.ran) {
    o << in << "mpi:  # OpenMPI among " << c.mpi.ranks << " local ranks; t(S) = latency + S / bandwidth, weighted LSQ\n";
    for (const auto& [name, f] : c.mpi.collectives) {
      o << in << "  " << name << ": {latency_us: " << g(f.fit.latency * 1e6) << ", gb_per_s: " << g(f.fit.bandwidth() / 1e9)
        << ", max_rel_residual: " << g(f.fit.max_rel_residual) << ", points: [";
      for (std::size_t i = 0; i < f.samples.size(); ++i) {
        o << (i ? ", " : "") << "[" << g(f.samples[i].bytes) << ", " << g(f.samples[i].seconds) << "]";
      }
      o << "]}\n";
    }
    const ShareResult& sh = c.mpi.share;
    if (sh.threads > 0)
      o << in << "  sharing: {threads: " << sh.threads << ", chunk_alone_s: " << g(sh.chunk_alone_s)
        << ", iteration_s: " << g(sh.iteration_s) << ", iterations: " << sh.iterations
        << ", all_to_all_s: " << g(sh.all_to_all_s) << ", floats_per_peer: " << sh.block
        << ", efficiency: " << g(sh.efficiency(c.mpi.ranks))
        << "}  # compute chunk alone vs all ranks alternating it with an all-to-all (charged apart)\n";
  }
  return o.str();
}

}  // namespace

NodeFile node_from_cpu(const CpuCalibration& c) {
  const SystemInfo& s = c.system;
  const int ranks = std::max(1, c.options.ranks);
  NodeFile f;
  f.header = "Calibrated by `sparsim calibrate --cpu" + std::string(c.options.quick ? " --quick" : "") +
             (ranks > 1 ? " --ranks " + std::to_string(ranks) : "") + "` on " + s.date_utc +
             ".\nThe device is this CPU (or a 1/" + std::to_string(ranks) +
             " share of it per MPI rank); see calibration/README.md.";
  f.name = s.cpu_model + " (calibrated)";
  f.devices = ranks;
  f.why.source = {"measured by sparsim calibrate --cpu on " + s.date_utc + " in " + g(c.elapsed_s) + " s",
                  "cpu: " + s.cpu_model + ", " + std::to_string(s.sockets) + " socket(s), " + std::to_string(s.cores) +
                      " cores, " + std::to_string(s.logical_cpus) + " threads, flags: " + s.cpu_flags,
                  "blas: OpenBLAS " + s.blas, "compiler: " + s.compiler,
                  "method: every kernel checked against a scalar reference, then timed with std::chrono::steady_clock "
                  "after a warm-up; spread = min/median/max over the repetitions listed below"};
  f.measurements = measurements_yaml(c);

  // A share below one thread per device (oversubscribed ranks) scales the rates down: by the
  // fair share threads / ranks, times how much of it bulk-synchronous ranks were measured to
  // get (mpi_probe's sharing efficiency; 1 when not measured).
  const bool oversubscribed = ranks > s.logical_cpus;
  const double share_eff =
      oversubscribed && c.mpi.ran && c.mpi.share.threads > 0 ? std::clamp(c.mpi.share.efficiency(ranks), 0.05, 1.0) : 1.0;
  const double share = std::min(1.0, static_cast<double>(s.logical_cpus) / ranks / c.threads_per_device) * share_eff;
  double best = 0;
  for (const auto& p : c.gemm) best = std::max(best, p.flop_rate);
  const double peak = best * share;
  f.device.name = s.cpu_model + (ranks > 1 ? " (1/" + std::to_string(ranks) + " of the CPU)" : " (whole CPU)");
  f.device.peak_flops = {{"fp32", peak}, {"bf16", peak}, {"fp16", peak}};
  f.device.memory = s.memory_bytes / ranks;
  f.device.memory_bandwidth = c.memory.triad.bandwidth / ranks;
  f.device.gemm_efficiency = efficiency_table(c.gemm, best);
  // The trainer's element-wise kernels run on one thread per rank; its device AdamW on
  // threads_per_device threads. Ranks beyond the cores share them.
  const double cpu_share = std::min(1.0, static_cast<double>(s.logical_cpus) / ranks) * share_eff;
  f.device.vector_flops = c.elementwise.rate * cpu_share;
  for (const auto& k : c.elementwise.kernels) {
    f.device.vector_rates[k.kernel] = k.rate * cpu_share;
    if (k.kernel == "cross_entropy") f.device.vector_rates["cross_entropy_bwd"] = k.rate * cpu_share;
  }
  auto adam_at = [](const std::vector<AdamResult>& v, int threads) {
    const AdamResult* at = nullptr;
    for (const auto& a : v)
      if (a.threads <= threads) at = &a;
    return at ? at->params_per_s : 0.0;
  };
  f.device.optimizer_rate = adam_at(c.adam_device, c.threads_per_device) * share;
  for (const auto& p : c.model_gemm)  // the typical (median) time: the trainer calls them back to back
    f.device.gemm_shapes.push_back({static_cast<double>(p.shape.m), static_cast<double>(p.shape.n),
                                    static_cast<double>(p.shape.k), p.shape.trans, p.shape.flops() / p.seconds.median * share,
                                    p.shape.window});
  f.device.why.source = {"peak_flops.fp32: the best fp32 OpenBLAS GEMM rate measured with " +
                             std::to_string(c.threads_per_device) + " thread(s) per device" +
                             (share < 1 ? ", times " + g(share) + " (threads per rank < 1" +
                                              (share_eff < 1 ? ": the fair share times the measured sharing efficiency " +
                                                                   g(share_eff) + ")"
                                                             : std::string(")"))
                                        : std::string()),
                         "memory: /proc/meminfo MemTotal / devices", "memory_bandwidth: STREAM triad with all threads / devices",
                         "gemm_efficiency: measured GEMM rate / peak_flops over the shapes listed under the top-level source",
                         "vector_flops: the reference trainer's layer norm, GELU and softmax on 1 thread, FLOPs counted as the "
                         "simulator counts them (models/workload/transformer.hpp vflop)" +
                             (cpu_share < 1 ? ", times " + g(cpu_share) + " (ranks > hardware threads)" : std::string()),
                         "vector_rates: each of those kernels alone (median time), the same convention and share; "
                         "cross_entropy is the trainer's fused loss forward and backward, so its rate stands for both",
                         "optimizer_rate: AdamW over " + std::to_string(c.adam_device_params) + " fp32 parameters (median time, after GEMMs) with " + std::to_string(c.threads_per_device) +
                             " thread(s)" + (share < 1 ? ", times " + g(share) : std::string())};
  if (!c.model_gemm.empty())
    f.device.why.source.push_back("gemm_shapes: FLOP / median time of each GEMM of the trainer model given to calibrate "
                                  "(--model-shapes), with " + std::to_string(c.threads_per_device) + " thread(s)" +
                                  (share < 1 ? ", times " + g(share) : std::string()) +
                                  "; nt / tn: B / A transposed, as in the input / weight gradients; window: the "
                                  "GEMMs at that many consecutive token counts around m (k for tn) timed together, for "
                                  "experts, whose token counts vary from step to step");
  f.device.why.note = {
      "peak_flops is the best MEASURED rate, not cores x GHz x FLOP/cycle: clocks under load are unknown (VM, boost), so "
      "the table is relative to it and peak x efficiency reproduces each measured rate; MFU is then relative to it too",
      "bf16/fp16 = the fp32 figure: the CPU reference trainer computes in fp32 whatever training.precision says",
      "memory: no allocator or OS reserve subtracted"};

  // intra_node from the all-reduce fit, inverted through the simulator's ring formula
  // t = 2(p-1)/p S/B + 2(p-1) a  =>  a = latency / (2(p-1)),  B = 2(p-1)/p / slope.
  f.intra.group_size = ranks;
  const double copy_link = c.memory.copy.bandwidth / 2;  // STREAM copy counts read + write
  double bw = copy_link, lat = 1e-6;
  if (c.mpi.ran) {
    const LinearFit& ar = c.mpi.collectives.at("allreduce").fit;
    const int p = c.mpi.ranks;
    lat = std::max(ar.latency / (2.0 * (p - 1)), 1e-8);
    bw = ar.seconds_per_byte > 0 ? 2.0 * (p - 1) / p / ar.seconds_per_byte : copy_link;
    f.intra.why.source = {"MPI_Allreduce among " + std::to_string(p) + " local ranks fitted to latency + S x slope (weighted LSQ): latency " +
                          g(ar.latency * 1e6) + " us, slope " + g(ar.seconds_per_byte * 1e9) +
                          " ns/B; inverted through ring all-reduce 2(p-1)/p S/B + 2(p-1) a"};
    f.intra.why.note = {"all-to-all(v) fits are listed with the measurements for comparison; the file has one intra-node level"};
    if (ar.latency <= 0) f.intra.why.note.push_back("the fitted latency was <= 0 (noise); clamped to 0.01 us");
  } else {
    f.intra.why.note = {"ASSUMPTION: no MPI measurement (" + c.mpi.why_not +
                        "); bandwidth = half the STREAM copy rate (a shared-memory copy), latency 1 us"};
  }
  f.intra.bandwidth = bw;
  f.intra.latency = lat;

  f.host.name = s.cpu_model;
  f.host.sockets = s.sockets;
  f.host.cores = s.cores;
  f.host.threads = std::max(s.cores, s.logical_cpus);
  f.host.flops = c.host_gemm_flop_rate;
  f.host.memory = s.memory_bytes;
  f.host.memory_bandwidth = c.memory.triad.bandwidth;
  f.host.why.source = {"flops: best fp32 OpenBLAS GEMM rate with all " + std::to_string(s.logical_cpus) +
                           " threads (measured, not theoretical peak)",
                       "memory: /proc/meminfo MemTotal", "memory_bandwidth: STREAM triad, all threads"};
  // The host updates what its store holds, the experts' state (ECSS, offload): far past any
  // cache in a real run, and past the device's update here too. The trainer's host update of
  // 3.7 M parameters (7 experts) ran at 1.4-1.75 Gparams/s, the DRAM-sized one at 1.8 and the
  // 1 Mi one at 1.0 (2 threads, 2026-11-23).
  const bool dram = !c.adam.empty();
  f.host.optimizer_rate = adam_at(dram ? c.adam : c.adam_device, s.logical_cpus);
  f.host.shares_device_cores = true;  // the devices are this CPU's cores
  f.host.why.source.push_back("shares_device_cores: the devices are slices of this CPU, so host work cannot overlap them");
  if (f.host.optimizer_rate > 0) {
    f.host.why.source.push_back("optimizer_rate: AdamW over " + (dram ? std::string("DRAM-sized arrays") : std::to_string(c.adam_device_params) + " fp32 parameters") +
                                " (median time) with all " + std::to_string(s.logical_cpus) +
                                " threads; the simulator bounds the host optimizer by it and by memory_bandwidth");
  }
  if (const double cached = adam_at(c.adam_device, s.logical_cpus); dram && cached > 0) {
    f.host.why.note = {"AdamW over " + std::to_string(c.adam_device_params) + " fp32 parameters (the device's update) with all " + std::to_string(s.logical_cpus) +
                       " threads: " + g(cached / 1e6) + " Mparams/s"};
  }

  // one device's copies are one stream (one thread, as one DMA engine); the devices together
  // share the DRAM (switch_bandwidth)
  f.host_link.bandwidth = std::min(copy_link, c.memory.copy_one_thread.bandwidth / 2);
  f.host_link.latency = 1e-7;
  f.host_link.devices_per_switch = ranks;
  f.host_link.switch_bandwidth = copy_link;
  f.host_link.why.source = {"bandwidth: half the one-thread STREAM copy rate (" + g(c.memory.copy_one_thread.bandwidth / 1e9) +
                                " GB/s counts read + write): host and device share the DRAM, a 'transfer' is a memcpy",
                            "switch_bandwidth: half the STREAM copy rate with all threads (" + g(c.memory.copy.bandwidth / 1e9) +
                                " GB/s)"};
  f.host_link.why.note = {"latency: ASSUMPTION 0.1 us, a memcpy has no DMA setup; all devices share the DRAM (one switch)"};

  f.nic.count = 1;
  f.nic.bandwidth = bw;
  f.nic.latency = lat;
  f.nic.why.note = {"ASSUMPTION: one machine has no NIC to measure; set to the intra-node MPI figures, so several nodes "
                    "of this file behave as MPI ranks on one machine. Replace with a measured NIC for a real cluster"};
  return f;
}

}  // namespace sparsim::calib
