/// \file
/// A small, portable random number generator. The standard library's
/// distributions differ between implementations; this one gives the same stream
/// on every platform, so a seed reproduces a run anywhere.
#pragma once

#include <cmath>
#include <cstdint>

namespace shallow {

/// xoshiro256** seeded through splitmix64 (Blackman & Vigna).
class Rng {
 public:
  /// A generator seeded with seed.
  explicit Rng(std::uint64_t seed = 0x5eed) { this->seed(seed); }

  /// Restarts the stream from seed: equal seeds give equal streams.
  void seed(std::uint64_t seed) {
    for (auto& s : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }

  /// The next 64 random bits.
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, n), without modulo bias (rejects the short tail).
  std::uint64_t below(std::uint64_t n) {
    if (n == 0) return 0;
    const std::uint64_t tail = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      const std::uint64_t r = next();
      if (r >= tail) return r % n;
    }
  }

  /// Standard normal by Box-Muller; no cached second value, so the stream
  /// position depends only on the number of calls.
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1], safe for log
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  /// The whole state, so training can checkpoint and resume a stream exactly.
  struct State {
    /// The four xoshiro256** state words.
    std::uint64_t s[4];
  };
  /// The current state.
  State state() const { return {{s_[0], s_[1], s_[2], s_[3]}}; }
  /// Restores a state from state(): the stream continues from there.
  void set_state(const State& st) {
    for (int i = 0; i < 4; ++i) s_[i] = st.s[i];
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

/// A seed for an independent stream `stream` of a run seeded with `seed`
/// (an epoch's shuffle, a batch's augmentation): equal inputs, equal output,
/// and nearby inputs give unrelated streams.
inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed ^ (stream * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace shallow
