#include "workload/layout.hpp"

#include <string>

namespace sparsim::workload {

namespace {
std::string num(long long v) { return std::to_string(v); }
}  // namespace

Layout layout_of(const Scenario& sc) {
  const Plan& p = sc.plan;
  Layout l;
  l.tp = Group{p.tp, 1};
  l.dp = Group{p.dp, p.tp};
  l.ep = Group{p.ep, p.tp};
  l.pp = Group{p.pp, p.tp * p.dp};  // tp x dp <= tp x pp x dp <= kMaxCount (loader)
  // micro_batch x dp may exceed any count (then there is no micro-batch at all: infeasible)
  const std::int64_t per_step = count_product(sc.training.micro_batch, p.dp);
  l.micro_batches = sc.training.global_batch / per_step;
  l.layers_per_stage = static_cast<int>(sc.model.layers / (std::int64_t{p.pp} * p.virtual_stages));
  return l;
}

std::vector<std::string> infeasibility(const Scenario& sc) {
  const Plan& p = sc.plan;
  const Model& m = sc.model;
  std::vector<std::string> why;
  const std::int64_t devices = sc.cluster.devices();
  const std::int64_t plan_devices = std::int64_t{p.tp} * p.pp * p.dp;  // <= kMaxCount (loader)
  if (plan_devices != devices) {
    why.push_back("tp*pp*dp = " + num(p.tp) + "*" + num(p.pp) + "*" + num(p.dp) + " = " + num(plan_devices) +
                  " != devices " + num(devices) +
                  " (" + num(sc.cluster.nodes) + " nodes x " + num(sc.cluster.node.devices) + ")");
  }
  if (m.heads % p.tp != 0) why.push_back("tp " + num(p.tp) + " does not divide heads " + num(m.heads));
  if (m.ffn_hidden % p.tp != 0) why.push_back("tp " + num(p.tp) + " does not divide ffn_hidden " + num(m.ffn_hidden));
  const std::int64_t chunks = std::int64_t{p.pp} * p.virtual_stages;
  if (m.layers % chunks != 0) {
    why.push_back("pp*virtual_stages = " + num(chunks) + " does not divide layers " + num(m.layers));
  }
  const std::int64_t per_step = count_product(sc.training.micro_batch, p.dp);
  if (sc.training.global_batch % per_step != 0) {
    const std::string product = per_step > kMaxCount ? num(sc.training.micro_batch) + "*" + num(p.dp) + " (more than 2^53)"
                                                     : num(per_step);
    why.push_back("micro_batch*dp = " + product + " does not divide global_batch " + num(sc.training.global_batch));
  }
  if (p.schedule == Schedule::interleaved && p.pp > 1) {
    const std::int64_t mb = sc.training.global_batch / per_step;
    if (mb % p.pp != 0) why.push_back("interleaved schedule needs micro-batches (" + num(mb) + ") divisible by pp " + num(p.pp));
  }
  // The device must state a peak for the training precision (bf16 and fp16 stand in for each
  // other: the same tensor-core rate on every device in the library).
  const auto& peaks = sc.cluster.node.device.peak_flops;
  const Precision prec = sc.training.precision;
  const bool has_peak = peaks.count(prec) > 0 || (prec == Precision::bf16 && peaks.count(Precision::fp16) > 0) ||
                        (prec == Precision::fp16 && peaks.count(Precision::bf16) > 0);
  if (!has_peak) {
    why.push_back(std::string("device ") + sc.cluster.node.device.name + " has no peak_flops for training precision " +
                  to_string(prec));
  }
  if (m.moe) {
    if (p.dp % p.ep != 0) why.push_back("ep " + num(p.ep) + " does not divide dp " + num(p.dp));
    if (m.moe->experts % p.ep != 0) why.push_back("ep " + num(p.ep) + " does not divide experts " + num(m.moe->experts));
    const int groups = p.tp % p.expert_tp() == 0 ? p.tp / p.expert_tp() : 0;
    if (groups == 0) {
      why.push_back("etp " + num(p.expert_tp()) + " does not divide tp " + num(p.tp));
    } else if (m.moe->experts % p.ep == 0 && (m.moe->experts / p.ep) % groups != 0) {
      why.push_back("etp " + num(p.expert_tp()) + ": the " + num(m.moe->experts / p.ep) + " experts of an expert-parallel rank do not split into tp / etp = " +
                    num(groups) + " sub-groups");
    }
    const bool learned = m.moe->learned_gate();
    if (p.host_overlap == HostOverlap::layers && p.placement == Placement::ecss && learned) {
      why.push_back("host_overlap layers with placement ecss needs routing known before the step (router rre or hash): a learned "
                    "gate picks a layer's experts only when it runs, so ecss cannot fetch them ahead");
    }
  } else {
    if (p.ep != 1) why.push_back("ep " + num(p.ep) + " > 1 needs a sparse model (model.moe)");
    if (p.etp > 0 && p.etp != p.tp) why.push_back("etp " + num(p.etp) + " needs a sparse model (model.moe)");
    if (p.placement == Placement::ecss) why.push_back("placement ecss needs a sparse model (model.moe)");
  }
  if (p.host_overlap == HostOverlap::layers && p.placement == Placement::device) {
    why.push_back("host_overlap layers needs a host path (placement offload or ecss)");
  }
  return why;
}

bool overlaps_ep(const Scenario& sc) { return sc.plan.overlap_ep && sc.model.moe && !sc.model.moe->layers.empty(); }

std::vector<std::string> plan_warnings(const Scenario& sc, const Layout& l) {
  std::vector<std::string> w;
  if (sc.plan.tp > sc.cluster.node.devices) {
    w.push_back("tp " + num(sc.plan.tp) + " spans nodes: tensor-parallel collectives cross the network");
  }
  if (sc.cluster.network.oversubscription > 1.0) {
    w.push_back("the analytic backend ignores fabric oversubscription (" +
                std::to_string(sc.cluster.network.oversubscription) + ":1); use --backend des for contention");
  }
  if (sc.plan.host_overlap == HostOverlap::layers && sc.cluster.node.host.shares_device_cores) {
    w.push_back("host_overlap layers: the host is the devices' own cores (host.shares_device_cores), so the host path runs after "
                "their compute, not beside it");
  }
  if (sc.plan.overlap_ep && !sc.model.moe) w.push_back("overlap_ep: a dense model has no all-to-all to overlap; ignored");
  if (sc.plan.overlap_ep && sc.model.moe && sc.plan.ep == 1)
    w.push_back("overlap_ep: ep 1 has no all-to-all to overlap; it only warms up one more micro-batch");
  if (sc.plan.pp > 1 && l.micro_batches < sc.plan.pp) {
    w.push_back("fewer micro-batches (" + num(l.micro_batches) + ") than pipeline stages (" + num(sc.plan.pp) + "): large bubble");
  }
  return w;
}

}  // namespace sparsim::workload
