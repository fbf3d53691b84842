#include "train_file.hpp"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "config/reader.hpp"
#include "config/tree.hpp"

namespace sparsim::trainer {

using config::Reader;

TrainFile load_train_file(const std::string& path, const std::vector<std::string>& sets) {
  config::Tree tree = config::Tree::load(path);
  for (const auto& s : sets) tree.set(s);
  Reader r(tree, tree.root(), "");
  TrainFile f;
  f.name = r.has("name") ? r.text("name") : std::filesystem::path(path).stem().string();
  auto& c = f.config;
  auto& m = c.model;
  {
    Reader mr = r.child("model");
    m.vocab = mr.count_or("vocab", 258, 2);
    m.seq = mr.count("seq_len");
    m.hidden = mr.count("hidden");
    m.heads = mr.count("heads");
    m.ffn = mr.count("ffn_hidden");
    m.layers = mr.count("layers");
    m.seed = static_cast<std::uint64_t>(mr.integer_or("seed", 1, 0));
    if (m.hidden % m.heads != 0) mr.fail("heads", "heads must divide hidden (" + std::to_string(m.hidden) + ")");
    if (mr.has("moe")) {
      Reader moe = mr.child("moe");
      m.router = moe.choice("router", config::Choices<Router>{{"topk", Router::topk}, {"rre", Router::rre}});
      for (const auto& [node, p] : moe.sequence("layers")) {
        const auto v = moe.as_count(node, p, 0);
        if (v >= m.layers) moe.fail_at(node, p, "layer index " + std::to_string(v) + " >= layers");
        m.sparse_layers.push_back(v);
      }
      m.experts = moe.count("experts");
      m.top_k = moe.count_or("top_k", 1);
      if (m.top_k > m.experts) moe.fail("top_k", "top_k exceeds experts");
      m.capacity_factor = moe.number_or("capacity_factor", 1.25, 0.0, 1e6);
      m.domains = moe.count_or("domains", 1);
      if (m.experts % m.domains != 0) moe.fail("domains", "domains must divide experts");
      if (moe.has("domain_data") && m.router != Router::rre) moe.fail("domain_data", "domain_data applies to router rre");
      m.domain_data = moe.choice_or<DomainData>("domain_data", {{"mixed", DomainData::mixed}, {"grouped", DomainData::grouped}},
                                                DomainData::mixed);
      m.aux_coef = static_cast<float>(moe.number_or("aux_loss", 0.01, 0.0, 1e3));
      moe.finish();
    }
    mr.finish();
  }
  {
    Reader t = r.child("training");
    c.global_batch = t.count("global_batch");
    c.steps = t.count("steps");
    f.warmup_steps = t.count_or("warmup_steps", 1, 0);
    c.adamw.lr = static_cast<float>(t.number_or("lr", 3e-3, 0.0, 10.0));
    c.adamw.beta1 = static_cast<float>(t.number_or("beta1", 0.9, 0.0, 1.0));
    c.adamw.beta2 = static_cast<float>(t.number_or("beta2", 0.95, 0.0, 1.0));
    c.adamw.weight_decay = static_cast<float>(t.number_or("weight_decay", 0.0, 0.0, 10.0));
    c.placement = t.choice_or("placement",
                              config::Choices<Placement>{{"device", Placement::device},
                                                         {"offload", Placement::offload},
                                                         {"ecss", Placement::ecss}},
                              Placement::device);
    c.host_threads = t.count_or("host_threads", 2);
    const long long cores = std::max(1u, std::thread::hardware_concurrency());
    c.device_threads = t.count_or("device_threads", cores);
    t.finish();
  }
  {
    Reader d = r.child("data");
    f.corpus = d.text("corpus");
    if (f.corpus != "synthetic") f.corpus = tree.relative_to_file("data.corpus", f.corpus);
    c.data_seed = static_cast<std::uint64_t>(d.integer_or("seed", 7, 0));
    d.finish();
  }
  if (r.has("checkpoint")) {
    Reader k = r.child("checkpoint");
    f.checkpoint = k.text("path");
    f.checkpoint_every = k.count_or("every", 0, 0);
    f.resume = k.flag_or("resume", true);
    k.finish();
  }
  r.finish();
  if (m.router == Router::rre && m.vocab < 2) r.fail("model.vocab", "too small");
  f.resolved = tree.emit();
  return f;
}

}  // namespace sparsim::trainer
