// Seeded randomness helpers (see rng.h).
#include "hangar/cloudsim/rng.h"

namespace hangar::cloudsim {

double Rng::uniform() {
  // 53 random bits -> a double in [0, 1) with every value equally likely.
  return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0);
}

std::int64_t Rng::uniform_int(std::int64_t lo, std::int64_t hi) {
  if (hi <= lo) return lo;
  auto span = static_cast<std::uint64_t>(hi - lo) + 1;
  // Modulo bias is irrelevant for the small ranges a simulator draws from.
  return lo + static_cast<std::int64_t>(engine_() % span);
}

bool Rng::chance(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return uniform() < p;
}

std::string Rng::guid() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t hi = engine_();
  std::uint64_t lo = engine_();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                          // version 4
  lo = (lo & ~0xC000000000000000ULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  auto put = [&](std::uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) out.push_back(kHex[(v >> (i * 4)) & 0xF]);
  };
  put(hi >> 32, 8);
  out.push_back('-');
  put((hi >> 16) & 0xFFFF, 4);
  out.push_back('-');
  put(hi & 0xFFFF, 4);
  out.push_back('-');
  put(lo >> 48, 4);
  out.push_back('-');
  put(lo & 0xFFFFFFFFFFFFULL, 12);
  return out;
}

std::string Rng::token(std::size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) out.push_back(kAlphabet[engine_() % 64]);
  return out;
}

}  // namespace hangar::cloudsim
