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
    m.vocab = static_cast<int>(mr.integer_or("vocab", 258, 2));
    m.seq = static_cast<int>(mr.integer("seq_len"));
    m.hidden = static_cast<int>(mr.integer("hidden"));
    m.heads = static_cast<int>(mr.integer("heads"));
    m.ffn = static_cast<int>(mr.integer("ffn_hidden"));
    m.layers = static_cast<int>(mr.integer("layers"));
    m.seed = static_cast<std::uint64_t>(mr.integer_or("seed", 1, 0, std::numeric_limits<long long>::max()));
    if (m.hidden % m.heads != 0) mr.fail("heads", "heads must divide hidden (" + std::to_string(m.hidden) + ")");
    if (mr.has("moe")) {
      Reader moe = mr.child("moe");
      const Router router = moe.choice("router", names<Router>());
      if (const std::string why = not_implemented(router); !why.empty()) moe.fail("router", why);
      m.router = router;
      for (const auto& [node, p] : moe.sequence("layers")) {
        const auto v = static_cast<int>(moe.as_integer(node, p, 0));
        if (v >= m.layers) moe.fail_at(node, p, "layer index " + std::to_string(v) + " >= layers");
        m.sparse_layers.push_back(v);
      }
      m.experts = static_cast<int>(moe.integer("experts"));
      m.top_k = static_cast<int>(moe.integer_or("top_k", 1));
      if (m.top_k > m.experts) moe.fail("top_k", "top_k exceeds experts");
      m.capacity_factor = moe.number_or("capacity_factor", 1.25, 0.0, 1e6);
      if (moe.has("dispatch") && moe.text("dispatch") != "index")
        moe.fail("dispatch", "the reference trainer gathers each expert's tokens by index; expected dispatch index (einsum is a simulator model of GShard's products)");
      m.domains = static_cast<int>(moe.integer_or("domains", 1));
      if (m.experts % m.domains != 0) moe.fail("domains", "domains must divide experts");
      if (moe.has("domain_data") && m.router != Router::rre) moe.fail("domain_data", "domain_data applies to router rre");
      m.domain_data = moe.choice_or("domain_data", names<DomainData>(), DomainData::mixed);
      m.aux_coef = static_cast<float>(moe.number_or("aux_loss", 0.01, 0.0, 1e3));
      moe.finish();
    }
    mr.finish();
  }
  {
    Reader t = r.child("training");
    c.global_batch = static_cast<int>(t.integer("global_batch"));
    c.steps = static_cast<int>(t.integer("steps"));
    f.warmup_steps = static_cast<int>(t.integer_or("warmup_steps", 1, 0));
    c.adamw.lr = static_cast<float>(t.number_or("lr", 3e-3, 0.0, 10.0));
    c.adamw.beta1 = static_cast<float>(t.number_or("beta1", 0.9, 0.0, 1.0));
    c.adamw.beta2 = static_cast<float>(t.number_or("beta2", 0.95, 0.0, 1.0));
    c.adamw.weight_decay = static_cast<float>(t.number_or("weight_decay", 0.0, 0.0, 10.0));
    c.placement = t.choice_or("placement", names<Placement>(), Placement::device);
    c.host_threads = static_cast<int>(t.integer_or("host_threads", 2));
    const long long cores = std::max(1u, std::thread::hardware_concurrency());
    c.device_threads = static_cast<int>(t.integer_or("device_threads", cores));
    t.finish();
  }
  {
    Reader d = r.child("data");
    f.corpus = d.text("corpus");
    if (f.corpus != "synthetic") f.corpus = tree.relative_to_file("data.corpus", f.corpus);
    c.data_seed = static_cast<std::uint64_t>(d.integer_or("seed", 7, 0, std::numeric_limits<long long>::max()));
    d.finish();
  }
  if (r.has("checkpoint")) {
    Reader k = r.child("checkpoint");
    f.checkpoint = k.text("path");
    f.checkpoint_every = static_cast<int>(k.integer_or("every", 0, 0));
    f.resume = k.flag_or("resume", true);
    k.finish();
  }
  r.finish();
  if (m.router == Router::rre && m.vocab < 2) r.fail("model.vocab", "too small");
  f.resolved = tree.emit();
  return f;
}

}  // namespace sparsim::trainer
