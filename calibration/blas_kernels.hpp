// OpenBLAS built with DYNAMIC_ARCH (Debian's) picks its kernels from cpuid when the library is
// loaded. A release older than the CPU does not know its model and falls back to its oldest x86-64
// kernels: on a 2-core Xeon VM of family 6 model 207 (AVX-512), OpenBLAS 0.3.21 chose Prescott
// (SSE3) and ran 256^3 single-thread GEMMs at 26-30 GFLOP/s (min 19); with OPENBLAS_CORETYPE=
// SkylakeX 127-131, Haswell 69 (2026-12-02). The trainer then ran its steps 3.5 times slower, and
// `sparsim validate` measured kernels nobody would run.
//
// OpenBLAS reads OPENBLAS_CORETYPE once, in its load-time constructor, so a program that finds
// the fallback sets it to the best kernels the CPU supports and executes itself again (same pid,
// arguments and environment plus that variable; under mpirun each rank does so before MPI_Init).
// A variable the user set is never changed; `SPARSIM_BLAS_CORETYPE=keep` turns this off.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <cblas.h>

namespace sparsim::blas {

/// The OpenBLAS core of the widest vector ISA this CPU has: SkylakeX for AVX-512 (F, BW, DQ, VL),
/// Haswell for AVX2 with FMA, SandyBridge for AVX; nullptr for none of them or a non-x86 CPU.
inline const char* best_core_for_cpu() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "SandyBridge";
#endif
  return nullptr;
}

/// Whether OpenBLAS's core `name` uses AVX or wider (the cores of OpenBLAS 0.3 with AVX kernels).
inline bool core_uses_avx(const char* name) {
  static const char* const avx[] = {"sandybridge", "haswell",  "skylakex", "cooperlake", "sapphirerapids",
                                    "zen",         "bulldozer", "piledriver", "steamroller", "excavator"};
  for (const char* a : avx)
    if (strncasecmp(name, a, std::strlen(a)) == 0) return true;
  return false;
}

/// The core to run with instead of what OpenBLAS chose (nullptr: keep it). Pure, for tests.
inline const char* replacement_core(const char* chosen, const char* best) {
  if (chosen == nullptr || best == nullptr || core_uses_avx(chosen)) return nullptr;
  return best;
}

/// Call first in main(), before MPI_Init or any thread: when OpenBLAS fell back to pre-AVX kernels
/// on a CPU with AVX, sets OPENBLAS_CORETYPE and re-executes the program (returns only when it
/// keeps the kernels, or when the re-execution fails).
inline void use_best_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  if (const char* keep = std::getenv("SPARSIM_BLAS_CORETYPE"); keep != nullptr && std::strcmp(keep, "keep") == 0) return;
  const char* core = replacement_core(openblas_get_corename(), best_core_for_cpu());
  if (core == nullptr) return;
  if (setenv("OPENBLAS_CORETYPE", core, 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // could not re-execute: go on with the kernels loaded
}

}  // namespace sparsim::blas
