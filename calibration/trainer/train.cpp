#include "train.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>

#include "ops.hpp"
#include "speed_probe.hpp"

namespace sparsim::trainer {

std::vector<std::vector<int>> grouped_rank_domains(int ranks, int domains) {
  // PanGu-Σ: rank r holds experts [r E/R, (r+1) E/R) and reads the domains of their groups; its
  // tokens then reach only the ranks of those domains, a group closed under the dispatch when
  // each rank holds one domain (R a multiple of D) or whole domains (D a multiple of R).
  const int R = ranks, D = domains;
  if (R < 1 || D < 1 || (R % D != 0 && D % R != 0))
    throw std::invalid_argument("grouped domain data needs ranks and domains that divide one another (ranks " +
                                std::to_string(R) + ", domains " + std::to_string(D) + ")");
  std::vector<std::vector<int>> out(static_cast<std::size_t>(R));
  for (int r = 0; r < R; ++r) {
    auto& mine = out[static_cast<std::size_t>(r)];
    if (R % D == 0) {
      mine = {r / (R / D)};
    } else {
      for (int d = r * (D / R); d < (r + 1) * (D / R); ++d) mine.push_back(d);
    }
  }
  return out;
}

Trainer::Trainer(const TrainConfig& cfg, const Dataset& data, Comm& comm)
    : cfg_(cfg), data_(data), comm_(comm), model_(cfg.model, cfg.placement, comm.rank(), comm.size()) {
  SPARSIM_ASSERT(data.seq == cfg.model.seq, "dataset sequence length differs from the model's");
  // Keep freed memory in the process, as a framework's caching allocator does. By default glibc
  // maps every large buffer afresh and unmaps it on free, so each step page-faults its
  // activations in again, and OpenMPI (whose hooks watch munmap) took 56 ms instead of 3 ms to
  // all-reduce a 5 MB buffer allocated anew each step among 4 ranks.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  const ModelConfig& m = cfg.model;
  if (m.router != Router::rre || m.sparse_layers.empty() || m.domain_data != DomainData::grouped) return;
  const int R = comm.size(), D = m.domains;
  if (D > static_cast<int>(data.domain_names.size()))
    throw std::invalid_argument("grouped domain data: the model has " + std::to_string(D) + " domains, the data " +
                                std::to_string(data.domain_names.size()));
  rank_domains_ = grouped_rank_domains(R, D);
  grouped_batch_indices(data, 0, cfg.global_batch, rank_domains_, comm.rank(), cfg.data_seed);  // throws when too few
  // a group's ranks share their first domain (one domain per rank), or a rank is its own group
  expert_comm_ = comm.split(rank_domains_[static_cast<std::size_t>(comm.rank())].front());
}

double Trainer::train_step() {
  const int s = cfg_.model.seq, B = cfg_.global_batch / comm_.size();
  const auto idx = rank_domains_.empty()
                       ? batch_indices(data_, step_, cfg_.global_batch, comm_.rank(), comm_.size(), cfg_.data_seed)
                       : grouped_batch_indices(data_, step_, cfg_.global_batch, rank_domains_, comm_.rank(), cfg_.data_seed);
  std::vector<int> in, tgt, dom;
  for (int i : idx) {
    const auto& t = data_.tokens[static_cast<std::size_t>(i)];
    in.insert(in.end(), t.begin(), t.begin() + s);
    tgt.insert(tgt.end(), t.begin() + 1, t.end());
    dom.push_back(data_.domain[static_cast<std::size_t>(i)]);
  }
  prof_.counts = StepCounts{};
  const std::uint64_t flops0 = gemm_flops_counted();
  double loss = model_.forward_backward(in.data(), tgt.data(), dom.data(), B, cfg_.global_batch, comm_, prof_,
                                        expert_comm_.get());
  model_.allreduce_grads(comm_, prof_);
  model_.step(cfg_.adamw, cfg_.device_threads, cfg_.host_threads, prof_);
  prof_.counts.gemm_flops = gemm_flops_counted() - flops0;
  // the mean loss (8 bytes) is reported, not trained on: not counted with the gradients
  comm_.allreduce_sum(&loss, 1);
  ++step_;
  return loss;
}

std::string Trainer::rank_path(const std::string& path) const {
  return comm_.size() == 1 ? path : path + ".rank" + std::to_string(comm_.rank());
}

namespace {
constexpr char kMagic[8] = {'S', 'P', 'T', 'R', 'C', 'K', 'P', '1'};
void put(std::FILE* f, const void* p, std::size_t n) {
  if (n && std::fwrite(p, 1, n, f) != n) throw std::runtime_error("checkpoint: write failed");
}
void get(std::ifstream& in, void* p, std::size_t n) {
  if (!in.read(static_cast<char*>(p), static_cast<std::streamsize>(n))) throw std::runtime_error("checkpoint: truncated");
}
void put_vec(std::FILE* f, const std::vector<float>& v) { put(f, v.data(), v.size() * sizeof(float)); }
void get_vec(std::ifstream& in, std::vector<float>& v) { get(in, v.data(), v.size() * sizeof(float)); }
}  // namespace

void Trainer::save(const std::string& path) const {
  const std::string final_path = rank_path(path), tmp = final_path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw InputError(Origin{tmp, 0, 0}, "checkpoint", "cannot be written");
  auto& m = const_cast<Model&>(model_);
  put(f, kMagic, sizeof kMagic);
  const int header[2] = {step_, m.dense_step()};
  put(f, header, sizeof header);
  for (Tensor* t : m.dense_params()) {
    put_vec(f, t->w), put_vec(f, t->m), put_vec(f, t->v);
  }
  for (MoeLayer* l : m.moe_layers())
    for (int e = 0; e < l->store.size(); ++e) {
      const auto& st = l->store.master(e);
      put(f, &st.step, sizeof st.step);
      put_vec(f, st.w), put_vec(f, st.m), put_vec(f, st.v);
    }
  if (std::fflush(f) != 0 || ::fsync(fileno(f)) != 0) throw std::runtime_error("checkpoint: flush failed");
  std::fclose(f);
  std::filesystem::rename(tmp, final_path);  // atomic on POSIX: readers see the old or the new file
}

void Trainer::load(const std::string& path) {
  const std::string p = rank_path(path);
  try {
    load_file(p);
  } catch (const InputError&) {
    throw;
  } catch (const std::runtime_error& e) {  // truncated or for another model: bad input, not a crash
    throw InputError(Origin{p, 0, 0}, "checkpoint", std::string(e.what()) + " (does not match the model)");
  }
}

void Trainer::load_file(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw InputError(Origin{p, 0, 0}, "checkpoint", "cannot be read");
  char magic[8];
  get(in, magic, sizeof magic);
  if (!std::equal(magic, magic + 8, kMagic)) throw InputError(Origin{p, 0, 0}, "checkpoint", "not a trainer checkpoint");
  int header[2];
  get(in, header, sizeof header);
  step_ = header[0];
  model_.set_dense_step(header[1]);
  for (Tensor* t : model_.dense_params()) {
    get_vec(in, t->w), get_vec(in, t->m), get_vec(in, t->v);
  }
  for (MoeLayer* l : model_.moe_layers())
    for (int e = 0; e < l->store.size(); ++e) {
      auto& st = l->store.master(e);
      get(in, &st.step, sizeof st.step);
      get_vec(in, st.w), get_vec(in, st.m), get_vec(in, st.v);
    }
  if (in.peek() != std::char_traits<char>::eof()) throw InputError(Origin{p, 0, 0}, "checkpoint", "does not match the model");
}

std::vector<double> waits_for_last(const std::vector<double>& starts, std::size_t ranks, std::size_t me,
                                   const std::vector<double>& durs) {
  SPARSIM_ASSERT(me < ranks && starts.size() == durs.size() * ranks, "waits_for_last: one start per rank and call");
  std::vector<double> w(durs.size());
  for (std::size_t k = 0; k < durs.size(); ++k) {
    const auto first = starts.begin() + static_cast<std::ptrdiff_t>(k * ranks);
    const double last = *std::max_element(first, first + static_cast<std::ptrdiff_t>(ranks));
    w[k] = std::clamp(last - starts[k * ranks + me], 0.0, durs[k]);
  }
  return w;
}

std::vector<double> Trainer::peer_waits(double t_begin) {
  const auto& spans = prof_.spans;
  std::vector<double> wait(spans.size(), 0.0);
  if (comm_.size() == 1) return wait;
  // Every rank of `c` runs the same collectives of `category` in the same order, so the k-th
  // such span of each rank is one call: all-gather their starts (a sum over one slot per rank).
  auto attribute = [&](const char* category, Comm& c) {
    std::vector<std::size_t> mine;
    for (std::size_t i = 0; i < spans.size(); ++i)
      if (spans[i].start >= t_begin && std::strcmp(spans[i].category, category) == 0) mine.push_back(i);
    const auto R = static_cast<std::size_t>(c.size()), me = static_cast<std::size_t>(c.rank());
    double count = static_cast<double>(mine.size());
    c.allreduce_sum(&count, 1);
    SPARSIM_ASSERT(count == static_cast<double>(mine.size() * R), "ranks ran different numbers of collectives");
    std::vector<double> starts(mine.size() * R, 0.0), durs;
    for (std::size_t k = 0; k < mine.size(); ++k) {
      starts[k * R + me] = prof_.origin() + spans[mine[k]].start;
      durs.push_back(spans[mine[k]].dur);
    }
    c.allreduce_sum(starts.data(), starts.size());
    const std::vector<double> w = waits_for_last(starts, R, me, durs);
    for (std::size_t k = 0; k < mine.size(); ++k) wait[mine[k]] = w[k];
  };
  attribute("dp", comm_);
  attribute("ep", expert_comm_ ? *expert_comm_ : comm_);
  return wait;
}

static void fill_result(sim::StepResult& r, const TrainConfig& cfg, Model& m, Comm& comm, const Profiler& prof,
                        const std::vector<double>& wait, double t_begin, int timed_steps, double wall) {
  r.backend = "measured";
  r.devices = comm.size();
  r.micro_batches = 1;
  r.step_time = timed_steps > 0 ? wall / timed_steps : 0;
  r.tokens_per_s = r.step_time > 0 ? cfg.global_batch * cfg.model.seq / r.step_time : 0;
  r.params_total = m.params_total();
  r.params_active = m.params_active_per_token();
  r.model_flops = 6.0 * r.params_active * cfg.global_batch * cfg.model.seq;
  r.hardware_flops = r.model_flops;
  r.tflops_per_device = r.step_time > 0 ? r.model_flops / comm.size() / r.step_time / 1e12 : 0;
  // A collective's time is from its last rank's arrival on (as the simulator's); the wait
  // before, for peers still computing, joins compute, what is left of the step.
  std::map<std::string, double> cat;
  for (std::size_t i = 0; i < prof.spans.size(); ++i)
    if (const auto& s = prof.spans[i]; s.start >= t_begin) cat[s.category] += s.dur - wait[i];
  const double n = std::max(1, timed_steps);
  auto& b = r.breakdown;
  b.ep = cat["ep"] / n, b.dp = cat["dp"] / n, b.h2d = cat["h2d"] / n, b.d2h = cat["d2h"] / n;
  b.host_optimizer = cat["host_optimizer"] / n, b.optimizer = cat["optimizer"] / n;
  // compute = what is left of the step: the timed kernels, untimed glue (batching, adds) and
  // the waits for peers
  b.compute = std::max(cat["compute"] / n, r.step_time - (b.ep + b.dp + b.h2d + b.d2h + b.host_optimizer + b.optimizer));
  double dense = 0, experts = 0, pool = 0;
  for (Tensor* t : m.dense_params()) dense += static_cast<double>(t->size());
  for (MoeLayer* l : m.moe_layers())
    for (int e = 0; e < l->store.size(); ++e) experts += static_cast<double>(l->store.master(e).w.size());
  const bool host = cfg.placement != Placement::device;
  for (MoeLayer* l : m.moe_layers()) pool += l->store.pool_experts();
  auto& mem = r.memory;
  mem.params = 4 * (dense + (host ? 0 : experts));
  mem.grads = mem.params;
  mem.optimizer = 2 * mem.params;
  mem.host = host ? 16 * experts : 0;
  const double phys = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  mem.device_capacity = phys / comm.size();
  mem.host_capacity = phys;
  (void)pool;
}

RunResult run(const TrainConfig& cfg, const Dataset& data, Comm& comm, const RunOptions& opt) {
  Trainer tr(cfg, data, comm);
  if (opt.resume && !opt.checkpoint.empty()) {
    const std::string p = comm.size() == 1 ? opt.checkpoint : opt.checkpoint + ".rank" + std::to_string(comm.rank());
    if (std::filesystem::exists(p)) tr.load(opt.checkpoint);
  }
  RunResult out;
  const int first = tr.step();
  double t_begin = 0, t0 = tr.profiler().now();
  std::optional<SpeedProbe> probe;
  if (opt.speed_probe && comm.rank() == 0) probe.emplace();
  double probing = 0;  // seconds of timed wall time spent probing
  for (int i = first; i < opt.steps; ++i) {
    if (i - first == opt.warmup) t_begin = tr.profiler().now();
    const bool timed = i - first >= opt.warmup;
    const double ts = tr.profiler().now();
    out.losses.push_back(tr.train_step());
    if (opt.speed_probe && timed) comm.barrier();
    const double dt = tr.profiler().now() - ts;
    if (timed) {
      out.step_times_s.push_back(dt);
      out.counts_per_step.push_back(tr.profiler().counts);
    }
    if (opt.speed_probe && timed) {
      const double p0 = tr.profiler().now();
      if (probe) out.speed_probe_gflops.push_back(probe->sample());
      comm.barrier();
      probing += tr.profiler().now() - p0;
    }
    if (opt.progress && comm.rank() == 0) {
      std::fprintf(stderr, "step %d/%d loss %.4f tokens/s %.0f\n", tr.step(), opt.steps, out.losses.back(),
                   cfg.global_batch * cfg.model.seq / dt);
    }
    if (!opt.checkpoint.empty() && opt.checkpoint_every > 0 && tr.step() % opt.checkpoint_every == 0)
      tr.save(opt.checkpoint);
    if (opt.after_step) opt.after_step(tr.step());
  }
  if (!opt.checkpoint.empty() && opt.checkpoint_every == 0) tr.save(opt.checkpoint);
  const int ran = opt.steps - first, timed = std::max(0, ran - opt.warmup);
  if (timed == 0) t_begin = t0;
  const double wall = tr.profiler().now() - t_begin - probing;
  const int counted = std::max(1, timed == 0 ? ran : timed);  // the steps the timings are per
  const std::vector<double> wait = tr.peer_waits(t_begin);
  fill_result(out.result, cfg, tr.model(), comm, tr.profiler(), wait, t_begin, counted, wall);
  for (double w : wait) out.peer_wait_s += w / counted;
  out.result.scenario = opt.name;
  for (MoeLayer* l : tr.model().moe_layers()) {
    out.routed_per_expert[l->layer()] = l->routed_per_expert();
    const auto& f = l->routed_per_forward;  // one forward per step
    const auto n = static_cast<std::ptrdiff_t>(std::min<std::size_t>(f.size(), static_cast<std::size_t>(timed)));
    out.routed_per_step[l->layer()].assign(f.end() - n, f.end());
  }
  out.trace.name_actor(0, comm.rank(), "rank " + std::to_string(comm.rank()));
  for (const auto& s : tr.profiler().spans)
    if (s.start >= t_begin) {
      out.trace.add(0, comm.rank(), s.lane, s.name, s.category, s.start - t_begin, s.dur);
      out.phases_s[s.name] += s.dur / counted;
    }
  return out;
}

nlohmann::json counts_json(const std::vector<StepCounts>& steps) {
  nlohmann::json out = nlohmann::json::array();
  for (const StepCounts& k : steps) {
    nlohmann::json step = {{"gemm_flops", k.gemm_flops}, {"expert_gemm_flops", k.expert_gemm_flops},
                           {"h2d_bytes", k.h2d_bytes},   {"d2h_bytes", k.d2h_bytes},
                           {"ep_bytes", k.ep_bytes},     {"dp_bytes", k.dp_bytes},
                           {"layers", nlohmann::json::array()}};
    for (const auto& l : k.layers)
      step["layers"].push_back({{"layer", l.layer}, {"expert_tokens", l.expert_tokens}, {"sent_rows", l.sent_rows},
                                {"recv_rows", l.recv_rows}});
    out.push_back(std::move(step));
  }
  return out;
}

DataStats data_stats(const Dataset& data, int vocab) {
  DataStats st;
  const std::size_t D = data.domain_names.size();
  st.token_histograms.assign(D, std::vector<double>(static_cast<std::size_t>(vocab), 0.0));
  st.domain_mix.assign(D, 0.0);
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto d = static_cast<std::size_t>(data.domain[i]);
    st.domain_mix[d] += 1;
    const auto& t = data.tokens[i];
    for (std::size_t j = 0; j + 1 < t.size(); ++j) st.token_histograms[d][static_cast<std::size_t>(t[j])] += 1;
  }
  return st;
}

}  // namespace sparsim::trainer
