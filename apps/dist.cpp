#include "dist.hpp"

#include <algorithm>
#include <boost/program_options/errors.hpp>
#include <climits>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "config/error.hpp"

#ifdef SPARSIM_HAVE_MPI
#include <mpi.h>
#endif

namespace sparsim::app::dist {

namespace {

/// A positive integer from the environment variable `name`, or 0 when unset or not one.
int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return 0;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  return (*end == '\0' && x >= 0 && x <= INT_MAX) ? static_cast<int>(x) : 0;
}

}  // namespace

int launched_size() {
  if (const int size = env_int("OMPI_COMM_WORLD_SIZE"); size > 0) return size;
  if (const int pmi = env_int("PMI_SIZE"); pmi > 0) return pmi;  // MPICH's Hydra, Slurm's PMI
  return 1;
}

Failure failure_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const Failed& f) {
    return {f.code(), f.what()};
  } catch (const InputError& x) {
    return {2, x.what()};
  } catch (const boost::program_options::error& x) {
    return {2, x.what()};
  } catch (const std::exception& x) {  // a run that failed (a child simulation, a file system error)
    return {1, x.what()};
  } catch (...) {
    return {1, "unknown error"};
  }
}

#ifdef SPARSIM_HAVE_MPI

World::World() {
  if (launched_size() <= 1) return;
  int provided = 0;
  // Threads evaluate plans, only the main thread calls MPI.
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  started_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
}

World::~World() {
  if (!started_) return;
  if (std::uncaught_exceptions() > 0 && !failed_together_) {
    // An error on this rank alone, outside together(): the other ranks may wait for it in a
    // collective, so end them all rather than hang (a bug of the verb: it should fail together).
    std::cerr << "sparsim: rank " << rank_ << " failed outside a collective step; ending every rank\n";
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
}

void World::together(const std::function<void()>& step) const {
  std::exception_ptr error;
  try {
    step();
  } catch (...) {
    error = std::current_exception();
  }
  if (size_ == 1) {
    if (error) std::rethrow_exception(error);
    return;
  }
  const int mine = error ? rank_ : size_;
  int first = size_;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (first == size_) return;
  // the lowest failing rank's failure, to every rank: its code, then its message
  Failure f = rank_ == first ? failure_of(error) : Failure{};
  int length = static_cast<int>(f.message.size());
  MPI_Bcast(&f.code, 1, MPI_INT, first, MPI_COMM_WORLD);
  MPI_Bcast(&length, 1, MPI_INT, first, MPI_COMM_WORLD);
  f.message.resize(static_cast<std::size_t>(length));
  MPI_Bcast(f.message.data(), length, MPI_CHAR, first, MPI_COMM_WORLD);
  failed_together_ = true;
  throw Failed(std::move(f), rank_ != 0);
}

std::vector<std::string> World::gather(const std::string& mine) const {
  if (size_ == 1) return {mine};
  // Every rank learns every size, so all of them refuse a gather MPI cannot count (int offsets).
  const long long n = static_cast<long long>(mine.size());
  std::vector<long long> sizes(static_cast<std::size_t>(size_));
  MPI_Allgather(&n, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, MPI_COMM_WORLD);
  long long total = 0;
  for (const long long s : sizes) total += s;
  if (total > INT_MAX) {
    failed_together_ = true;
    throw Failed({1, "the ranks' results (" + std::to_string(total) + " bytes) exceed what one MPI gather moves (2 GiB)"},
                 rank_ != 0);
  }
  std::vector<int> counts(sizes.begin(), sizes.end()), offsets(counts.size(), 0);
  for (std::size_t r = 1; r < counts.size(); ++r) offsets[r] = offsets[r - 1] + counts[r - 1];
  std::string all(root() ? static_cast<std::size_t>(total) : 0, '\0');
  MPI_Gatherv(mine.data(), static_cast<int>(n), MPI_CHAR, all.data(), counts.data(), offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
  if (!root()) return {};
  std::vector<std::string> out;
  for (std::size_t r = 0; r < counts.size(); ++r) out.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(counts[r])));
  return out;
}

#else  // built without MPI: one process

World::World() {
  if (const int size = launched_size(); size > 1) {
    throw InputError(Origin{"command line", 0, 0}, "mpirun",
                     "launched as " + std::to_string(size) +
                         " ranks, but this sparsim was built without MPI (CMake found none): run it as one process, or "
                         "install an MPI (Debian: libopenmpi-dev openmpi-bin) and rebuild");
  }
}

World::~World() = default;

void World::together(const std::function<void()>& step) const { step(); }

std::vector<std::string> World::gather(const std::string& mine) const { return {mine}; }

#endif

int World::default_threads() const {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, hw / std::max(1, local_size_));
}

}  // namespace sparsim::app::dist
