// Waiting for an MPI request without burning a core: spin on MPI_Test briefly, then sleep
// between tests. With more ranks than cores (validate runs 4 ranks on 2), a rank that busy-polls
// in a collective takes CPU time from the peers it waits for; OpenMPI's shared-memory transport
// has no blocking wait. The trainer and mpi_probe use the same wait, so the collective costs
// `sparsim calibrate` measures are the ones the trainer pays.
#pragma once

#include <mpi.h>
#include <time.h>

namespace sparsim::mpi {

/// Spin for `spin` tests, then test every `sleep_ns` (Linux rounds up by the timer slack, 50 us).
inline int wait_politely(MPI_Request& req, int spin = 200, long sleep_ns = 20000) {
  int done = 0;
  for (int i = 0; i < spin; ++i) {
    if (const int rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE); rc != MPI_SUCCESS) return rc;
    if (done) return MPI_SUCCESS;
  }
  const timespec ts{0, sleep_ns};
  for (;;) {
    if (const int rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE); rc != MPI_SUCCESS) return rc;
    if (done) return MPI_SUCCESS;
    nanosleep(&ts, nullptr);
  }
}

}  // namespace sparsim::mpi
