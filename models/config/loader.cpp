#include "config/loader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "config/reader.hpp"

namespace sparsim::config {

using units::Dim;

namespace {

const Choices<Precision> kPrecisions{{"fp16", Precision::fp16}, {"bf16", Precision::bf16}, {"fp32", Precision::fp32}};
const Choices<GemmTrans> kGemmTrans{{"nn", GemmTrans::nn}, {"nt", GemmTrans::nt}, {"tn", GemmTrans::tn}};

Device read_device(Reader r) {
  Device d;
  d.name = r.text("name");
  Reader peaks = r.child("peak_flops");
  for (const auto& [name, p] : kPrecisions) {
    if (peaks.has(name)) d.peak_flops[p] = peaks.quantity(name, Dim::flop_rate);
  }
  if (peaks.has("tf32")) peaks.quantity("tf32", Dim::flop_rate);  // listed for completeness
  peaks.finish();
  if (d.peak_flops.empty()) r.fail("peak_flops", "expected at least one of fp16, bf16, fp32");
  d.memory = r.quantity("memory", Dim::bytes);
  d.memory_bandwidth = r.quantity("memory_bandwidth", Dim::bandwidth);
  for (const auto& [node, path] : r.has("gemm_efficiency") || !r.has("gemm") ? r.sequence("gemm_efficiency")
                                                                              : std::vector<std::pair<YAML::Node, std::string>>{}) {
    Reader p(r.tree(), node, path);
    EfficiencyPoint e{p.quantity("flops", Dim::flops), p.number("efficiency", 1e-6, 1.0)};
    p.finish();
    if (!d.gemm_efficiency.empty() && e.flops <= d.gemm_efficiency.back().flops) {
      p.fail("flops", "gemm_efficiency points must be sorted by increasing flops");
    }
    d.gemm_efficiency.push_back(e);
  }
  if (d.gemm_efficiency.empty() && !r.has("gemm")) r.fail("gemm_efficiency", "expected at least one point (or a gemm tile model)");
  if (r.has("vector_flops")) d.vector_flops = r.quantity("vector_flops", Dim::flop_rate);
  if (r.has("compute_units")) d.compute_units = static_cast<int>(r.integer("compute_units"));
  if (r.has("gemm")) {
    if (d.compute_units == 0) r.fail("gemm", "a GEMM tile model needs compute_units");
    Reader g = r.child("gemm");
    d.gemm_plateau = g.number("plateau", 1e-3, 1.0);
    for (const auto& [node, path] : g.sequence("tiles")) {
      if (!node.IsSequence() || node.size() != 2) g.fail_at(node, path, "expected a tile [rows, columns]");
      const auto rows = static_cast<int>(g.as_integer(node[0], path + "[0]", 1));
      const auto cols = static_cast<int>(g.as_integer(node[1], path + "[1]", 1));
      d.gemm_tiles.emplace_back(rows, cols);
    }
    if (d.gemm_tiles.empty()) g.fail("tiles", "expected at least one tile");
    g.finish();
  }
  if (r.has("attention_plateau")) d.attention_plateau = r.number("attention_plateau", 1e-3, 1.0);
  if (r.has("attention_backward_plateau")) d.attention_backward_plateau = r.number("attention_backward_plateau", 1e-3, 1.0);
  d.memory_efficiency = r.number_or("memory_efficiency", 1.0, 1e-3, 1.0);
  if (r.has("memory_reserved")) d.memory_reserved = r.quantity("memory_reserved", Dim::bytes);
  d.fragmentation = r.number_or("fragmentation", 0.0, 0.0, 1.0);
  if (r.has("kernel_overhead")) d.kernel_overhead = r.quantity("kernel_overhead", Dim::time);
  if (r.has("exp_rate")) d.exp_rate = r.quantity("exp_rate", Dim::flop_rate);
  if (r.has("optimizer_rate")) d.optimizer_rate = r.quantity("optimizer_rate", Dim::param_rate);
  if (r.has("vector_rates")) {
    Reader v = r.child("vector_rates");
    for (const std::string& k : kVectorKernels)
      for (const std::string& key : {k, k + "_bwd"})
        if (v.has(key)) d.vector_rates[key] = v.quantity(key, Dim::flop_rate);
    v.finish();
  }
  if (r.has("gemm_shapes")) {
    for (const auto& [node, path] : r.sequence("gemm_shapes")) {
      Reader p(r.tree(), node, path);
      GemmShapeRate g;
      g.m = static_cast<double>(p.integer("m"));
      g.n = static_cast<double>(p.integer("n"));
      g.k = static_cast<double>(p.integer("k"));
      g.trans = p.choice_or("trans", kGemmTrans, GemmTrans::nn);
      g.flop_rate = p.quantity("rate", Dim::flop_rate);
      if (p.has("window")) g.window = static_cast<int>(p.integer("window"));
      p.finish();
      d.gemm_shapes.push_back(g);
    }
  }
  r.finish();
  return d;
}

std::vector<int> read_sparse_layers(Reader& moe, int layers) {
  // Either a list of indices or one of {first: N}, {last: N}, {every: N, offset: K}.
  std::vector<int> out;
  if (moe.is_list("layers")) {
    for (const auto& [node, p] : moe.sequence("layers")) {
      const auto v = static_cast<int>(moe.as_integer(node, p, 0));
      if (v >= layers) {
        moe.fail_at(node, p, "layer index " + std::to_string(v) + " >= layers (" + std::to_string(layers) + ")");
      }
      out.push_back(v);
    }
  } else {
    Reader spec = moe.child("layers");
    if (spec.has("first")) {
      const auto k = spec.integer("first", 1);
      if (k > layers) spec.fail("first", "more sparse layers than layers");
      for (int i = 0; i < k; ++i) out.push_back(i);
    } else if (spec.has("last")) {
      const auto k = spec.integer("last", 1);
      if (k > layers) spec.fail("last", "more sparse layers than layers");
      for (int i = layers - static_cast<int>(k); i < layers; ++i) out.push_back(i);
    } else if (spec.has("every")) {
      const auto every = spec.integer("every", 1);
      const auto offset = spec.integer_or("offset", 0, 0);
      for (long long i = offset; i < layers; i += every) out.push_back(static_cast<int>(i));
    } else {
      spec.fail("first", "expected one of first, last, every (or a list of layer indices)");
    }
    spec.finish();
  }
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) moe.fail("layers", "a layer is listed twice");
  if (out.empty()) moe.fail("layers", "no sparse layer selected");
  return out;
}

Moe read_moe(Reader r, const Model& m) {
  Moe e;
  e.router = r.choice("router", names<Router>());
  e.layers = read_sparse_layers(r, m.layers);
  e.experts = static_cast<int>(r.integer("experts", 1));
  const int default_k = e.router == Router::topk ? 2 : 1;
  e.top_k = static_cast<int>(r.integer_or("top_k", default_k, 1));
  if (e.top_k > e.experts) r.fail("top_k", "top_k exceeds the number of experts");
  if ((e.router == Router::rre || e.router == Router::hash || e.router == Router::switch_) && e.top_k != 1) {
    r.fail("top_k", "router '" + std::string(to_string(e.router)) + "' sends each token to one expert: top_k must be 1");
  }
  e.domains = static_cast<int>(r.integer_or("domains", 1, 1));
  if (e.experts % e.domains != 0) r.fail("domains", "experts (" + std::to_string(e.experts) + ") must be divisible by domains");
  if (r.has("capacity_factor") && r.text("capacity_factor") == "none") {
    e.capacity_factor = 0;  // dropless: every expert computes every token routed to it
  } else {
    e.capacity_factor = r.number_or("capacity_factor", 1.0, 0.01, 1e6);
  }
  e.dispatch = r.choice_or<Dispatch>("dispatch", {{"index", Dispatch::index}, {"einsum", Dispatch::einsum}}, Dispatch::index);
  if (e.dispatch == Dispatch::einsum && !e.learned_gate())
    r.fail("dispatch", "einsum dispatch multiplies by a learned gate's tokens x experts x capacity masks; expected router topk or switch, or dispatch index");
  if (e.dispatch == Dispatch::einsum && e.capacity_factor == 0)
    r.fail("dispatch", "einsum dispatch needs a capacity per expert (its masks are tokens x experts x capacity); expected a capacity_factor, or dispatch index with capacity_factor none");
  e.expert_ffn_hidden = static_cast<int>(r.integer_or("expert_ffn_hidden", m.ffn_hidden, 1));
  if (r.has("shared_experts")) {
    e.shared_experts = static_cast<int>(r.integer("shared_experts", 0));
    e.shared_ffn_hidden = static_cast<int>(r.integer_or("shared_ffn_hidden", e.expert_ffn_hidden, 1));
  }
  if (r.has("load")) {
    Reader l = r.child("load");
    e.load.distribution = l.choice<LoadDistribution>(
        "distribution", {{"uniform", LoadDistribution::uniform}, {"zipf", LoadDistribution::zipf}, {"histogram", LoadDistribution::histogram}});
    if (e.load.distribution == LoadDistribution::zipf) e.load.zipf_s = l.number("zipf_s", 0.0, 10.0);
    if (e.load.distribution == LoadDistribution::histogram) {
      for (const auto& [node, p] : l.sequence("histogram")) e.load.histogram.push_back(l.as_number(node, p, 0.0, 1e300));
      if (static_cast<int>(e.load.histogram.size()) != e.experts) l.fail("histogram", "expected one entry per expert (" + std::to_string(e.experts) + ")");
    }
    l.finish();
  }
  e.seed = static_cast<unsigned long long>(r.integer_or("seed", 0, 0, std::numeric_limits<long long>::max()));
  if (r.has("domain_mix")) {
    for (const auto& [node, p] : r.sequence("domain_mix")) e.domain_mix.push_back(r.as_number(node, p, 0.0, 1e300));
    if (static_cast<int>(e.domain_mix.size()) != e.domains) {
      r.fail("domain_mix", "expected one share per domain (" + std::to_string(e.domains) + ")");
    }
  } else {
    e.domain_mix.assign(e.domains, 1.0);
  }
  double mix = 0;
  for (double x : e.domain_mix) mix += x;
  if (!(mix > 0)) r.fail("domain_mix", "expected shares that are not all zero");
  for (double& x : e.domain_mix) x /= mix;
  e.domain_data = r.choice_or("domain_data", names<DomainData>(), DomainData::grouped);
  if (r.has("activated")) {
    const std::string s = r.text("activated");
    if (s != "counted") {
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (end == s.c_str() || *end != '\0' || !(v > 0 && v <= 1)) {
        r.fail("activated", "expected 'counted' or a fraction of each device's experts in (0, 1], got '" + s + "'");
      }
      e.activated = v;
    }
  }
  if (r.has("token_histogram")) {
    Reader h = r.child("token_histogram");
    e.token_histogram.key_path = h.path();
    e.token_histogram.kind = h.choice<TokenHistogram::Kind>(
        "distribution", {{"uniform", TokenHistogram::Kind::uniform}, {"zipf", TokenHistogram::Kind::zipf}, {"file", TokenHistogram::Kind::file}});
    if (e.token_histogram.kind == TokenHistogram::Kind::zipf) e.token_histogram.zipf_s = h.number("zipf_s", 0.0, 10.0);
    if (e.token_histogram.kind == TokenHistogram::Kind::file && h.has("files")) {
      // one histogram per domain (rre): domain d's tokens follow files[d]
      for (const auto& [node, p] : h.sequence("files")) {
        if (!node.IsScalar()) h.fail_at(node, p, "expected a file name");
        e.token_histogram.files.push_back(h.tree().relative_to_file(h.path() + ".files", node.Scalar()));
      }
      if (static_cast<int>(e.token_histogram.files.size()) != e.domains) {
        h.fail("files", "expected one file per domain (" + std::to_string(e.domains) + ")");
      }
      e.token_histogram.key_path = h.path() + ".files";
    } else if (e.token_histogram.kind == TokenHistogram::Kind::file) {
      const std::string f = h.text("file");
      e.token_histogram.file = h.tree().relative_to_file(h.path() + ".file", f);
      e.token_histogram.key_path = h.path() + ".file";
    }
    h.finish();
  }
  r.finish();
  return e;
}

}  // namespace

Model read_model(Reader r) {
  Model m;
  m.name = r.text("name");
  m.layers = static_cast<int>(r.integer("layers"));
  m.hidden = static_cast<int>(r.integer("hidden"));
  m.heads = static_cast<int>(r.integer("heads"));
  m.ffn_hidden = static_cast<int>(r.integer("ffn_hidden"));
  m.vocab = static_cast<int>(r.integer("vocab"));
  m.seq_len = static_cast<int>(r.integer("seq_len"));
  if (m.hidden % m.heads != 0) r.fail("heads", "hidden (" + std::to_string(m.hidden) + ") must be divisible by heads");
  m.ffn = r.choice_or<FfnKind>("ffn", {{"mlp", FfnKind::mlp}, {"glu", FfnKind::glu}}, FfnKind::mlp);
  m.attention = r.choice_or<Attention>("attention", {{"flash", Attention::flash}, {"fused", Attention::fused}, {"unfused", Attention::unfused}},
                                       Attention::flash);
  m.causal = r.flag_or("causal", true);
  m.kv_heads = static_cast<int>(r.integer_or("kv_heads", m.heads));
  if (m.heads % m.kv_heads != 0) r.fail("kv_heads", "heads (" + std::to_string(m.heads) + ") must be divisible by kv_heads");
  m.learned_positions = r.choice_or<bool>("position_embedding", {{"learned", true}, {"none", false}}, true);
  m.tied_embeddings = r.flag_or("tied_embeddings", true);
  if (r.has("published")) {
    Reader p = r.child("published");
    m.published_params = p.number("params", 1, 1e18);
    m.published_tolerance = p.number_or("tolerance", 0.0, 0.0, 1.0);
    m.published_active_params = p.number_or("active_params", 0.0, 0.0, 1e18);
    p.finish();
  }
  if (r.has("moe")) m.moe = read_moe(r.child("moe"), m);
  r.finish();
  return m;
}

Node read_node(Reader r) {
  Node n;
  n.name = r.text("name");
  n.devices = static_cast<int>(r.integer("devices"));
  n.device = read_device(r.child("device"));
  {
    Reader i = r.child("intra_node");
    n.intra.group_size = static_cast<int>(i.integer("group_size"));
    if (n.devices % n.intra.group_size != 0) i.fail("group_size", "devices per node must be divisible by group_size");
    n.intra.bandwidth = i.quantity("bandwidth", Dim::bandwidth);
    n.intra.latency = i.quantity("latency", Dim::time);
    n.intra.efficiency = i.number_or("efficiency", 1.0, 1e-3, 1.0);
    if (n.intra.group_size < n.devices) {
      n.intra.inter_group_bandwidth = i.quantity("inter_group_bandwidth", Dim::bandwidth);
      n.intra.inter_group_latency = i.quantity("inter_group_latency", Dim::time);
    }
    i.finish();
  }
  {
    Reader h = r.child("host");
    n.host.name = h.text("name");
    n.host.sockets = static_cast<int>(h.integer("sockets"));
    n.host.cores = static_cast<int>(h.integer("cores"));
    n.host.threads = n.host.cores;
    if (h.has("threads")) {
      n.host.threads = static_cast<int>(h.integer("threads"));
      if (n.host.threads < n.host.cores) h.fail("threads", "expected at least as many hardware threads as cores (" + std::to_string(n.host.cores) + ")");
    }
    n.host.flops = h.quantity("flops", Dim::flop_rate);
    n.host.memory = h.quantity("memory", Dim::bytes);
    n.host.memory_bandwidth = h.quantity("memory_bandwidth", Dim::bandwidth);
    if (h.has("optimizer_rate")) n.host.optimizer_rate = h.quantity("optimizer_rate", Dim::param_rate);
    n.host.shares_device_cores = h.flag_or("shares_device_cores", false);
    h.finish();
  }
  {
    Reader l = r.child("host_link");
    n.host_link.bandwidth = l.quantity("bandwidth", Dim::bandwidth);
    n.host_link.latency = l.quantity("latency", Dim::time);
    n.host_link.devices_per_switch = static_cast<int>(l.integer("devices_per_switch"));
    if (n.devices % n.host_link.devices_per_switch != 0) l.fail("devices_per_switch", "devices per node must be divisible by devices_per_switch");
    n.host_link.switch_bandwidth = l.quantity("switch_bandwidth", Dim::bandwidth);
    l.finish();
  }
  {
    Reader c = r.child("nic");
    n.nic.count = static_cast<int>(c.integer("count"));
    n.nic.bandwidth = c.quantity("bandwidth", Dim::bandwidth);
    n.nic.latency = c.quantity("latency", Dim::time);
    n.nic.efficiency = c.number_or("efficiency", 1.0, 1e-3, 1.0);
    c.finish();
  }
  r.finish();
  return n;
}

Network read_network(Reader r) {
  Network net;
  net.topology = r.choice<Topology>("topology", {{"fat_tree", Topology::fat_tree}, {"rail_optimized", Topology::rail_optimized}, {"flat", Topology::flat}});
  net.nodes_per_leaf = static_cast<int>(r.integer_or("nodes_per_leaf", 1, 1));
  net.oversubscription = r.number_or("oversubscription", 1.0, 1.0, 1000.0);
  net.latency = r.quantity("latency", Dim::time);
  r.finish();
  return net;
}

namespace {

Training read_training(Reader r) {
  Training t;
  t.global_batch = r.integer("global_batch", 1, kMaxCount);
  t.micro_batch = static_cast<int>(r.integer("micro_batch"));
  t.precision = r.choice<Precision>("precision", kPrecisions);
  t.optimizer = r.choice_or<Optimizer>("optimizer", {{"adam", Optimizer::adam}, {"adamw", Optimizer::adamw}}, Optimizer::adam);
  if (r.has("fusions")) {
    for (const auto& [node, path] : r.sequence("fusions")) {
      const std::string f = node.IsScalar() ? node.Scalar() : "";
      if (f == "gelu") t.fuse_gelu = true;
      else if (f == "residual") t.fuse_residual = true;
      else if (f == "cross_entropy") t.fuse_cross_entropy = true;
      else r.fail_at(node, path, "unknown fusion '" + f + "'; known: gelu, residual, cross_entropy");
    }
  }
  r.finish();
  return t;
}

const Choices<CollectiveAlgo> kAllReduceAlgos{{"ring", CollectiveAlgo::ring}, {"hierarchical_ring", CollectiveAlgo::hierarchical_ring}, {"tree", CollectiveAlgo::tree}};
const Choices<CollectiveAlgo> kAllToAllAlgos{{"pairwise", CollectiveAlgo::pairwise}, {"hierarchical", CollectiveAlgo::hierarchical_a2a}};

Plan read_plan(Reader r) {
  Plan p;
  p.tp = static_cast<int>(r.integer("tp"));
  p.pp = static_cast<int>(r.integer("pp"));
  p.dp = r.integer("dp", 1, kMaxCount);
  p.ep = static_cast<int>(r.integer_or("ep", 1));
  // whether etp divides tp is the plan's feasibility (workload::infeasibility), as ep's is: a
  // sweep over tp marks those points, it does not stop
  if (r.has("etp")) p.etp = static_cast<int>(r.integer("etp"));
  p.schedule = r.choice_or<Schedule>("schedule", {{"gpipe", Schedule::gpipe}, {"1f1b", Schedule::one_f_one_b}, {"interleaved", Schedule::interleaved}}, Schedule::one_f_one_b);
  p.virtual_stages = static_cast<int>(r.integer_or("virtual_stages", 1));
  if (p.schedule != Schedule::interleaved && p.virtual_stages != 1) r.fail("virtual_stages", "virtual_stages > 1 needs schedule: interleaved");
  p.recompute = r.choice_or<Recompute>("recompute", {{"none", Recompute::none}, {"selective", Recompute::selective}, {"full", Recompute::full}}, Recompute::none);
  p.sequence_parallel = r.flag_or("sequence_parallel", false);
  p.zero = static_cast<int>(r.integer_or("zero", 0, 0));
  if (p.zero > 3) r.fail("zero", "expected a ZeRO stage 0, 1, 2 or 3");
  if (r.has("grad_reduce")) p.grad_reduce = r.choice("grad_reduce", kPrecisions);
  p.placement = r.choice_or("placement", names<Placement>(), Placement::device);
  p.host_overlap = r.choice_or<HostOverlap>("host_overlap", {{"none", HostOverlap::none}, {"layers", HostOverlap::layers}}, HostOverlap::none);
  p.overlap_dp = r.flag_or("overlap_dp", true);
  p.overlap_ep = r.flag_or("overlap_ep", false);
  if (p.overlap_ep && p.schedule == Schedule::gpipe)
    r.fail("overlap_ep", "overlap_ep pairs a forward with a later backward, which GPipe never runs side by side; expected schedule 1f1b or interleaved");
  p.bucket = r.quantity_or("bucket", Dim::bytes, 25e6);
  if (r.has("collectives")) {
    Reader c = r.child("collectives");
    p.tp_algo = c.choice_or("tp", kAllReduceAlgos, CollectiveAlgo::ring);
    p.dp_algo = c.choice_or("dp", kAllReduceAlgos, CollectiveAlgo::hierarchical_ring);
    p.ep_algo = c.choice_or("ep", kAllToAllAlgos, CollectiveAlgo::pairwise);
    c.finish();
  }
  r.finish();
  return p;
}

}  // namespace

Loaded load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  Loaded out{Scenario{}, Tree::load(path)};
  for (const auto& o : overrides) out.tree.set(o);
  out.scenario = read_scenario(Reader(out.tree, out.tree.root(), ""), path);
  return out;
}

Comparison load_comparison(const std::string& path, const std::vector<std::string>& overrides) {
  Comparison c{"", "", {}, Tree::load(path)};
  Reader top(c.tree, c.tree.root(), "");
  if (!top.has("variants") || !c.tree.root()["variants"].IsMap()) {
    top.fail("variants", "expected a mapping of variant name -> scenario file");
  }
  std::vector<std::string> names;
  for (auto it = c.tree.root()["variants"].begin(); it != c.tree.root()["variants"].end(); ++it) {
    names.push_back(it->first.as<std::string>());
  }
  // Every --set applies to every variant.
  for (const auto& o : overrides) {
    for (const auto& n : names) c.tree.set("variants." + n + "." + o);
  }
  c.name = top.text("name");
  Reader variants = top.child("variants");
  for (const auto& n : names) {
    c.variants.emplace_back(n, read_scenario(variants.child(n), path));
  }
  variants.finish();
  c.baseline = top.text("baseline");
  if (std::none_of(names.begin(), names.end(), [&](const std::string& n) { return n == c.baseline; })) {
    top.fail("baseline", "baseline '" + c.baseline + "' is not one of the variants");
  }
  top.finish();
  return c;
}

namespace {

// Fails at `key` when the product of `factors` (name, value; each >= 1) exceeds kMaxCount:
// counts that multiply out (nodes x devices per node) are checked where they meet, so none
// wraps around later.
void check_count(const Reader& r, const std::string& key, const std::string& what,
                 const std::vector<std::pair<std::string, std::int64_t>>& factors) {
  std::int64_t product = 1;
  std::string names, values;
  for (const auto& [name, v] : factors) {
    product = count_product(product, v);
    names += (names.empty() ? "" : " x ") + name;
    values += (values.empty() ? "" : " x ") + std::to_string(v);
  }
  if (product <= kMaxCount) return;
  const std::string total = product == std::numeric_limits<std::int64_t>::max() ? "more than 2^63" : std::to_string(product);
  r.fail(key, "expected at most " + std::to_string(kMaxCount) + " (2^53) " + what + ", found " + names + " = " + values +
                  " = " + total);
}

}  // namespace

Scenario read_scenario(Reader top, const std::string& path) {
  Scenario s;
  s.file = path;
  s.name = top.text("name");
  {
    Reader c = top.child("cluster");
    s.cluster.node = read_node(c.child("node"));
    s.cluster.nodes = c.integer("nodes", 1, kMaxCount);
    check_count(c, "nodes", "devices", {{"nodes", s.cluster.nodes}, {"devices per node", s.cluster.node.devices}});
    s.cluster.network = read_network(c.child("network"));
    c.finish();
  }
  s.model = read_model(top.child("model"));
  {
    Reader t = top.child("training");
    s.training = read_training(t);
    check_count(t, "global_batch", "tokens per step", {{"global_batch", s.training.global_batch}, {"seq_len", s.model.seq_len}});
  }
  {
    Reader p = top.child("plan");
    s.plan = read_plan(p);
    check_count(p, "dp", "devices", {{"tp", s.plan.tp}, {"pp", s.plan.pp}, {"dp", s.plan.dp}});
  }
  top.finish();
  return s;
}

Model load_model(const std::string& path) {
  Tree t = Tree::load(path);
  return read_model(Reader(t, t.root(), ""));
}

Node load_node(const std::string& path) {
  Tree t = Tree::load(path);
  return read_node(Reader(t, t.root(), ""));
}

}  // namespace sparsim::config
