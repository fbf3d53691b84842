#include "sim/des/des_backend.hpp"

#include <simgrid/s4u.hpp>
#include <xbt/log.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/error.hpp"
#include "sim/analytic.hpp"
#include "sim/collectives.hpp"
#include "sim/des/fold.hpp"
#include "sim/des/footprint.hpp"
#include "sim/des/platform.hpp"
#include "sim/graph.hpp"
#include "sim/trace.hpp"
#include "workload/layout.hpp"

namespace sparsim::sim {

namespace sg4 = simgrid::s4u;

namespace {

/// A pipeline message in flight: which p2p vertex, and when the sender posted it.
struct Message {
  Vertex vertex = 0;
  double sent_at = 0;
};

/// Time an actor spent in each category (seconds of simulated time).
struct Account {
  Breakdown b;
  double finish = 0;
};

struct Run {
  const Scenario& sc;
  const StepGraph& sg;
  des::Platform pf;
  int replicas = 1;     ///< data-parallel replicas simulated (des/fold.hpp), the ring closes over them
  Geometry dp;          ///< the data-parallel group's geometry (closed-form alpha terms)
  std::vector<Message> messages;
  std::vector<Account> account;
  std::vector<Vertex> last_backward;  ///< per actor: the op whose progress releases buckets
  std::vector<sg4::Mailbox*> fwd_box, bwd_box, dp_box;  ///< per actor (looked up once)
  /// (stage, first replica, replica stride, size, stream): all-to-all groups and their
  /// hierarchical phases' subgroups, per all-to-all stream (run_segments)
  std::map<std::tuple<int, int, int, int, int>, sg4::BarrierPtr> barriers;
  std::vector<double> a2a_latency;                           ///< per sparse layer: (G-1) alpha

  sg4::BarrierPtr barrier(int stage, int first_replica, int size, int stride, int stream) {
    auto [it, fresh] = barriers.try_emplace({stage, first_replica, stride, size, stream}, nullptr);
    if (fresh) it->second = sg4::Barrier::create(size);
    return it->second;
  }
  Trace* trace = nullptr;

  Run(const Scenario& s, const StepGraph& g) : sc(s), sg(g) {}

  bool traced(int actor) const { return trace != nullptr && actor / sc.plan.pp == 0; }
  /// The node of a traced actor (replica 0) in the full cluster, folded or not.
  int trace_node(int actor) const { return static_cast<int>(des::node_of(sc, actor)); }
  void record(int actor, Lane lane, const std::string& name, const char* cat, double start, double end) {
    if (traced(actor) && end > start) trace->add(trace_node(actor), actor, lane, name, cat, start, end - start);
  }
};

std::string mailbox(const char* kind, int actor) { return std::string(kind) + ">" + std::to_string(actor); }

// The data-parallel all-reduce of one bucket by actor `a`, `bytes` for its t devices.
void all_reduce_bucket(Run& run, int a, double bytes, int bucket) {
  const Plan& p = run.sc.plan;
  const Geometry& g = run.dp;
  const int d = a / p.pp, s = a % p.pp;
  const int R = run.replicas;  // the ring closed over the simulated replicas (des/fold.hpp)
  auto member = [&](int dd) { return ((dd % R + R) % R) * p.pp + s; };
  auto exchange = [&](int to, double flow) {
    int* token = nullptr;
    static int payload = 0;
    auto put = run.dp_box[to]->put_async(&payload, static_cast<uint64_t>(flow));
    auto get = run.dp_box[a]->get_async<int>(&token);
    put->wait();
    get->wait();
  };
  const double start = sg4::Engine::get_clock();
  const double P = g.size;
  const bool hierarchical = p.dp_algo == CollectiveAlgo::hierarchical_ring && g.per_node > 1 && g.nodes() > 1;
  if (hierarchical) {
    const double n = g.per_node, k = g.nodes();
    const double intra = (n - 1) / n * (bytes / p.tp) / g.intra.bandwidth + (n - 1) * g.intra.latency;
    sg4::this_actor::sleep_for(intra);  // reduce-scatter inside the node
    exchange(member(d + g.per_node), 2 * (k - 1) / k * bytes / n);
    sg4::this_actor::sleep_for(2 * (k - 1) * g.inter.latency);
    sg4::this_actor::sleep_for(intra);  // all-gather inside the node
  } else {
    if (p.dp_algo == CollectiveAlgo::tree) {
      exchange(member(d + 1), 2 * bytes);
      sg4::this_actor::sleep_for(2 * std::ceil(std::log2(P)) * slowest_level(g).latency);
    } else if (g.per_node > 1 && g.nodes() > 1) {
      // NCCL's rings cross nodes on every NIC of the node (collectives.hpp ring_level): each rank
      // sends the ring's traffic to its neighbour inside the node and its share of the
      // node-crossing traffic to its counterpart in the next node, at once
      const double flow = 2 * (P - 1) / P * bytes;
      auto out = sg4::Comm::sendto_async(run.pf.actor_host[a], run.pf.actor_host[member(d + g.per_node)],
                                         static_cast<uint64_t>(flow / g.per_node));
      exchange(member(d - d % g.per_node + (d + 1) % g.per_node), flow);
      out->wait();
      sg4::this_actor::sleep_for(2 * (P - 1) * ring_level(g).latency);
    } else {
      exchange(member(d + 1), 2 * (P - 1) / P * bytes);
      sg4::this_actor::sleep_for(2 * (P - 1) * ring_level(g).latency);
    }
  }
  if (run.traced(a)) run.record(a, Lane::dp_link, "grad bucket " + std::to_string(bucket), "dp", start, sg4::Engine::get_clock());
}

// count - 1 pairwise rounds of actor `a` among the ranks that meet at `round_end`: in round k it
// sends `round(k)` = {data-parallel replica, bytes} to that replica's actor of its stage as a
// host-to-host flow, then waits for the others. One flow per actor at a time keeps SimGrid's
// list of pending flows short.
void pairwise_rounds(Run& run, int a, const sg4::BarrierPtr& round_end, int count,
                     const std::function<std::pair<int, double>(int)>& round) {
  const int pp = run.sc.plan.pp, s = a % pp;
  for (int k = 1; k < count; ++k) {
    const auto [to, bytes] = round(k);
    if (bytes >= 1) sg4::Comm::sendto(run.pf.actor_host[a], run.pf.actor_host[to * pp + s], static_cast<uint64_t>(bytes));
    round_end->wait();
  }
}

// The hierarchical all-to-all (workload::SparseLayerTraffic::per_node) of actor `a` as flows:
// dispatch inside the node first, its transpose (combine) between nodes first, each phase in
// pairwise rounds with a barrier of the phase's ranks after each; then its closed-form alphas.
// Rank (n, i) of the group: node n, local index i; a message a -> b is dispatch[a][b] (combine:
// dispatch[b][a]).
void hierarchical_segment(Run& run, int a, const Segment& seg, const workload::SparseLayerTraffic& tr, int stream) {
  const Plan& p = run.sc.plan;
  const int d = a / p.pp, s = a % p.pp, r = d % p.ep, base = d - r;
  const int G = tr.group, first = (r / G) * G, L = tr.per_node, N = G / L;
  const int n = (r - first) / L, i = (r - first) % L;
  auto rank = [&](int node, int local) { return first + node * L + local; };
  auto msg = [&](int from, int to) { return seg.transpose ? tr.dispatch[to][from] : tr.dispatch[from][to]; };
  // Inside the node: to (n, j) what is bound for local index j on every node (dispatch), or what
  // arrived for (n, j) from every node (combine, after the phase between nodes).
  auto intra = [&] {
    pairwise_rounds(run, a, run.barrier(s, base + rank(n, 0), L, 1, stream), L, [&](int k) {
      const int j = (i + k) % L;
      double bytes = 0;
      for (int m = 0; m < N; ++m) bytes += seg.transpose ? msg(rank(m, i), rank(n, j)) : msg(rank(n, i), rank(m, j));
      return std::make_pair(base + rank(n, j), bytes);
    });
  };
  // Between nodes: to (m, i) what node n holds for it (dispatch: gathered from the node's ranks),
  // or what rank (n, i) holds for node m's ranks (combine).
  auto inter = [&] {
    pairwise_rounds(run, a, run.barrier(s, base + rank(0, i), N, L, stream), N, [&](int k) {
      const int m = (n + k) % N;
      double bytes = 0;
      for (int x = 0; x < L; ++x) bytes += seg.transpose ? msg(rank(n, i), rank(m, x)) : msg(rank(n, x), rank(m, i));
      return std::make_pair(base + rank(m, i), bytes);
    });
  };
  if (seg.transpose) {
    inter();
    intra();
  } else {
    intra();
    inter();
  }
  sg4::this_actor::sleep_for(run.a2a_latency[seg.a2a]);
}

// One expert-parallel all-to-all of sparse layer `seg.a2a` by actor `a`, pairwise: in round k
// every rank of the group sends its message to rank r+k (bytes from the routing: uneven;
// combine is the transpose) as a host-to-host flow, and the group meets at a barrier before the
// next round; then the (G-1) alpha of the closed form.
void all_to_all_segment(Run& run, int a, const Segment& seg, int stream) {
  const Plan& p = run.sc.plan;
  const workload::SparseLayerTraffic& tr = run.sg.traffic[run.sg.parts[seg.a2a].traffic];
  const int d = a / p.pp, s = a % p.pp, r = d % p.ep, base = d - r;
  const int group = tr.group, first = (r / group) * group;
  if (p.ep_algo == CollectiveAlgo::hierarchical_a2a && tr.per_node > 1) {
    hierarchical_segment(run, a, seg, tr, stream);
    return;
  }
  pairwise_rounds(run, a, run.barrier(s, base + first, group, 1, stream), group, [&](int k) {
    const int q = first + (r - first + (seg.transpose ? group - k : k)) % group;
    return std::make_pair(base + q, seg.transpose ? tr.dispatch[q][r] : tr.dispatch[r][q]);
  });
  sg4::this_actor::sleep_for(run.a2a_latency[seg.a2a]);
}

// Releases bucket i once (i+1)/n of the last backward has run, one bucket after the other.
void reducer(Run& run, int a, double t0, double window) {
  const Graph& g = run.sg.g;
  std::vector<Vertex> buckets;
  for (Vertex v : run.sg.program[a]) {
    if (g[v].type == OpType::collective && !g[v].closed_form) buckets.push_back(v);
  }
  for (size_t i = 0; i < buckets.size(); ++i) {
    double fraction = 1.0;
    for (auto [e, end] = boost::in_edges(buckets[i], g); e != end; ++e) {
      if (boost::source(*e, g) == run.last_backward[a]) fraction = g[*e].fraction;
    }
    const double ready = t0 + fraction * window;
    if (ready > sg4::Engine::get_clock()) sg4::this_actor::sleep_until(ready);
    all_reduce_bucket(run, a, g[buckets[i]].bytes, static_cast<int>(i));
  }
}

/// Durations of the host path of one actor.
struct HostPath {
  double d2h = 0, host = 0, h2d = 0;
};

// Gradients to the host CPU, Adam on the CPU (this actor's share; the node's actors share the
// CPU), weights back. `first` is the d2h vertex; the host op and the h2d follow it.
HostPath run_host_path(Run& run, int a, Vertex first) {
  const Graph& g = run.sg.g;
  const Scenario& sc = run.sc;
  HostPath out;
  sg4::Host* me = run.pf.actor_host[a];
  sg4::Host* cpu = run.pf.cpu[run.pf.node_of_actor[a]];
  const Vertex host_op = boost::target(*boost::out_edges(first, g).first, g);
  const Vertex h2d = boost::target(*boost::out_edges(host_op, g).first, g);
  auto now = [] { return sg4::Engine::get_clock(); };
  double t0 = now();
  sg4::this_actor::sleep_for(g[first].latency);
  sg4::Comm::sendto(me, cpu, static_cast<uint64_t>(g[first].bytes));
  out.d2h = now() - t0;
  run.record(a, Lane::pcie, g[first].name, "d2h", t0, now());
  t0 = now();
  const double share = g[host_op].seconds / (sc.cluster.node.devices / sc.plan.tp);
  sg4::this_actor::exec_init(share * cpu->get_speed())->set_host(cpu)->wait();
  out.host = now() - t0;
  run.record(a, Lane::host, g[host_op].name, "host_optimizer", t0, now());
  t0 = now();
  sg4::this_actor::sleep_for(g[h2d].latency);
  sg4::Comm::sendto(cpu, me, static_cast<uint64_t>(g[h2d].bytes));
  out.h2d = now() - t0;
  run.record(a, Lane::pcie, g[h2d].name, "h2d", t0, now());
  return out;
}

// The segments of compute op `v` of actor `a`: compute pieces on the actor's host and its
// all-to-alls as flows, on all-to-all stream `stream` (0; 1: a backward beside a forward, whose
// all-to-alls meet at barriers of their own). Returns the seconds spent in all-to-alls.
double run_segments(Run& run, int a, Vertex v, int stream) {
  const StepOp& op = run.sg.g[v];
  const bool traced = run.traced(a);
  double a2a_time = 0;
  SPARSIM_ASSERT(!op.segments.empty(), "des: run_segments of an op without segments");
  for (const Segment& seg : op.segments) {
    const double t0 = sg4::Engine::get_clock();
    if (seg.a2a < 0) {
      sg4::this_actor::execute(seg.seconds * run.pf.device_speed);
      if (traced) run.record(a, Lane::compute, op.name, "compute", t0, sg4::Engine::get_clock());
    } else {
      all_to_all_segment(run, a, seg, stream);
      a2a_time += sg4::Engine::get_clock() - t0;
      if (traced) run.record(a, Lane::ep_link, "all-to-all " + op.name, "ep", t0, sg4::Engine::get_clock());
    }
  }
  return a2a_time;
}

void stage_actor(Run& run, int a) {
  const Graph& g = run.sg.g;
  const StepGraph& sg = run.sg;
  const Scenario& sc = run.sc;
  Account& acc = run.account[a];
  sg4::Mailbox* in_fwd = run.fwd_box[a];
  sg4::Mailbox* in_bwd = run.bwd_box[a];
  // Permanent receiver: messages flow as soon as they are sent (eager pipeline sends).
  in_fwd->set_receiver(sg4::Actor::self());
  in_bwd->set_receiver(sg4::Actor::self());
  const bool traced = run.traced(a);
  sg4::ActorPtr reduce;
  bool reduced = false;
  sg4::ActorPtr host;
  double host_started = 0;
  HostPath host_path;
  auto now = [] { return sg4::Engine::get_clock(); };

  // Inputs of compute op `v` from the previous (next, backward) pipeline stage.
  auto receive = [&](Vertex v) {
    for (auto [e, end] = boost::in_edges(v, g); e != end; ++e) {
      const Vertex u = boost::source(*e, g);
      if (g[u].type != OpType::p2p) continue;
      const double w0 = now();
      auto* msg = (g[u].backward ? in_bwd : in_fwd)->get<Message>();
      SPARSIM_ASSERT(msg->vertex == u, "des: pipeline messages arrived out of order");
      if (now() > w0) {
        sg4::this_actor::sleep_for(g[u].latency);  // the flow just arrived: add its alpha
      } else if (msg->sent_at + g[u].seconds > now()) {
        sg4::this_actor::sleep_until(msg->sent_at + g[u].seconds);  // arrived, latency pending
      }
      const double w1 = now();
      if (run.traced(g[u].actor)) run.record(g[u].actor, Lane::pp_link, g[u].name, "pp", msg->sent_at, w1);
      const double inflight_from = std::max(w0, msg->sent_at);
      acc.b.pipeline_bubble += std::max(0.0, std::min(w1, msg->sent_at) - w0);
      acc.b.pp += std::max(0.0, w1 - inflight_from);
    }
  };
  // Its outputs to the next (previous) stage, sent eagerly.
  auto send = [&](Vertex v) {
    for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
      const Vertex u = boost::target(*e, g);
      if (g[u].type != OpType::p2p) continue;
      run.messages[u] = Message{u, now()};
      sg4::Mailbox* out = (g[u].backward ? run.bwd_box : run.fwd_box)[g[u].peer];
      out->put_init(&run.messages[u], static_cast<uint64_t>(g[u].bytes))->detach();
    }
  };

  const std::vector<Vertex>& program = sg.program[a];
  for (std::size_t at = 0; at < program.size(); ++at) {
    const Vertex v = program[at];
    const StepOp& op = g[v];
    switch (op.type) {
      case OpType::compute: {
        if (op.paired) break;  // ran beside the forward before it
        receive(v);
        const bool pair = at + 1 < program.size() && g[program[at + 1]].paired;
        if (pair) {
          // plan.overlap_ep: this forward and the backward after it, of an earlier micro-batch,
          // side by side: the backward's segments on a second actor of the same host, which
          // shares its speed; the all-to-alls of one run under the compute of the other.
          const Vertex w = program[at + 1];
          SPARSIM_ASSERT(w != run.last_backward[a], "des: the last backward runs alone");
          receive(w);
          const double t0 = now();
          sg4::ActorPtr beside = sg4::Actor::create("pair" + std::to_string(a), sg4::this_actor::get_host(),
                                                    [&run, a, w] { run_segments(run, a, w, 1); });
          run_segments(run, a, v, 0);
          send(v);
          beside->join();
          const double both = now() - t0;
          double compute = 0;
          for (Vertex x : {v, w}) {
            acc.b.compute += g[x].seconds;
            acc.b.tp += g[x].tp_seconds;
            for (const Segment& seg : g[x].segments) compute += seg.a2a < 0 ? seg.seconds : 0.0;
          }
          acc.b.ep += both - compute;  // what the pair takes beyond its compute: all-to-alls not hidden
          for (Vertex x : {v, w}) {
            if (g[x].dp_seconds > 0) sg4::this_actor::sleep_for(g[x].dp_seconds);
            acc.b.dp += g[x].dp_seconds;
          }
          send(w);
          break;
        }
        const double start = now();
        if (v == run.last_backward[a] && sc.plan.dp > 1) {
          const double window = sg.full_duration(v);
          reduce = sg4::Actor::create("reduce" + std::to_string(a), sg4::this_actor::get_host(),
                                      [&run, a, start, window] { reducer(run, a, start, window); });
        }
        if (!op.segments.empty()) {
          // A chunk with sparse layers: compute pieces and all-to-alls as flows.
          const double a2a_time = run_segments(run, a, v, 0);
          if (op.dp_seconds > 0) sg4::this_actor::sleep_for(op.dp_seconds);
          acc.b.compute += op.seconds;
          acc.b.tp += op.tp_seconds;
          acc.b.ep += a2a_time;
          acc.b.dp += op.dp_seconds;
        } else if (traced) {
          SPARSIM_ASSERT(op.ep_seconds == 0, "des: ops with all-to-alls run as segments");
          sg4::this_actor::execute(op.seconds * run.pf.device_speed);
          run.record(a, Lane::compute, op.name, "compute", start, now());
          if (op.tp_seconds > 0) {
            const double t0 = now();
            sg4::this_actor::sleep_for(op.tp_seconds);
            run.record(a, Lane::compute, "tp " + op.name, "tp", t0, now());
          }
          if (op.dp_seconds > 0) sg4::this_actor::sleep_for(op.dp_seconds);
        } else {
          SPARSIM_ASSERT(op.ep_seconds == 0, "des: ops with all-to-alls run as segments");
          // One activity for the op: its TP collectives and ZeRO-3 gathers are closed-form
          // delays on links nothing else uses, so merging them changes no timing.
          sg4::this_actor::execute((op.seconds + op.tp_seconds + op.dp_seconds) * run.pf.device_speed);
        }
        if (op.segments.empty()) {
          acc.b.compute += op.seconds;
          acc.b.tp += op.tp_seconds;
          acc.b.dp += op.dp_seconds;
        }
        send(v);
        break;
      }
      case OpType::collective:
        if (op.closed_form) {
          sg4::this_actor::sleep_for(op.seconds);
          acc.b.dp += op.seconds;
        } else if (!reduced) {
          const double w0 = now();
          reduce->join();
          acc.b.dp += now() - w0;
          reduced = true;
        }
        break;
      case OpType::optimizer: {
        const double t0 = now();
        sg4::this_actor::execute(op.seconds * run.pf.device_speed);
        acc.b.optimizer += op.seconds;
        run.record(a, Lane::compute, op.name, "optimizer", t0, now());
        break;
      }
      case OpType::d2h:
        if (run.sc.cluster.node.host.shares_device_cores) {  // the host is the devices' own cores: in turn
          const auto t = run_host_path(run, a, v);
          acc.b.d2h += t.d2h;
          acc.b.host_optimizer += t.host;
          acc.b.h2d += t.h2d;
          break;
        }
        // The host path (d2h -> host Adam -> h2d) runs beside the device optimizer.
        host_started = now();
        host = sg4::Actor::create("host" + std::to_string(a), sg4::this_actor::get_host(),
                                  [&run, a, v, &host_path] { host_path = run_host_path(run, a, v); });
        break;
      case OpType::h2d:
      case OpType::host_compute:
        break;  // run by the host path actor
      case OpType::p2p:
        SPARSIM_UNREACHABLE("p2p vertices are not in programs");
    }
  }
  if (host && !sg.host_jobs.empty()) {
    // plan.host_overlap layers: the copies and Adam as simulated under the node's contention,
    // overlapped with the last backward and the next forward layer by layer (analytic.hpp).
    const double hidden = now() - host_started;  // the device optimizer ran meanwhile
    host->join();
    const OptimizerPhase::Exposed x =
        OptimizerPhase::expose(host_path.d2h, host_path.host, host_path.h2d, hidden, sg.host_jobs, false);
    acc.b.d2h += x.d2h;
    acc.b.host_optimizer += x.host_optimizer;
    acc.b.h2d += x.h2d;
    acc.finish = host_started + hidden + x.host();
    return;
  }
  if (host) {
    const double hidden = now() - host_started;  // the device optimizer ran meanwhile
    host->join();
    double left = hidden;
    auto take = [&](double t) {
      const double h = std::min(left, t);
      left -= h;
      return t - h;
    };
    acc.b.d2h += take(host_path.d2h);
    acc.b.host_optimizer += take(host_path.host);
    acc.b.h2d += take(host_path.h2d);
  }
  acc.finish = now();
}

}  // namespace

StepResult des_step(const Scenario& sc, const DesOptions& options) {
  StepResult r = analytic_step(sc);  // feasibility, memory, parameter and FLOP counts
  r.backend = "des";
  if (sc.cluster.node.devices % sc.plan.tp != 0) {
    r.feasible = false;
    r.infeasible.push_back("the des backend needs tp to divide the devices per node (tensor parallelism inside a node)");
  }
  if (!r.feasible) return r;
  const des::Fold fold = options.fold ? des::fold_of(sc) : des::unfolded(sc);
  des::require_fits(sc, fold);  // before building anything: a billion-device platform would not fit
  const StepGraph sg = build_step_graph(sc, fold.replicas);
  const workload::Layout l = workload::layout_of(sc);

  xbt_log_control_set("root.thres:critical");
  int argc = 1;
  char name[] = "sparsim";
  char* argv[] = {name, nullptr};
  sg4::Engine engine(&argc, argv);
  Run run(sc, sg);
  run.pf = des::build_platform(engine, sc, fold.replicas);
  run.replicas = static_cast<int>(fold.replicas);
  run.dp = geometry(sc.cluster, l.dp);
  for (const auto& tr : sg.traffic) {
    const Geometry ep = geometry(sc.cluster, workload::Group{tr.group, sc.plan.tp});
    if (sc.plan.ep_algo == CollectiveAlgo::hierarchical_a2a && tr.per_node > 1) {  // hierarchical_all_to_all's alphas
      run.a2a_latency.push_back((ep.per_node - 1) * ep.intra.latency + double(ep.nodes() - 1) * ep.inter.latency);
    } else {
      run.a2a_latency.push_back((ep.size - 1) * slowest_level(ep).latency);
    }
  }
  run.messages.resize(boost::num_vertices(sg.g));
  run.account.resize(sg.actors);
  run.last_backward.resize(sg.actors);
  Trace trace;
  if (!options.trace_path.empty()) run.trace = &trace;
  for (int a = 0; a < sg.actors; ++a) {
    run.fwd_box.push_back(sg4::Mailbox::by_name(mailbox("fwd", a)));
    run.bwd_box.push_back(sg4::Mailbox::by_name(mailbox("bwd", a)));
    run.dp_box.push_back(sg4::Mailbox::by_name(mailbox("dp", a)));
    for (Vertex v : sg.program[a]) {
      if (sg.g[v].type == OpType::compute) run.last_backward[a] = v;
    }
  }
  for (int a = 0; a < sg.actors; ++a) {
    sg4::Actor::create("stage" + std::to_string(a), run.pf.actor_host[a], [&run, a] { stage_actor(run, a); });
  }
  engine.run();

  int critical = 0;
  for (int a = 0; a < sg.actors; ++a) {
    if (run.account[a].finish > run.account[critical].finish) critical = a;
  }
  const Account& acc = run.account[critical];
  r.breakdown = acc.b;
  r.step_time = acc.finish;
  SPARSIM_ASSERT(std::fabs(r.breakdown.total() - r.step_time) <= 1e-6 * r.step_time + 1e-9,
                 "des: the breakdown of the critical actor does not add up to its finish time");
  const double tokens = double(sc.training.global_batch) * sc.model.seq_len;
  r.tokens_per_s = tokens / r.step_time;
  r.tflops_per_device = r.hardware_flops / r.step_time / r.devices / 1e12;
  r.mfu = r.model_flops / r.step_time / (r.devices * peak_flops(sc.cluster.node.device, sc.training.precision));
  if (run.trace != nullptr) {
    for (int a = 0; a < sg.actors; ++a) {
      if (!run.traced(a)) continue;
      const int d = a / sc.plan.pp, s = a % sc.plan.pp;
      const std::int64_t first = des::first_device(sc, a);
      trace.name_actor(run.trace_node(a), a,
                       "devices " + std::to_string(first) + "-" + std::to_string(first + sc.plan.tp - 1) + " (stage " +
                           std::to_string(s) + ", replica " + std::to_string(d) + ")");
    }
    trace.write(options.trace_path, sc.name);
  }
  return r;
}

}  // namespace sparsim::sim
