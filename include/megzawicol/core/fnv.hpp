// FNV-1a 64-bit over byte buffers: h = (h ^ byte) * 0x100000001b3 for each byte.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mz {

inline constexpr uint64_t kFnv64Offset = 0xcbf29ce484222325ull;
inline constexpr uint64_t kFnv64Prime = 0x100000001b3ull;

/// Continues the FNV-1a 64 hash `h` over `n` bytes at `p`. Same result as the byte loop
/// (`fnv1a64_update_portable`); on x86-64 with AVX-512BW and PCLMULQDQ it takes blocks of
/// 256 bytes at a time (see fnv.cpp).
uint64_t fnv1a64_update(uint64_t h, const uint8_t* p, size_t n);

/// The byte loop.
uint64_t fnv1a64_update_portable(uint64_t h, const uint8_t* p, size_t n);

/// Whether fnv1a64_update uses its vector path on this machine.
bool fnv1a64_uses_vector();

}  // namespace mz
