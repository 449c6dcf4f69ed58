// Seeded randomness for the simulator: every random choice (ids, jitter, faults) comes from a
// generator seeded by the scenario, so the same seed and request sequence reproduce a run exactly.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace hangar::cloudsim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  void reseed(std::uint64_t seed) { engine_.seed(seed); }
  // Uniform in [0, 1). Built from raw engine bits rather than std::uniform_real_distribution,
  // whose output is implementation-defined, so runs reproduce across standard libraries.
  double uniform();
  // Uniform in [lo, hi] (inclusive); lo when hi <= lo.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);
  // True with probability p (never draws when p <= 0, so unused faults do not shift the sequence).
  bool chance(double p);
  // A lower-case GUID ("8-4-4-4-12" hex), version-4 shaped.
  std::string guid();
  // `length` characters from [A-Za-z0-9-_] (base64url alphabet).
  std::string token(std::size_t length);

 private:
  std::mt19937_64 engine_;
};

}  // namespace hangar::cloudsim
