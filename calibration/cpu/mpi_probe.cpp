// mpi_probe: times MPI_Allreduce, MPI_Alltoall and MPI_Alltoallv among the ranks of one machine,
// each checked for correct results first. They are called as the trainer calls them: nonblocking,
// then mpi_wait.hpp's wait, which sleeps instead of polling. Run by `sparsim calibrate` as
//   mpirun --oversubscribe --bind-to none --allow-run-as-root -np P mpi_probe [--quick]
// Rank 0 prints one line per (collective, size) on stdout:
//   <collective> <bytes> <min_s> <median_s> <max_s> <reps>
// where bytes is the per-rank buffer S (all-reduce: the vector reduced; all-to-all(v): all the
// data a rank sends, (p-1)/p of it to other ranks) and a time is the slowest rank's, per call.
// Exit 0 ok, 1 a collective returned wrong data, 2 bad arguments.
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <vector>

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
template <class F>
Stats time_collective(F&& f, int reps) {
  for (int i = 0; i < 2; ++i) f();
  std::vector<double> s;
  for (int i = 0; i < reps; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    f();
    double dt = MPI_Wtime() - t0, worst = 0;
    MPI_Allreduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    s.push_back(worst);
  }
  return stats(s);
}

bool all_ok(bool ok) {
  int mine = ok ? 1 : 0, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all == 1;
}

int reps_for(std::size_t bytes, bool quick) {
  const int base = bytes < (1u << 16) ? 50 : bytes < (1u << 20) ? 20 : 6;
  return quick ? std::max(3, base / 3) : base;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, p = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else {
      if (rank == 0) std::fprintf(stderr, "mpi_probe: unknown argument '%s'; known: --quick\n", argv[i]);
      MPI_Finalize();
      return 2;
    }
  }
  const std::size_t max_bytes = quick ? (std::size_t{1} << 22) : (std::size_t{1} << 24);
  const auto up = static_cast<std::size_t>(p);

  for (std::size_t bytes = 64; bytes <= max_bytes; bytes *= 4) {
    // All-reduce of n floats; rank r contributes r + i % 7, so the sum is p(p-1)/2 + p (i % 7).
    const std::size_t n = bytes / sizeof(float);
    std::vector<float> in(n), out(n);
    for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<float>(rank) + static_cast<float>(i % 7);
    MPI_Allreduce(in.data(), out.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    bool ok = true;
    for (std::size_t i = 0; i < n; ++i) ok &= out[i] == static_cast<float>(p * (p - 1) / 2 + p * static_cast<int>(i % 7));
    if (!all_ok(ok)) {
      if (rank == 0) std::fprintf(stderr, "mpi_probe: MPI_Allreduce returned a wrong sum at %zu bytes\n", bytes);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    const Stats ar = time_collective([&] {
      MPI_Request r;
      MPI_Iallreduce(in.data(), out.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r);
      sparsim::mpi::wait_politely(r);
    }, reps_for(bytes, quick));
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
  std::fflush(stdout);
  MPI_Finalize();
  return 0;
}
