// The typed, immutable configuration of one simulation. Built once by the loader
// (config/loader.hpp); domain code takes `const Scenario&`. All quantities are SI doubles:
// seconds, bytes, FLOP, bytes/s, FLOP/s.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/enums.hpp"

namespace sparsim {

/// The most devices, sequences per step or tokens per step a scenario may have: 2^53 =
/// 9,007,199,254,740,992, the last integer up to which a double holds every integer, so a count
/// is exact in the SI doubles of every formula and its products with int-sized factors cannot
/// overflow an int64. The loader rejects more (cluster.nodes x node devices, tp x pp x dp,
/// training.global_batch x model.seq_len).
inline constexpr std::int64_t kMaxCount = std::int64_t{1} << 53;

/// a x b for counts a, b >= 0, or the largest int64 when the product overflows it (a saturated
/// product compares greater than every count).
inline std::int64_t count_product(std::int64_t a, std::int64_t b) {
  std::int64_t p = 0;
  return __builtin_mul_overflow(a, b, &p) ? std::numeric_limits<std::int64_t>::max() : p;
}

enum class Precision { fp16, bf16, fp32 };

/// Achieved fraction of peak FLOP/s as a function of the FLOP count of one GEMM.
struct EfficiencyPoint {
  double flops = 0;       ///< FLOP of one GEMM
  double efficiency = 0;  ///< fraction of peak in (0, 1]
};

/// A GEMM C = op(A) op(B) of m x k times k x n, row-major; op = transpose where ta / tb.
enum class GemmTrans { nn, nt, tn };

/// A measured GEMM rate for one shape (device.gemm_shapes, written by calibrate --cpu).
struct GemmShapeRate {
  double m = 0, n = 0, k = 0;
  GemmTrans trans = GemmTrans::nn;
  double flop_rate = 0;  ///< FLOP/s
  /// > 1: the rate over `window` consecutive token counts centred on this one (m; k for tn),
  /// for GEMMs whose token count varies (GemmCall::varies). A CPU BLAS is fast at multiples of
  /// its register tile and slow between them, so one count is a poor guide to a varying one.
  int window = 1;
};

/// The element-wise kernels a device may give measured rates for (device.vector_rates), each
/// also as "<kernel>_bwd" for its backward.
inline const std::vector<std::string> kVectorKernels = {"layernorm", "gelu", "silu_glu", "softmax", "cross_entropy", "add"};

struct Device {
  std::string name;
  std::map<Precision, double> peak_flops;  ///< FLOP/s per precision
  double memory = 0;                       ///< bytes
  double memory_bandwidth = 0;             ///< bytes/s
  std::vector<EfficiencyPoint> gemm_efficiency;  ///< sorted by flops, non-empty
  /// Optional ceilings (0 = not given). vector_flops: FLOP/s of element-wise (non-matrix) math,
  /// which bounds layer norm, GELU, softmax beside memory_bandwidth. optimizer_rate: AdamW
  /// parameters per second, bounding the device optimizer beside memory_bandwidth. Without
  /// them those ops are memory-bound, as on GPUs; a CPU device needs them (calibrate --cpu).
  double vector_flops = 0;
  double optimizer_rate = 0;
  /// Optional measured rates by GEMM shape (a CPU's small GEMMs depend on their shape, not only
  /// on their FLOPs). A GEMM whose shape matches two dimensions and the transposition of some
  /// rows is timed from them, interpolated in the log of the third; others use the efficiency.
  std::vector<GemmShapeRate> gemm_shapes;
  /// Optional measured FLOP/s of single element-wise kernels (vflop convention), keyed as
  /// kVectorKernels ("layernorm", "gelu_bwd", ...); a kernel not listed is bounded by
  /// vector_flops. A CPU's layer norm (row reductions) runs at a third of its GELU's rate.
  std::map<std::string, double> vector_rates;

  // GEMMs by shape (an accelerator): tile and wave quantisation over the compute units, each
  // output tile's main loop at `gemm_plateau` of the unit's share of peak, its epilogue writing
  // the tile at the unit's share of the achievable memory bandwidth (sim::gemm_time).
  int compute_units = 0;  ///< SMs / AI cores; 0 = no tile model (gemm_efficiency by FLOPs)
  std::vector<std::pair<int, int>> gemm_tiles;  ///< output tiles (rows x columns) the library picks among
  double gemm_plateau = 0;       ///< fraction of a unit's peak its GEMM main loop sustains
  /// Fraction of peak the matrix work inside a fused (flash) attention kernel sustains; 0 = the
  /// GEMM plateau. A property of the attention kernel as much as of the device.
  double attention_plateau = 0;
  /// The same for the attention kernel's backward (FlashAttention's backward holds five operand
  /// blocks per tile and runs below its forward); 0 = attention_plateau.
  double attention_backward_plateau = 0;
  /// Bytes of device memory a training process holds beside its tensors (CUDA context, kernels,
  /// communication buffers), and the allocator's fragmentation as a fraction of the tensors'.
  double memory_reserved = 0, fragmentation = 0;
  /// Achieved fraction of memory_bandwidth for the framework's streaming (element-wise) kernels:
  /// layer norms, activations, residual adds, the loss (a GEMM's epilogue streams at the full rate).
  double memory_efficiency = 1;
  /// Seconds per kernel launch: a framework issues kernels no faster than this (a kernel takes
  /// at least this long on the device's timeline).
  double kernel_overhead = 0;
  /// exp (MUFU.EX2) results per second of the whole device: the softmax inside fused attention
  /// (0 = count exps with the non-matrix FP32 work).
  double exp_rate = 0;
};

struct IntraNode {
  int group_size = 0;              ///< devices fully connected by the fast fabric
  double bandwidth = 0;            ///< bytes/s per device per direction inside a group
  double latency = 0;              ///< s
  double inter_group_bandwidth = 0;  ///< bytes/s per device between groups (0 if one group)
  double inter_group_latency = 0;    ///< s
  /// Achievable fraction of the links' bandwidth for collectives and transfers (NCCL bus bandwidth
  /// over the link rate): every transfer over them runs at bandwidth x efficiency.
  double efficiency = 1;
};

struct Host {
  std::string name;
  int sockets = 0;
  int cores = 0;                 ///< physical cores in the node
  int threads = 0;               ///< hardware threads in the node (the loader sets cores when not given)
  double flops = 0;              ///< FLOP/s, all cores together (fp32 peak)
  double memory = 0;             ///< bytes of DRAM
  double memory_bandwidth = 0;   ///< bytes/s
  double optimizer_rate = 0;     ///< AdamW params/s on all cores (0 = not given: DRAM- or FLOP-bound)
  /// The devices are this CPU's own cores (calibrate --cpu): host work (copies, the host
  /// optimizer) runs on them too, after the device optimizer instead of beside it.
  bool shares_device_cores = false;
};

struct HostLink {
  double bandwidth = 0;          ///< bytes/s per device per direction
  double latency = 0;            ///< s
  int devices_per_switch = 0;    ///< devices sharing one PCIe switch uplink
  double switch_bandwidth = 0;   ///< bytes/s per direction of one switch uplink
};

struct Nic {
  int count = 0;          ///< NICs per node
  double bandwidth = 0;   ///< bytes/s per NIC per direction
  double latency = 0;     ///< s
  double efficiency = 1;  ///< achievable fraction of `bandwidth` (as IntraNode::efficiency)
};

struct Node {
  std::string name;
  int devices = 0;  ///< accelerators per node
  Device device;
  IntraNode intra;
  Host host;
  HostLink host_link;
  Nic nic;
};

enum class Topology { fat_tree, rail_optimized, flat };

struct Network {
  Topology topology = Topology::fat_tree;
  int nodes_per_leaf = 0;
  double oversubscription = 1.0;  ///< leaf downlink:uplink ratio, >= 1
  double latency = 0;             ///< s per switch hop
};

struct Cluster {
  Node node;
  std::int64_t nodes = 0;  ///< at most kMaxCount / node.devices (the loader checks)
  Network network;
  std::int64_t devices() const { return nodes * node.devices; }
};

enum class FfnKind { mlp, glu };
enum class Attention { flash, fused, unfused };
enum class LoadDistribution { uniform, zipf, histogram };
/// How a learned gate's tokens reach their experts' buffers: `index` (a gather into expert order
/// and a scatter back: Megatron-Core, Tutel, MegaBlocks; not costed beyond the all-to-all) or
/// `einsum` (GShard's dense one-hot dispatch, as DeepSpeed-MoE and fairseq ran it in 2021: two
/// matrix products against the tokens x experts x capacity masks per pass, 2 c k S^2 h FLOP each
/// for S tokens).
enum class Dispatch { index, einsum };

struct ExpertLoad {
  LoadDistribution distribution = LoadDistribution::uniform;
  double zipf_s = 0;                ///< Zipf exponent (zipf)
  std::vector<double> histogram;    ///< relative tokens per expert (histogram)
};

/// Token-ID frequencies of the corpus (RRE and hash routing send a token by its ID).
struct TokenHistogram {
  enum class Kind { uniform, zipf, file } kind = Kind::uniform;
  double zipf_s = 0;         ///< zipf: frequency of rank r ~ 1/(r+1)^s
  std::string file;          ///< file: one count per token ID, or "id count" lines (resolved path)
  std::vector<std::string> files;  ///< file, per domain (rre): files[d] for domain d (resolved paths)
  std::string key_path;      ///< where it was configured, for errors while reading the file
};

struct Moe {
  Router router = Router::topk;
  std::vector<int> layers;     ///< indices of sparse layers, sorted, in [0, L)
  int experts = 0;             ///< E per sparse layer
  int top_k = 1;               ///< k
  int domains = 1;             ///< RRE level-1 groups
  double capacity_factor = 1.0;  ///< learned gates: c; 0 = dropless (`capacity_factor: none`)
  Dispatch dispatch = Dispatch::index;  ///< learned gates with a capacity
  int expert_ffn_hidden = 0;
  /// Experts every token passes through in each sparse layer beside its routed ones (DeepSeek-MoE,
  /// Qwen-MoE): one FFN of shared_experts x shared_ffn_hidden, replicated like the dense part.
  int shared_experts = 0;
  int shared_ffn_hidden = 0;
  ExpertLoad load;
  unsigned long long seed = 0;      ///< routing tables, Zipf permutation
  std::vector<double> domain_mix;   ///< share of the batch per domain (rre), sums to 1
  DomainData domain_data = DomainData::grouped;  ///< rre: which samples a rank holds
  TokenHistogram token_histogram;   ///< rre / hash
  /// The fraction of a device's experts a step activates: 0 = counted from the routing model
  /// (an expert is activated when it receives >= 1 token in the step); a number in (0, 1] is an
  /// ASSUMED fraction that replaces the count (sensitivity studies: `--vary model.moe.activated=`).
  double activated = 0;
  /// A learned gate (topk, switch): gate weights, gate compute, a capacity; RRE and hash route by
  /// token ID.
  bool learned_gate() const { return router == Router::topk || router == Router::switch_; }
};

struct Model {
  std::string name;
  int layers = 0;       ///< L
  int hidden = 0;       ///< h
  int heads = 0;        ///< a
  int ffn_hidden = 0;   ///< f
  int vocab = 0;        ///< V
  int seq_len = 0;      ///< s
  FfnKind ffn = FfnKind::mlp;
  /// How attention runs: flash (one fused kernel, no s x s tensor in HBM, scores recomputed in
  /// the backward), fused (a fused scale-mask-softmax: the s x s probabilities through HBM once
  /// each way), unfused (softmax and dropout as separate kernels, s x s tensors kept).
  Attention attention = Attention::flash;
  bool causal = true;   ///< a causal mask: flash attention skips the blocks above the diagonal
  int kv_heads = 0;     ///< K/V heads (GQA / MQA); the loader sets heads when not given
  bool learned_positions = true;
  bool tied_embeddings = true;
  std::optional<Moe> moe;
  double published_params = 0;        ///< 0 = not given
  double published_tolerance = 0;     ///< relative
  double published_active_params = 0; ///< 0 = not given
  bool is_sparse_layer(int layer) const;
};

enum class Optimizer { adam, adamw };

struct Training {
  std::int64_t global_batch = 0;  ///< sequences per optimizer step (x seq_len <= kMaxCount)
  int micro_batch = 0;   ///< sequences per micro-batch (b)
  Precision precision = Precision::bf16;
  Optimizer optimizer = Optimizer::adam;
  /// Kernel fusions the framework does beyond the baseline (biases in the GEMM epilogues, one
  /// kernel per layer norm): the GeLU into the up projection's epilogue (and its derivative into
  /// the backward GEMM's), the residual add into the projection GEMMs' epilogues.
  bool fuse_gelu = false, fuse_residual = false;
  /// A fused cross-entropy (flash-attn's, Megatron's vocab-parallel one): the loss and its
  /// gradient computed from the 16-bit logits in one kernel, the gradient written over them, no
  /// fp32 log-softmax kept.
  bool fuse_cross_entropy = false;
};

enum class Schedule { gpipe, one_f_one_b, interleaved };
/// When the host path of offload / ecss (gradients d2h, Adam on the host, weights h2d) runs:
/// `none`: after the step's backward, all of it (MindSpore's optimizer heterogeneity, ZeRO-Offload
/// without its delayed update); `layers`: layer by layer, each layer's as its gradients come out
/// of the last backward, its weights back before the next step's forward reaches it (a layer's
/// experts fetched ahead: ecss needs the routing before the step, RRE and hash routing).
enum class HostOverlap { none, layers };
enum class Recompute { none, selective, full };
enum class CollectiveAlgo { ring, hierarchical_ring, tree, pairwise, hierarchical_a2a, p2p };

struct Plan {
  int tp = 1, pp = 1;
  std::int64_t dp = 1;  ///< grows with the cluster: tp x pp x dp <= kMaxCount (the loader checks)
  int ep = 1;
  /// Expert tensor parallelism: each expert split over etp devices (0: over all tp, Megatron's
  /// default). An expert-parallel rank's tp devices then hold tp / etp sub-groups of its experts,
  /// whole experts each, every expert split over the etp devices of its sub-group (Megatron-Core's
  /// MoE parallel folding inside the tensor-parallel group). etp divides tp.
  int etp = 0;
  int expert_tp() const { return etp > 0 ? etp : tp; }
  Schedule schedule = Schedule::one_f_one_b;
  int virtual_stages = 1;
  Recompute recompute = Recompute::none;
  bool sequence_parallel = false;
  int zero = 0;
  /// Precision of the data-parallel gradient reduction (FSDP mixed precision: DEFAULT reduces in
  /// fp32, PURE in the training precision); unset = the training precision.
  std::optional<Precision> grad_reduce;
  Placement placement = Placement::device;
  HostOverlap host_overlap = HostOverlap::none;
  bool overlap_dp = true;
  /// Expert-parallel all-to-alls overlapped with compute: in the steady state each forward runs
  /// beside the backward of an earlier micro-batch, one's all-to-alls under the other's compute
  /// (Megatron-Core's overlapped 1F1B, DeepSeek-V3's DualPipe pairs). One more micro-batch warms
  /// up on every stage (its activations count). 1f1b and interleaved schedules only.
  bool overlap_ep = false;
  double bucket = 25e6;  ///< bytes per gradient bucket
  CollectiveAlgo tp_algo = CollectiveAlgo::ring;
  CollectiveAlgo dp_algo = CollectiveAlgo::hierarchical_ring;
  CollectiveAlgo ep_algo = CollectiveAlgo::pairwise;
};

struct Scenario {
  std::string name;
  std::string file;  ///< path the scenario was loaded from
  Cluster cluster;
  Model model;
  Training training;
  Plan plan;
};

// Names, for output and for error messages listing what exists (STYLE.md #8); Router, Placement
// and DomainData: config/enums.hpp.
const char* to_string(Precision);
const char* to_string(Topology);
const char* to_string(Schedule);
const char* to_string(Recompute);
const char* to_string(CollectiveAlgo);
const char* to_string(GemmTrans);

}  // namespace sparsim
