// The processes one command runs as: one, or the ranks of `mpirun -np R sparsim plan|sweep ...`
// (OpenMPI, MPICH), which split a search's independent evaluations and gather them on rank 0.
// Rank 0 alone prints and writes files; what it writes is byte-identical to one process
// (ctest plan.mpi.*, sweep.mpi.*). MPI is optional: a sparsim built without it runs alone and
// refuses several ranks with exit 2.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace sparsim::app::dist {

/// The run's size as the launcher set it in the environment (OMPI_COMM_WORLD_SIZE, else
/// PMI_SIZE); 1 outside mpirun. MPI itself starts only when it is above 1.
int launched_size();

/// How a verb fails, as `main` reports it: the exit code (2 bad input, 1 run failed) and the
/// text after "sparsim: error: ".
struct Failure {
  int code = 1;
  std::string message;
};
Failure failure_of(const std::exception_ptr& e);

/// A failure met on some rank, reported once: rank 0 prints it, every rank exits with its code.
class Failed : public std::exception {
 public:
  Failed(Failure f, bool quiet) : f_(std::move(f)), quiet_(quiet) {}
  const char* what() const noexcept override { return f_.message.c_str(); }
  int code() const { return f_.code; }
  bool quiet() const { return quiet_; }  ///< another rank prints it

 private:
  Failure f_;
  bool quiet_;
};

/// The ranks of one verb. Starts MPI when launched with more than one rank and finishes it when
/// destroyed (one World per process: MPI starts once). Throws InputError (exit 2) when launched
/// with several ranks by a sparsim built without MPI.
class World {
 public:
  World();
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  /// Evaluation threads per rank by default: the machine's hardware threads over the ranks on it.
  int default_threads() const;

  /// Runs `step` on every rank. When it throws on one rank or more, every rank throws Failed
  /// carrying the lowest failing rank's failure (quiet except on rank 0), so all leave together
  /// and the error is printed once. With one rank the exception passes through unchanged.
  void together(const std::function<void()>& step) const;

  /// Every rank's bytes on rank 0, in rank order; an empty list on the other ranks.
  std::vector<std::string> gather(const std::string& mine) const;

 private:
  int rank_ = 0, size_ = 1, local_size_ = 1;
  bool started_ = false;
  mutable bool failed_together_ = false;  ///< a Failed thrown on every rank: finish MPI as usual
};

}  // namespace sparsim::app::dist
