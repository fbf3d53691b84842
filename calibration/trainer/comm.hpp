// The collectives the trainer needs, behind an interface so the library does not depend on MPI:
// SelfComm (one rank, copies) here, MpiComm in train_mpi.cpp.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

#include "config/error.hpp"

namespace sparsim::trainer {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// A block of send.size() / size() ints to and from every rank (MPI_Alltoall): block r of the
  /// result is what rank r sent to us.
  virtual std::vector<int> alltoall(const std::vector<int>& send) = 0;
  /// MPI_Alltoallv on floats; counts in elements, displacements are the prefix sums.
  virtual void alltoallv(const float* send, const std::vector<int>& send_counts, float* recv,
                         const std::vector<int>& recv_counts) = 0;
  /// In-place sum over ranks (MPI_Allreduce).
  virtual void allreduce_sum(float* data, std::size_t n) = 0;
  virtual void allreduce_sum(double* data, std::size_t n) = 0;
  /// The ranks of this one with the same `color`, ordered as here (MPI_Comm_split): a rank
  /// group's own all-to-alls.
  virtual std::unique_ptr<Comm> split(int color) = 0;
  /// Every rank has arrived (MPI_Barrier), waiting without burning a core.
  virtual void barrier() = 0;
};

class SelfComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::vector<int> alltoall(const std::vector<int>& send) override { return send; }
  void alltoallv(const float* send, const std::vector<int>& send_counts, float* recv,
                 const std::vector<int>& recv_counts) override {
    SPARSIM_ASSERT(send_counts.size() == 1 && recv_counts == send_counts, "SelfComm: one rank");
    if (send_counts[0] > 0) std::memcpy(recv, send, sizeof(float) * static_cast<std::size_t>(send_counts[0]));
  }
  void allreduce_sum(float*, std::size_t) override {}
  void allreduce_sum(double*, std::size_t) override {}
  std::unique_ptr<Comm> split(int) override { return std::make_unique<SelfComm>(); }
  void barrier() override {}
};

}  // namespace sparsim::trainer
