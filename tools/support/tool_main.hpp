// What every tool's main does first and last: prefer sleeping OpenMP
// threads, set the thread count, and turn errors into a message and an exit
// status (2 for a usage error, 1 for any other).
#pragma once

#include <shallow/core.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "cli.hpp"

namespace shallow::tools {

// Makes idle OpenMP threads sleep rather than spin, unless the user chose
// otherwise: with spinning, a 2-core machine where another process takes a
// core ran the sequential network 3x slower (330 vs 973 images/s). libgomp
// reads OMP_WAIT_POLICY once, when it loads, so the tool re-executes itself
// with the variable set. Call first thing in main.
inline void prefer_passive_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;
  ::setenv("OMP_WAIT_POLICY", "passive", 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: run on as we are
}

// Runs a tool's body: a usage error exits with status 2, any other error
// with status 1, each after one line on stderr naming the tool.
template <class Body>
int run_tool(const char* name, Body body) {
  try {
    return body();
  } catch (const cli::UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

inline void set_threads(const cli::Parser& p) {
  if (const int t = int(p.integer("threads")); t > 0) set_num_threads(t);
}

// A tool's main once its flags are declared on p: passive OpenMP waiting,
// the flags parsed (--help printed: exit 0), body(p) run, errors turned
// into a message and an exit status as run_tool does.
template <class Body>
int tool_main(int argc, char** argv, cli::Parser& p, Body body) {
  prefer_passive_waiting(argv);
  return run_tool(p.program().c_str(), [&] {
    if (!p.parse(argc, argv)) return 0;
    return body(p);
  });
}

}  // namespace shallow::tools
