// trainer_mpi: the reference trainer under MPI (mpirun -np N trainer_mpi key=value ...).
// Experts are sharded over the ranks (dispatch / combine with MPI_Alltoallv), dense gradients
// are summed with MPI_Allreduce, every rank reads its own slice of the global batch.
//
// Keys (defaults in config.hpp): router=dense|topk|rre experts= top_k= capacity= domains=
// domain_data=mixed|grouped (rre: every domain on every rank, or each rank its experts' domains)
// layers= hidden= heads= ffn= seq= batch= steps= lr= placement=device|offload|ecss
// corpus=DIR (default: the synthetic corpus) losses=FILE json=FILE trace=FILE progress=0|1
// config=FILE.yaml (a trainer config, README.md; then only steps= and the outputs apply)
// trace=F: rank 0 writes F, rank r > 0 writes F.rank<r>
// routing=F: JSON of the routing the simulator needs to replay this run: per sparse layer the
// choices per expert before capacity over all steps and ranks, and the data's per-domain
// token-ID histograms and domain shares; and each timed step's wall time (step_times_s).
// speed_probe=0|1: after each timed step the ranks meet and rank 0 samples the machine-speed
// probe (speed_probe.hpp), written to the routing JSON as speed_probe_gflops.
#include <cblas.h>
#include <mpi.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "blas_kernels.hpp"
#include "mpi_wait.hpp"
#include "train.hpp"
#include "train_file.hpp"

namespace {

using namespace sparsim::trainer;

class MpiComm final : public Comm {
 public:
  explicit MpiComm(MPI_Comm c = MPI_COMM_WORLD) : comm_(c) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiComm() override {
    if (comm_ != MPI_COMM_WORLD) MPI_Comm_free(&comm_);
  }
  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::vector<int> alltoall(const std::vector<int>& send) override {
    SPARSIM_ASSERT(send.size() % static_cast<std::size_t>(size_) == 0, "alltoall: one block per rank");
    const int block = static_cast<int>(send.size()) / size_;
    std::vector<int> recv(send.size());
    MPI_Request r;
    check(MPI_Ialltoall(send.data(), block, MPI_INT, recv.data(), block, MPI_INT, comm_, &r));
    check(sparsim::mpi::wait_politely(r));
    return recv;
  }
  void alltoallv(const float* send, const std::vector<int>& sc, float* recv, const std::vector<int>& rc) override {
    std::vector<int> sd(sc.size(), 0), rd(rc.size(), 0);
    for (std::size_t i = 1; i < sc.size(); ++i) sd[i] = sd[i - 1] + sc[i - 1], rd[i] = rd[i - 1] + rc[i - 1];
    MPI_Request r;
    check(MPI_Ialltoallv(send, sc.data(), sd.data(), MPI_FLOAT, recv, rc.data(), rd.data(), MPI_FLOAT, comm_, &r));
    check(sparsim::mpi::wait_politely(r));
  }
  void allreduce_sum(float* data, std::size_t n) override {
    MPI_Request r;
    check(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_FLOAT, MPI_SUM, comm_, &r));
    check(sparsim::mpi::wait_politely(r));
  }
  void allreduce_sum(double* data, std::size_t n) override {
    MPI_Request r;
    check(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_DOUBLE, MPI_SUM, comm_, &r));
    check(sparsim::mpi::wait_politely(r));
  }
  void barrier() override {
    MPI_Request r;
    check(MPI_Ibarrier(comm_, &r));
    check(sparsim::mpi::wait_politely(r));
  }
  std::unique_ptr<Comm> split(int color) override {
    MPI_Comm c;
    check(MPI_Comm_split(comm_, color, rank_, &c));
    return std::make_unique<MpiComm>(c);
  }

 private:
  static void check(int rc) { SPARSIM_ASSERT(rc == MPI_SUCCESS, "MPI call failed"); }
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

/// `value` by name (config/enums.hpp) into `out`; false, after the error (with `also`, other
/// names the key takes), when it is unknown.
template <class E>
bool parse_name(const std::string& key, const std::string& value, E& out, const char* also = "") {
  const auto& n = sparsim::names<E>();
  if (const auto v = n.find(value)) {
    out = *v;
    return true;
  }
  std::cerr << "trainer_mpi: " << key << ": " << n.unknown(value) << also << "\n";
  return false;
}

int run_main(int argc, char** argv, Comm& comm) {
  std::map<std::string, std::string> kv;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    if (eq == std::string::npos) {
      std::cerr << "trainer_mpi: expected key=value, found '" << a << "'\n";
      return 2;
    }
    kv[a.substr(0, eq)] = a.substr(eq + 1);
  }
  auto take = [&](const std::string& k, const std::string& def) {
    auto it = kv.find(k);
    if (it == kv.end()) return def;
    std::string v = it->second;
    kv.erase(it);
    return v;
  };
  TrainConfig c;
  auto& m = c.model;
  const std::string file = take("config", "");
  const std::string router = take("router", "dense"), placement = take("placement", "device");
  if (router != "dense") {  // dense: no router, the sparse layers are plain FFNs
    Router r{};
    if (!parse_name("router", router, r, "; or dense")) return 2;
    if (const std::string why = not_implemented(r); !why.empty()) {
      std::cerr << "trainer_mpi: " << why << "; or dense\n";
      return 2;
    }
    m.router = r;
  }
  if (!parse_name("placement", placement, c.placement)) return 2;
  m.experts = std::stoi(take("experts", "4"));
  m.top_k = std::stoi(take("top_k", "1"));
  m.capacity_factor = std::stod(take("capacity", "1.25"));
  m.domains = std::stoi(take("domains", "2"));
  if (!parse_name("domain_data", take("domain_data", "mixed"), m.domain_data)) return 2;
  m.layers = std::stoi(take("layers", "2"));
  m.hidden = std::stoi(take("hidden", "32"));
  m.heads = std::stoi(take("heads", "4"));
  m.ffn = std::stoi(take("ffn", "64"));
  m.seq = std::stoi(take("seq", "32"));
  for (int l = 1; l < m.layers; l += 2) m.sparse_layers.push_back(l);
  c.global_batch = std::stoi(take("batch", "4"));
  c.adamw.lr = std::stof(take("lr", "0.003"));
  RunOptions opt;
  const std::string kv_threads = take("device_threads", "");
  const bool kv_steps_given = kv.count("steps") > 0;
  opt.steps = std::stoi(take("steps", "10"));
  opt.progress = take("progress", "1") == "1";
  const std::string probe = take("speed_probe", "0");
  if (probe != "0" && probe != "1") {
    std::cerr << "trainer_mpi: speed_probe: expected 0 or 1, found '" << probe << "'\n";
    return 2;
  }
  opt.speed_probe = probe == "1";
  opt.name = "trainer-" + router + "-" + placement + "-np" + std::to_string(comm.size());
  const std::string corpus = take("corpus", ""), losses = take("losses", ""), json = take("json", ""),
                    trace = take("trace", ""), routing_file = take("routing", "");
  if (!kv.empty()) {
    std::cerr << "trainer_mpi: unknown key '" << kv.begin()->first << "'\n";
    return 2;
  }
  std::string corpus_dir = corpus;
  if (!file.empty()) {  // a trainer config YAML (README.md) replaces the model/training keys
    const TrainFile tf = load_train_file(file);
    const int steps = opt.steps;
    c = tf.config;
    opt.name = tf.name + "-np" + std::to_string(comm.size());
    opt.warmup = tf.warmup_steps;
    opt.steps = kv_steps_given ? steps : c.steps;
    if (corpus.empty() && tf.corpus != "synthetic") corpus_dir = tf.corpus;
  }
  if (!kv_threads.empty()) c.device_threads = std::stoi(kv_threads);
  else c.device_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / comm.size());
  if (c.global_batch % comm.size() != 0 || (c.model.router && c.model.experts % comm.size() != 0)) {
    if (comm.rank() == 0) std::cerr << "trainer_mpi: batch and experts must be divisible by the " << comm.size() << " ranks\n";
    return 2;
  }
  const Dataset data = pack(corpus_dir.empty() ? synthetic_corpus(std::max(2, c.model.domains), 2000, 11) : read_corpus(corpus_dir), c.model.seq);
  const RunResult r = run(c, data, comm, opt);
  nlohmann::json routing;
  for (auto [layer, counts] : r.routed_per_expert) {
    comm.allreduce_sum(counts.data(), counts.size());
    routing["routed_per_expert"][std::to_string(layer)] = counts;
  }
  for (auto [layer, steps] : r.routed_per_step) {
    for (auto& counts : steps) comm.allreduce_sum(counts.data(), counts.size());
    routing["routed_per_step"][std::to_string(layer)] = steps;
  }
  if (!trace.empty() && comm.rank() != 0) r.trace.write(trace + ".rank" + std::to_string(comm.rank()), opt.name);
  if (comm.rank() != 0) return 0;
  if (!losses.empty()) {
    std::ofstream f(losses);
    f.precision(9);
    for (double l : r.losses) f << l << '\n';
  }
  if (!json.empty()) std::ofstream(json) << sparsim::sim::to_json(r.result).dump(2) << '\n';
  if (!trace.empty()) r.trace.write(trace, opt.name);
  if (!routing_file.empty()) {
    const DataStats st = data_stats(data, c.model.vocab);
    routing["seed"] = c.model.seed;
    routing["domain_mix"] = st.domain_mix;
    if (c.model.domain_data == DomainData::grouped && c.model.router == Router::rre) {
      // each step's domains are the ranks' slots, not the data's shares
      const auto count = grouped_step_counts(data, c.global_batch, grouped_rank_domains(comm.size(), c.model.domains));
      std::vector<double> mix;
      for (int n : count) mix.push_back(static_cast<double>(n) / c.global_batch);
      routing["domain_mix"] = mix;
      routing["domain_data"] = "grouped";
    } else if (c.model.router == Router::rre) {
      routing["domain_data"] = "mixed";
    }
    routing["token_histograms"] = st.token_histograms;
    routing["step_times_s"] = r.step_times_s;  // rank 0's timed steps (the ranks meet every step)
    routing["peer_wait_s"] = r.peer_wait_s;    // rank 0's waits in collectives for its last peer, per step
    if (opt.speed_probe) routing["speed_probe_gflops"] = r.speed_probe_gflops;  // after each timed step
    routing["counts_per_step"] = counts_json(r.counts_per_step);  // rank 0's, each timed step
    std::ofstream(routing_file) << routing.dump() << '\n';
  }
  std::fprintf(stderr, "trainer_mpi: %d ranks, %.0f tokens/s, step %.4f s\n", comm.size(), r.result.tokens_per_s,
               r.result.step_time);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  sparsim::blas::use_best_kernels(argv);  // before MPI_Init (blas_kernels.hpp)
  MPI_Init(&argc, &argv);
  int rc = 0;
  {
    MpiComm comm;
    // the CPU is split among the ranks, as in `sparsim calibrate --ranks N`
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    openblas_set_num_threads(std::max(1, cores / comm.size()));
    try {
      rc = run_main(argc, argv, comm);
    } catch (const std::exception& e) {
      std::cerr << "trainer_mpi: " << e.what() << '\n';
      rc = 2;
    }
  }
  MPI_Finalize();
  return rc;
}
