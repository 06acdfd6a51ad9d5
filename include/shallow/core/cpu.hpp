/// \file
/// The instruction sets this code was compiled for, against those of the CPU
/// it runs on. The kernels are written with Eigen's packets, whose width is
/// fixed when they are compiled: built without -march (CMake's default), they
/// run SSE2 code several times slower than AVX2/FMA or AVX-512 would on the
/// same machine. So the first convolution warns, once, on stderr, when the
/// CPU has AVX2 and FMA but this build does not use them (SHALLOW_NO_CPU_WARNING=1
/// silences it).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace shallow {

/// True when this build uses AVX2 and FMA, or the CPU lacks them (or is not
/// x86-64): nothing faster is on the table.
inline bool built_for_this_cpu() {
#if defined(__x86_64__) && !(defined(__AVX2__) && defined(__FMA__))
  __builtin_cpu_init();
  return !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#else
  return true;
#endif
}

/// Prints the warning of this file's comment once per process, unless built_for_this_cpu() or SHALLOW_NO_CPU_WARNING is set.
inline void warn_once_if_not_built_for_this_cpu() {
  static const bool warned = [] {
    if (built_for_this_cpu() || std::getenv("SHALLOW_NO_CPU_WARNING")) return false;
    std::fprintf(stderr,
                 "shallow: this program was compiled without AVX2/FMA, which this CPU has, so its convolutions run "
                 "several times slower than they could; compile with -march=native (CMake: link shallow::native; "
                 "SHALLOW_NO_CPU_WARNING=1 silences this)\n");
    return true;
  }();
  (void)warned;
}

}  // namespace shallow
