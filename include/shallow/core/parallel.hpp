/// \file
/// Thread control. shallow parallelises over the images of a batch with its
/// own OpenMP regions; Eigen's GEMMs inside those regions see an active team
/// and stay single-threaded, so the two never oversubscribe the cores.
#pragma once

#ifdef _OPENMP
#include <omp.h>
#endif

#include "tensor.hpp"

namespace shallow {

/// The number of threads the next parallel region will use (1 without OpenMP).
inline int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/// Sets the thread count of later parallel regions; n >= 1, else ConfigError.
inline void set_num_threads(int n) {
  SHALLOW_CHECK(n >= 1, ConfigError, "set_num_threads: need at least one thread, got " + std::to_string(n));
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

/// This thread's number in the current team (0 outside a parallel region).
inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/// The number of threads in the current team (1 outside a parallel region).
inline int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

/// The contiguous share [begin, end) of n items that thread `tid` of `team`
/// takes. A fixed split keeps per-thread partial sums, and so results,
/// bitwise reproducible at a given thread count.
inline Range share(Index n, int tid, int team) {
  return {n * tid / team, n * (tid + 1) / team};
}

}  // namespace shallow
