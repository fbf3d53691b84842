// mpi_probe: times MPI_Allreduce, MPI_Alltoall and MPI_Alltoallv among the ranks of one machine,
// each checked for correct results first. They are called as the trainer calls them: nonblocking,
// then mpi_wait.hpp's wait, which sleeps instead of polling; the all-reduce in place, on a buffer
// a backward-like run of GEMMs has just written (backward_writing).
// Run by `sparsim calibrate` as
//   mpirun --oversubscribe <placement> --allow-run-as-root -np P mpi_probe [--quick]
// with the placement of the trainer runs it predicts (calibrate_cpu.hpp's mpirun_placement).
// Rank 0 prints one line per (collective, size) on stdout:
//   <collective> <bytes> <min_s> <median_s> <max_s> <reps>
// where bytes is the per-rank buffer S (all-reduce: the vector reduced; all-to-all(v): all the
// data a rank sends, (p-1)/p of it to other ranks) and a time is the slowest rank's, per call.
// With more ranks than hardware threads it also prints how well they share the cores:
//   share <hardware_threads> <chunk_alone_s> <iteration_s> <iterations> <all_to_all_s> <block>
// (see measure_sharing; --share-block N: floats per peer of its all-to-all, default 256).
// Exit 0 ok, 1 a collective returned wrong data, 2 bad arguments.
#include <malloc.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

#include <cblas.h>

#include "blas_kernels.hpp"
#include "mpi_wait.hpp"

namespace {

struct Stats {
  double min, median, max;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return {v.front(), n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v.back()};
}

// Times `reps` calls of f after 2 warm-up calls; each sample is the slowest rank's time.
// `prepare` runs before each call, untimed.
template <class F, class P>
Stats time_collective(F&& f, int reps, P&& prepare) {
  for (int i = 0; i < 2; ++i) prepare(), f();
  std::vector<double> s;
  for (int i = 0; i < reps; ++i) {
    prepare();
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    f();
    double dt = MPI_Wtime() - t0, worst = 0;
    MPI_Allreduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    s.push_back(worst);
  }
  return stats(s);
}

template <class F>
Stats time_collective(F&& f, int reps) {
  return time_collective(f, reps, [] {});
}

bool all_ok(bool ok) {
  int mine = ok ? 1 : 0, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all == 1;
}

// A compute-bound chunk as the trainer's: `n` single-thread OpenBLAS GEMMs of 256 x 256 x 256
// (its layers' size). A chain of dependent FMAs in registers used to stand for it, but ranks
// sharing cores do not share it as they share GEMMs: 4 ranks on 2 cores ran 40 ms chains at
// 1.43 times the throughput of one alone (GEMMs: 0.92-0.96, measured 2026-11-23).
float compute_chunk(long n) {
  constexpr int d = 256;
  static const std::vector<float> a(d * d, 1.0f), b(d * d, 0.5f);
  static std::vector<float> c(d * d);
  for (long r = 0; r < n; ++r)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0f, a.data(), d, b.data(), d, 0.0f, c.data(), d);
  return c[static_cast<std::size_t>(n % (d * d))];
}

// Ranks beyond the hardware threads time-share them. A rank's fair share is threads / ranks of
// a core, but a bulk-synchronous program (compute, then a collective every rank waits for, as
// the trainer's layers) gets less: a rank that arrives early polls the collective on a core its
// peers need, and the last to arrive runs while the others are descheduled. Each rank
// alternates a fixed compute chunk (about `chunk_s` alone, the length of a layer's phase between
// two all-to-alls) with a small all-to-all. Prints the chunk's time alone (rank 0 computing, the
// others asleep), the all-to-all alone (all ranks in it, nothing else running) and the time per
// iteration of all ranks together (the pair of the block of median efficiency, below). The simulator charges the all-to-all apart, so
// the efficiency of the share is chunk alone x ranks / threads / (iteration - all-to-all alone).
// The all-to-all's block is the model's dispatch when calibrate knows it: moving more data
// takes CPU from the ranks still computing.
void measure_sharing(int rank, int p, int threads, double chunk_s, int iterations, int block) {
  // Rank 0 sizes the chunk while the other ranks sleep outside MPI (a rank polling a collective
  // would take a core from it).
  float sink = 0;
  long n = 1;
  double alone = 1e30;
  // rank 0's best time over `reps` chunks
  auto best_alone = [&](int reps) {
    double best = 1e30;
    for (int i = 0; i < reps; ++i) {
      const double t0 = MPI_Wtime();
      sink += compute_chunk(n);
      best = std::min(best, MPI_Wtime() - t0);
    }
    return best;
  };
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    sink += compute_chunk(2);  // first touch of the matrices and OpenBLAS's buffers
    for (;;) {
      const double t0 = MPI_Wtime();
      sink += compute_chunk(n);
      const double dt = MPI_Wtime() - t0;
      if (dt > chunk_s / 4) {
        n = std::max(1L, std::lround(static_cast<double>(n) * chunk_s / dt));
        break;
      }
      n *= 2;
    }
    alone = best_alone(3);
  } else {
    std::this_thread::sleep_for(std::chrono::duration<double>(20 * chunk_s + 0.05));
  }
  MPI_Bcast(&n, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  MPI_Bcast(&alone, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  const auto up = static_cast<std::size_t>(p);
  std::vector<float> sa(static_cast<std::size_t>(block) * up, 1.0f), ra(sa.size());
  auto all_to_all = [&] {
    MPI_Request r;
    MPI_Ialltoall(sa.data(), block, MPI_FLOAT, ra.data(), block, MPI_FLOAT, MPI_COMM_WORLD, &r);
    sparsim::mpi::wait_politely(r);
  };
  const double coll = time_collective(all_to_all, 10).min;
  auto iteration = [&] {
    sink += compute_chunk(n);
    all_to_all();
  };
  for (int i = 0; i < 3; ++i) iteration();
  // Blocks of a few chunks alone (rank 0; the others asleep outside MPI) right before a block of
  // iterations of all ranks, and the block of median efficiency. This machine's speed drifts by
  // 10-25% over seconds (a VM's neighbours): timed a second apart, the chunk alone and the
  // iterations gave efficiencies of 0.58-0.95 in six runs of one minute (2026-12-02); paired in
  // time, a drift slows both. A burst of other load lands in one block (it once gave 0.51).
  constexpr int blocks = 7, alone_reps = 3;
  const int per_block = std::max(1, iterations / blocks);
  std::vector<double> alone_s, block_s, eff;
  for (int k = 0; k < blocks; ++k) {
    MPI_Barrier(MPI_COMM_WORLD);
    double a = 1e30;
    if (rank == 0) {
      a = best_alone(alone_reps);
    } else {
      // asleep past rank 0's chunks (their time alone, with margin), then at the barrier
      std::this_thread::sleep_for(std::chrono::duration<double>(1.5 * alone_reps * alone + 0.002));
    }
    MPI_Bcast(&a, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    for (int i = 0; i < per_block; ++i) iteration();
    const double per = (MPI_Wtime() - t0) / per_block;
    alone_s.push_back(a), block_s.push_back(per);
    eff.push_back(a * p / threads / std::max(per - coll, 1e-12));
  }
  std::vector<std::size_t> order(eff.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return eff[x] < eff[y]; });
  const std::size_t mid = order[order.size() / 2];
  if (rank == 0)
    std::printf("share %d %.9e %.9e %d %.9e %d\n", threads, alone_s[mid], block_s[mid], blocks * per_block, coll, block);
  if (sink == 12345.0f) std::printf(" ");  // keeps the chunks' results alive
}

// What precedes the trainer's gradient all-reduce: a backward pass, GEMMs through a layer
// stack's activations that write the gradient buffer a slice at a time. kBackwardGemms GEMMs of
// 256 x 256 x 256, each reading one activation and writing the next (a distinct 256 KiB each,
// as layers' are), with `src` copied into `dst` in as many slices between them.
constexpr int kBackwardGemms = 16;  // about 5 ms of one core; 10 and 80 slowed the call alike

void backward_writing(std::vector<float>& dst, const std::vector<float>& src) {
  constexpr int d = 256;
  constexpr auto k = static_cast<std::size_t>(kBackwardGemms);
  static const std::vector<float> w(d * d, 0.5f);
  static std::vector<std::vector<float>> act(k + 1, std::vector<float>(d * d, 0.01f));
  const std::size_t n = dst.size();
  for (std::size_t g = 0; g < k; ++g) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0f / d, w.data(), d, act[g].data(), d, 0.0f,
                act[g + 1].data(), d);
    std::copy(src.begin() + static_cast<std::ptrdiff_t>(g * n / k), src.begin() + static_cast<std::ptrdiff_t>((g + 1) * n / k),
              dst.begin() + static_cast<std::ptrdiff_t>(g * n / k));
  }
}

int reps_for(std::size_t bytes, bool quick) {
  const int base = bytes < (1u << 16) ? 50 : bytes < (1u << 20) ? 20 : 6;
  return quick ? std::max(5, base / 3) : base;
}

}  // namespace

int main(int argc, char** argv) {
  sparsim::blas::use_best_kernels(argv);  // before MPI_Init (blas_kernels.hpp)
  MPI_Init(&argc, &argv);
  int rank = 0, p = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  openblas_set_num_threads(1);  // one thread per rank, as the trainer's ranks beyond the cores
  // The trainer's allocator settings (Trainer::Trainer): freed memory stays in the process, so
  // OpenMPI's temporary buffers come from the heap, not from fresh mappings.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  bool quick = false;
  int share_block = 256;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--share-block") == 0 && i + 1 < argc && std::atoi(argv[i + 1]) > 0) {
      share_block = std::atoi(argv[++i]);
    } else {
      if (rank == 0)
        std::fprintf(stderr, "mpi_probe: unknown argument '%s'; known: --quick, --share-block N (N > 0)\n", argv[i]);
      MPI_Finalize();
      return 2;
    }
  }
  const std::size_t max_bytes = quick ? (std::size_t{1} << 22) : (std::size_t{1} << 24);
  const auto up = static_cast<std::size_t>(p);

  for (std::size_t bytes = 64; bytes <= max_bytes; bytes *= 4) {
    // All-reduce of n floats, in place, as the trainer sums its gradients; rank r contributes
    // r + i % 7, so the sum is p(p-1)/2 + p (i % 7).
    const std::size_t n = bytes / sizeof(float);
    std::vector<float> in(n), out(n);
    for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<float>(rank) + static_cast<float>(i % 7);
    out = in;
    MPI_Allreduce(MPI_IN_PLACE, out.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    bool ok = true;
    for (std::size_t i = 0; i < n; ++i) ok &= out[i] == static_cast<float>(p * (p - 1) / 2 + p * static_cast<int>(i % 7));
    if (!all_ok(ok)) {
      if (rank == 0) std::fprintf(stderr, "mpi_probe: MPI_Allreduce returned a wrong sum at %zu bytes\n", bytes);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    // Before each call a backward pass of GEMMs writes the buffer a slice at a time, as the
    // trainer's does the gradients. Measured with 4 ranks on 2 cores (4.8 MB, in place,
    // 2026-11-23): the trainer's gradient all-reduce, its ranks held at a barrier before and
    // after, 7.5-9.6 ms; the same call repeated in the trainer on hot buffers 2.7-3.2; a test
    // program after evicting the caches and a fresh write 4.4-5.7, after 10-80 such GEMMs
    // 5.3-8.3. What runs before the call sets its cost. This probe's 4 MiB point: 4.1-4.5 ms
    // after eviction, 3.4-6.0 after backward_writing (six runs; the machine is noisy).
    const Stats ar = time_collective([&] {
      MPI_Request r;
      MPI_Iallreduce(MPI_IN_PLACE, out.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r);
      sparsim::mpi::wait_politely(r);
    }, reps_for(bytes, quick), [&] { backward_writing(out, in); });
    if (rank == 0) std::printf("allreduce %zu %.9e %.9e %.9e %d\n", bytes, ar.min, ar.median, ar.max, reps_for(bytes, quick));

    // All-to-all: each rank sends n/p floats to every rank; element j of the block for rank d
    // from rank s is s * 1000 + d, so the receiver checks the sender and itself.
    const std::size_t blk = std::max<std::size_t>(1, n / up);
    std::vector<float> sa(blk * up), ra(blk * up);
    for (std::size_t d = 0; d < up; ++d) std::fill_n(sa.begin() + static_cast<long>(d * blk), blk, static_cast<float>(rank * 1000 + static_cast<int>(d)));
    MPI_Alltoall(sa.data(), static_cast<int>(blk), MPI_FLOAT, ra.data(), static_cast<int>(blk), MPI_FLOAT, MPI_COMM_WORLD);
    ok = true;
    for (std::size_t s = 0; s < up; ++s) ok &= ra[s * blk] == static_cast<float>(static_cast<int>(s) * 1000 + rank);
    if (!all_ok(ok)) {
      if (rank == 0) std::fprintf(stderr, "mpi_probe: MPI_Alltoall delivered wrong data at %zu bytes\n", bytes);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    const Stats aa = time_collective([&] {
      MPI_Request r;
      MPI_Ialltoall(sa.data(), static_cast<int>(blk), MPI_FLOAT, ra.data(), static_cast<int>(blk), MPI_FLOAT, MPI_COMM_WORLD, &r);
      sparsim::mpi::wait_politely(r);
    }, reps_for(bytes, quick));
    if (rank == 0) std::printf("alltoall %zu %.9e %.9e %.9e %d\n", blk * up * sizeof(float), aa.min, aa.median, aa.max, reps_for(bytes, quick));

    // All-to-allv with uneven loads, as MoE dispatch: rank s sends (s + d) % p + 1 units of
    // blk/p floats to rank d. Total per rank stays near n floats.
    const int unit = static_cast<int>(std::max<std::size_t>(1, blk * 2 / (up + 1)));
    std::vector<int> sc(up), sd(up), rc(up), rd(up);
    for (int d = 0; d < p; ++d) sc[static_cast<std::size_t>(d)] = ((rank + d) % p + 1) * unit;
    for (int s = 0; s < p; ++s) rc[static_cast<std::size_t>(s)] = ((s + rank) % p + 1) * unit;
    std::partial_sum(sc.begin(), sc.end() - 1, sd.begin() + 1);
    std::partial_sum(rc.begin(), rc.end() - 1, rd.begin() + 1);
    const int stot = sd.back() + sc.back(), rtot = rd.back() + rc.back();
    std::vector<float> sv(static_cast<std::size_t>(stot)), rv(static_cast<std::size_t>(rtot));
    for (int d = 0; d < p; ++d) std::fill_n(sv.begin() + sd[static_cast<std::size_t>(d)], sc[static_cast<std::size_t>(d)], static_cast<float>(rank * 1000 + d));
    MPI_Alltoallv(sv.data(), sc.data(), sd.data(), MPI_FLOAT, rv.data(), rc.data(), rd.data(), MPI_FLOAT, MPI_COMM_WORLD);
    ok = true;
    for (int s = 0; s < p; ++s) {
      const auto us = static_cast<std::size_t>(s);
      ok &= rv[static_cast<std::size_t>(rd[us])] == static_cast<float>(s * 1000 + rank);
      ok &= rv[static_cast<std::size_t>(rd[us] + rc[us] - 1)] == static_cast<float>(s * 1000 + rank);
    }
    if (!all_ok(ok)) {
      if (rank == 0) std::fprintf(stderr, "mpi_probe: MPI_Alltoallv delivered wrong data at %zu bytes\n", bytes);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    const Stats av = time_collective([&] {
      MPI_Request r;
      MPI_Ialltoallv(sv.data(), sc.data(), sd.data(), MPI_FLOAT, rv.data(), rc.data(), rd.data(), MPI_FLOAT, MPI_COMM_WORLD, &r);
      sparsim::mpi::wait_politely(r);
    }, reps_for(bytes, quick));
    // Report the largest per-rank send volume: the slowest rank bounds the call.
    int send_bytes = stot * static_cast<int>(sizeof(float)), worst = 0;
    MPI_Allreduce(&send_bytes, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) std::printf("alltoallv %d %.9e %.9e %.9e %d\n", worst, av.min, av.median, av.max, reps_for(bytes, quick));
  }
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (p > threads) measure_sharing(rank, p, threads, 0.004, quick ? 100 : 200, share_block);
  std::fflush(stdout);
  MPI_Finalize();
  return 0;
}
