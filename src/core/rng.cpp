#include "megzawicol/core/rng.hpp"

#include <cmath>
#include <cstring>

namespace mz {

__extension__ using u128 = unsigned __int128;
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : s_) w = splitmix64(x);
}

Rng Rng::stream(uint64_t seed, std::string_view name) {
  uint64_t x = seed;
  uint64_t mixed = splitmix64(x) ^ fnv1a64(name);
  return Rng(mixed);
}

double Rng::uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

uint64_t Rng::uniform_int_slow(uint64_t lo, uint64_t hi, uint64_t r) {
  const uint64_t range = hi - lo;  // hi > lo
  if (range == UINT64_MAX) return r;
  const uint64_t n = range + 1;
  if (n != mod_n_) {
    const u128 m = ~static_cast<u128>(0) / n + 1;
    mod_n_ = n;
    mod_m_lo_ = static_cast<uint64_t>(m);
    mod_m_hi_ = static_cast<uint64_t>(m >> 64);
  }
  // Any r <= UINT64_MAX - n is below the rejection limit (which is >= UINT64_MAX - n + 1),
  // so the limit is computed only for the top n values.
  while (r > UINT64_MAX - n && r >= UINT64_MAX - (UINT64_MAX % n)) r = next_u64();
  const u128 low = ((static_cast<u128>(mod_m_hi_) << 64) | mod_m_lo_) * r;
  const u128 bottom = (static_cast<u128>(static_cast<uint64_t>(low)) * n) >> 64;
  const u128 top = static_cast<u128>(static_cast<uint64_t>(low >> 64)) * n;
  return lo + static_cast<uint64_t>((bottom + top) >> 64);
}

bool Rng::bernoulli(double p) {
  if (p <= 0.0) return false;
  if (p >= 1.0) return true;
  return uniform01() < p;
}

uint64_t Rng::geometric(double p) {
  if (p >= 1.0) return 0;
  // Inversion: floor(ln U / ln(1-p)), U in (0,1].
  const double u = 1.0 - uniform01();
  const double g = std::floor(std::log(u) / std::log1p(-p));
  if (!(g < 1.8e19)) return UINT64_MAX;
  return static_cast<uint64_t>(g);
}

double Rng::exponential(double mean) { return -mean * std::log(1.0 - uniform01()); }

void Rng::fill(uint8_t* out, size_t n) {
  while (n >= 8) {
    uint64_t v = next_u64();
    std::memcpy(out, &v, 8);
    out += 8;
    n -= 8;
  }
  if (n) {
    uint64_t v = next_u64();
    std::memcpy(out, &v, n);
  }
}

}  // namespace mz
