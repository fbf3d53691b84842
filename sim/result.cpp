#include "sim/result.hpp"

#include <fmt/format.h>

#include <cmath>

namespace sparsim::sim {

workload::Verdict verdict(const StepResult& r) { return workload::verdict_of(r.feasible, r.infeasible, r.memory.fit()); }
namespace {
// A count held in a double (parameters, bytes) as a JSON integer, truncated; one beyond the
// range of an int64 (a model of more than 9.2e18 parameters) stays a number rather than
// wrapping.
nlohmann::json count(double x) {
  if (std::isfinite(x) && std::fabs(x) < 0x1p63) return static_cast<std::int64_t>(x);
  return x;
}
}  // namespace

nlohmann::json to_json(const StepResult& r) {
  using nlohmann::json;
  const auto& b = r.breakdown;
  const auto& m = r.memory;
  const workload::Verdict v = verdict(r);
  json j;
  j["schema"] = "sparsim.result/1";
  j["scenario"] = r.scenario;
  j["backend"] = r.backend;
  j["verdict"] = v.word();
  j["verdict_reason"] = v.reason;
  j["feasible"] = r.feasible;
  j["infeasible"] = r.infeasible;
  j["step_time_s"] = r.step_time;
  j["tokens_per_s"] = r.tokens_per_s;
  j["tflops_per_device"] = r.tflops_per_device;
  j["mfu"] = r.mfu;
  j["params_total"] = count(r.params_total);
  j["params_active_per_token"] = count(r.params_active);
  j["devices"] = r.devices;
  j["micro_batches"] = r.micro_batches;
  j["breakdown_s"] = {{"compute", b.compute},
                      {"exposed_comm", {{"tp", b.tp}, {"pp", b.pp}, {"dp", b.dp}, {"ep", b.ep}}},
                      {"pipeline_bubble", b.pipeline_bubble},
                      {"h2d", b.h2d},
                      {"d2h", b.d2h},
                      {"host_optimizer", b.host_optimizer},
                      {"optimizer", b.optimizer}};
  j["memory"] = {{"device_peak_bytes", count(m.device_peak())},
                 {"device_capacity_bytes", count(m.device_capacity)},
                 {"fits", m.fits()},
                 {"device_breakdown_bytes",
                  {{"params", count(m.params)},
                   {"grads", count(m.grads)},
                   {"optimizer", count(m.optimizer)},
                   {"activations", count(m.activations)},
                   {"buffers", count(m.buffers)}}},
                 {"host_peak_bytes", count(m.host)},
                 {"host_capacity_bytes", count(m.host_capacity)}};
  const StepCounts& k = r.counts;
  j["counts_per_device"] = {{"gemm_flops", k.gemm_flops}, {"expert_gemm_flops", k.expert_gemm_flops},
                            {"h2d_bytes", k.h2d_bytes},   {"d2h_bytes", k.d2h_bytes},
                            {"ep_bytes", k.ep_bytes},     {"dp_bytes", k.dp_bytes},
                            {"tp_bytes", k.tp_bytes}};
  j["warnings"] = r.warnings;
  return j;
}

StepResult from_json(const nlohmann::json& j) {
  StepResult r;
  r.scenario = j.at("scenario").get<std::string>();
  r.backend = j.at("backend").get<std::string>();
  r.feasible = j.at("feasible").get<bool>();
  r.infeasible = j.at("infeasible").get<std::vector<std::string>>();
  r.warnings = j.at("warnings").get<std::vector<std::string>>();
  r.step_time = j.at("step_time_s").get<double>();
  r.tokens_per_s = j.at("tokens_per_s").get<double>();
  r.tflops_per_device = j.at("tflops_per_device").get<double>();
  r.mfu = j.at("mfu").get<double>();
  r.params_total = j.at("params_total").get<double>();
  r.params_active = j.at("params_active_per_token").get<double>();
  r.devices = j.at("devices").get<std::int64_t>();
  r.micro_batches = j.at("micro_batches").get<std::int64_t>();
  const auto& b = j.at("breakdown_s");
  const auto& c = b.at("exposed_comm");
  r.breakdown = Breakdown{b.at("compute").get<double>(),   c.at("tp").get<double>(),
                          c.at("pp").get<double>(),        c.at("dp").get<double>(),
                          c.at("ep").get<double>(),        b.at("pipeline_bubble").get<double>(),
                          b.at("h2d").get<double>(),       b.at("d2h").get<double>(),
                          b.at("host_optimizer").get<double>(), b.at("optimizer").get<double>()};
  const auto& m = j.at("memory");
  const auto& d = m.at("device_breakdown_bytes");
  r.memory.params = d.at("params").get<double>();
  r.memory.grads = d.at("grads").get<double>();
  r.memory.optimizer = d.at("optimizer").get<double>();
  r.memory.activations = d.at("activations").get<double>();
  r.memory.buffers = d.at("buffers").get<double>();
  r.memory.device_capacity = m.at("device_capacity_bytes").get<double>();
  r.memory.host = m.at("host_peak_bytes").get<double>();
  r.memory.host_capacity = m.at("host_capacity_bytes").get<double>();
  if (j.contains("counts_per_device")) {  // results written before the counts have none
    const auto& k = j.at("counts_per_device");
    r.counts = StepCounts{k.at("gemm_flops").get<double>(), k.at("expert_gemm_flops").get<double>(),
                          k.at("h2d_bytes").get<double>(),  k.at("d2h_bytes").get<double>(),
                          k.at("ep_bytes").get<double>(),   k.at("dp_bytes").get<double>(),
                          k.at("tp_bytes").get<double>()};
  }
  return r;
}

namespace {
std::string gib(double bytes) { return fmt::format("{:.1f} GiB", bytes / (1024.0 * 1024 * 1024)); }
std::string pct(double part, double whole) { return whole > 0 ? fmt::format("{:5.1f}%", 100 * part / whole) : "  -  "; }
}  // namespace

std::string to_table(const StepResult& r) {
  std::string o;
  o += fmt::format("scenario   {}  ({} backend, {} devices)\n", r.scenario, r.backend, r.devices);
  o += fmt::format("verdict    {}\n", verdict(r).text());
  if (!r.feasible) {
    for (const auto& w : r.warnings) o += fmt::format("warning    {}\n", w);
    return o;
  }
  const auto& b = r.breakdown;
  const double T = r.step_time;
  o += fmt::format("step time  {:.4f} s   tokens/s {:.0f}   TFLOP/s/device {:.1f}   MFU {:.1f}%\n", T, r.tokens_per_s,
                   r.tflops_per_device, 100 * r.mfu);
  o += fmt::format("params     {:.4g} total, {:.4g} active per token; {} micro-batches per step\n", r.params_total,
                   r.params_active, r.micro_batches);
  o += "breakdown\n";
  auto row = [&](const char* name, double v) { o += fmt::format("  {:<18}{:>12.4f} s  {}\n", name, v, pct(v, T)); };
  row("compute", b.compute);
  row("tp comm", b.tp);
  row("pp comm", b.pp);
  row("dp comm", b.dp);
  row("ep comm", b.ep);
  row("pipeline bubble", b.pipeline_bubble);
  row("h2d copies", b.h2d);
  row("d2h copies", b.d2h);
  row("host optimizer", b.host_optimizer);
  row("optimizer", b.optimizer);
  const auto& m = r.memory;
  o += fmt::format("memory     device {} of {}: params {}, grads {}, optimizer {}, activations {}, buffers {}\n",
                   gib(m.device_peak()), gib(m.device_capacity), gib(m.params), gib(m.grads), gib(m.optimizer),
                   gib(m.activations), gib(m.buffers));
  o += fmt::format("           host {} of {} per node\n", gib(m.host), gib(m.host_capacity));
  for (const auto& w : r.warnings) o += fmt::format("warning    {}\n", w);
  return o;
}

std::string csv_header() {
  return "scenario,backend,verdict,feasible,step_time_s,tokens_per_s,tflops_per_device,mfu,compute_s,tp_s,pp_s,dp_s,ep_s,"
         "bubble_s,h2d_s,d2h_s,host_optimizer_s,optimizer_s,device_peak_bytes,device_capacity_bytes,host_bytes,"
         "host_capacity_bytes,fits\n";
}

std::string to_csv_row(const StepResult& r) {
  const auto& b = r.breakdown;
  const auto& m = r.memory;
  return fmt::format("{},{},{},{},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.0f},{:.0f},{:.0f},{:.0f},{}\n",
                     r.scenario, r.backend, verdict(r).word(), r.feasible, r.step_time, r.tokens_per_s, r.tflops_per_device, r.mfu,
                     b.compute, b.tp, b.pp, b.dp, b.ep, b.pipeline_bubble, b.h2d, b.d2h, b.host_optimizer,
                     b.optimizer, m.device_peak(), m.device_capacity, m.host, m.host_capacity, m.fits());
}

}  // namespace sparsim::sim
