// Two implementations of one step timed side by side in one process, as
// compare_torch and compare_onednn do: after a warm-up, each round times
// shallow's step and then the other library's, each for at least min_ms;
// the result is the median of each library's round times and the median of
// the per-round ratios (other / shallow: > 1 means shallow is faster), so a
// noisy neighbour slows both alike and one bad round moves nothing.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

struct SideBySide {
  double shallow, other, ratio;  // seconds per step, seconds per step, other / shallow
};

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Seconds per call of `step`: as many calls as fill min_ms.
inline double time_step(const std::function<void()>& step, double min_ms) {
  const auto t0 = std::chrono::steady_clock::now();
  long calls = 0;
  do {
    step();
    ++calls;
  } while (seconds_since(t0) * 1e3 < min_ms);
  return seconds_since(t0) / double(calls);
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

inline SideBySide side_by_side(int rounds, double min_ms, const std::function<void()>& ours,
                               const std::function<void()>& theirs) {
  for (int i = 0; i < 3; ++i) {
    ours();
    theirs();
  }
  std::vector<double> a, b, ratios;
  for (int r = 0; r < rounds; ++r) {
    a.push_back(time_step(ours, min_ms));
    b.push_back(time_step(theirs, min_ms));
    ratios.push_back(b.back() / a.back());
  }
  return {median(a), median(b), median(ratios)};
}
