#include "memory.hpp"

#include <stdexcept>
#include <vector>

#include "parallel.hpp"

namespace sparsim::calib {

void copy_kernel(double* a, const double* b, std::size_t n, int threads) {
  parallel_slices(threads, n, [=](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) a[i] = b[i];
  });
}

void triad_kernel(double* a, const double* b, const double* c, double s, std::size_t n, int threads) {
  parallel_slices(threads, n, [=](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) a[i] = b[i] + s * c[i];
  });
}

void triad_reference(double* a, const double* b, const double* c, double s, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

MemoryResult measure_memory(std::size_t n, int threads, int reps) {
  std::vector<double> a(n), b(n), c(n), ref(n);
  // First touch from the kernels' own threads (pages land where they will be used).
  parallel_slices(threads, n, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      a[i] = 0;
      b[i] = 1.0 + static_cast<double>(i % 1000) * 1e-3;
      c[i] = 2.0 - static_cast<double>(i % 777) * 1e-3;
    }
  });
  const double s = 3.0;
  triad_kernel(a.data(), b.data(), c.data(), s, n, threads);
  triad_reference(ref.data(), b.data(), c.data(), s, n);
  if (a != ref) throw std::runtime_error("triad kernel differs from the scalar reference");
  copy_kernel(a.data(), c.data(), n, threads);
  if (a != c) throw std::runtime_error("copy kernel differs from the source array");

  MemoryResult r;
  r.n = n;
  r.threads = threads;
  const double dn = static_cast<double>(n);
  r.copy.seconds = time_seconds([&] { copy_kernel(a.data(), b.data(), n, threads); }, 1, reps);
  r.copy.bytes = 16 * dn;
  r.copy.bandwidth = r.copy.bytes / r.copy.seconds.min;
  r.copy_one_thread.seconds = time_seconds([&] { copy_kernel(a.data(), b.data(), n, 1); }, 1, reps);
  r.copy_one_thread.bytes = r.copy.bytes;
  r.copy_one_thread.bandwidth = r.copy.bytes / r.copy_one_thread.seconds.min;
  r.triad.seconds = time_seconds([&] { triad_kernel(a.data(), b.data(), c.data(), s, n, threads); }, 1, reps);
  r.triad.bytes = 24 * dn;
  r.triad.bandwidth = r.triad.bytes / r.triad.seconds.min;
  return r;
}

}  // namespace sparsim::calib
