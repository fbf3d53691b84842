// `sparsim calibrate`: wiring only. The kernels live in calibration/ (cpu/, kernels/), the file
// format in calibration/writer.cpp.
#include "calibrate_cmd.hpp"

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "config/error.hpp"
#include "cpu/calibrate_cpu.hpp"
#include "output.hpp"
#include "model.hpp"
#include "train_file.hpp"
#include "writer.hpp"
#ifdef SPARSIM_HAVE_CUDA
#include "kernels/gpu.hpp"
#endif

namespace po = boost::program_options;

namespace sparsim::app {

namespace {

// mpi_probe next to the running executable (an installed or moved build), else the build tree's.
std::string find_probe(const std::string& argv0_dir) {
  const auto beside = std::filesystem::path(argv0_dir) / "mpi_probe";
  if (!argv0_dir.empty() && std::filesystem::exists(beside)) return beside.string();
#ifdef SPARSIM_MPI_PROBE
  return SPARSIM_MPI_PROBE;
#else
  return "";
#endif
}

std::string self_dir() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "" : p.parent_path().string();
}

}  // namespace

int calibrate_main(const std::vector<std::string>& args) {
  po::options_description opts("sparsim calibrate [--cpu] [--gpu] --out F.yaml [options]");
  std::string out, model_shapes;
  int ranks = 1;
  opts.add_options()("help,h", "show this help")
      ("cpu", "calibrate this CPU as the device (the default when neither --cpu nor --gpu is given)")
      ("gpu", "calibrate CUDA device 0 as the device (and this CPU as the host); exit 3 without a GPU")
      ("out", po::value(&out), "write the hardware (node) file here")
      ("quick", "fewer shapes, sizes and repetitions (about 15 s on 2 cores instead of about 1 minute)")
      ("ranks", po::value(&ranks)->default_value(1), "--cpu: split the CPU into this many devices (MPI ranks)")
      ("model-shapes", po::value(&model_shapes),
       "--cpu: also time every GEMM shape of this trainer config's model (calibration/trainer/README.md) over "
       "a grid of token counts, written as device.gemm_shapes")
      ("force", "replace an existing output file");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts
              << "\nMeasures GEMM efficiency over shapes, memory bandwidth (copy, triad), AdamW update rate and MPI\n"
                 "collectives (latency + bytes/bandwidth fit), checks each kernel against a reference, and writes a\n"
                 "node file that `sparsim simulate S --set cluster.node=F.yaml` loads. With --gpu: cuBLAS GEMM,\n"
                 "HBM, host<->device, fused Adam, token permutation and NCCL (calibration/README.md).\n"
                 "Exit codes: 0 ok, 1 a kernel failed its reference check, 2 bad input,\n"
                 "3 --gpu without a usable CUDA device (none present, or sparsim built without CUDA).\n";
    return 0;
  }
  const Origin cli{"command line", 0, 0};
  if (out.empty()) throw InputError(cli, "--out", "missing the output file (--out F.yaml)");
  if (ranks < 1 || ranks > 1024) throw InputError(cli, "--ranks", "expected 1..1024, found " + std::to_string(ranks));
  check_output_path(out, vm.count("force") > 0, {});
  const bool gpu = vm.count("gpu") > 0;

  if (gpu) {
#ifdef SPARSIM_HAVE_CUDA
    std::string why;
    if (calib::gpu::device_count(why) == 0) {
      std::cerr << "sparsim calibrate: no CUDA device present (" << why << "); nothing written\n";
      return kNoDevice;
    }
#else
    std::cerr << "sparsim calibrate: no CUDA device present: this sparsim was built without CUDA "
                 "(SPARSIM_CUDA=OFF or no nvcc); nothing written\n";
    return kNoDevice;
#endif
  }

  calib::CpuOptions o;
  o.quick = vm.count("quick") > 0;
  o.ranks = gpu ? 1 : ranks;
#ifdef SPARSIM_MPIEXEC
  o.mpirun = SPARSIM_MPIEXEC;
#endif
  o.mpi_probe = find_probe(self_dir());
  if (!model_shapes.empty()) {  // InputError (exit 2) for a bad file, before anything is measured
    const trainer::TrainConfig t = trainer::load_train_file(model_shapes).config;
    const trainer::ModelConfig& m = t.model;
    o.gemm_model = {m.hidden, m.ffn, m.heads, m.seq, m.vocab, m.router == Router::topk ? m.experts : 0,
                    m.router && !m.sparse_layers.empty(),
                    std::max(1, t.global_batch / std::max(1, o.ranks)) * m.seq};
    // the device's AdamW: the dense parameters, every rank's; with placement device its experts too
    o.adam_params = static_cast<std::size_t>(
        trainer::dense_param_count(m) +
        (t.placement == Placement::device ? trainer::expert_param_count(m) / std::max(1, o.ranks) : 0.0));
    // the sharing probe's all-to-all: one dispatch of this model, a rank's tokens x hidden over the ranks
    o.share_block = std::max(1, o.gemm_model.tokens * m.hidden / std::max(1, o.ranks));
  }
  try {
    const calib::CpuCalibration c = calib::calibrate_cpu(o, std::cerr);
    calib::NodeFile node = calib::node_from_cpu(c);
#ifdef SPARSIM_HAVE_CUDA
    if (gpu) calib::gpu::calibrate_gpu({o.quick}, node, std::cerr);
#endif
    write_file(out, calib::to_yaml(node));
    std::cerr << "sparsim calibrate: wrote " << out << " in " << c.elapsed_s << " s\n";
  } catch (const std::runtime_error& e) {
    std::cerr << "sparsim calibrate: failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace sparsim::app
