// CRC-32 (IEEE 802.3): the Ethernet frame check sequence.
//
// Reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF (the same
// CRC as zlib.crc32). On x86-64 CPUs with PCLMULQDQ (checked at run time), runs of 64
// bytes or more are folded 64 bytes per step with carry-less multiplications (Intel,
// "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ", 2009; the constants of
// the reflected IEEE polynomial, as in zlib's SIMD CRC) and reduced with Barrett's
// method; the rest, and every CRC on other CPUs, eight bytes at a time with "slicing-by-8"
// tables generated at compile time.
#pragma once

#include <cstdint>

#include "megzawicol/core/bytes.hpp"

namespace mz::wire {

/// CRC-32 of `data`. crc32("123456789") == 0xCBF43926.
uint32_t crc32(ByteView data);

/// Continues a CRC: takes a finalized CRC and returns a finalized CRC, so calls chain:
/// crc32_update(crc32(a), b) == crc32(a + b), and crc32_update(0, a) == crc32(a).
uint32_t crc32_update(uint32_t crc, ByteView data);

/// The table-only computation (the same results); for tests and benchmarks.
uint32_t crc32_update_portable(uint32_t crc, ByteView data);
/// Whether crc32_update uses carry-less multiplication on this CPU (128-bit PCLMULQDQ
/// folding, 64 bytes per step)...
bool crc32_uses_clmul();
/// ... and the 512-bit VPCLMULQDQ folding, 256 bytes per step, for pieces of 256+ bytes.
bool crc32_uses_vclmul();
/// The 128-bit folding alone, whatever the CPU has beyond it; for tests and benchmarks.
uint32_t crc32_update_clmul128(uint32_t crc, ByteView data);

/// The CRC-32 of any frame followed by its own CRC (appended least significant byte
/// first, as Ethernet transmits its FCS) is this constant, whatever the frame.
inline constexpr uint32_t kCrc32Residue = 0x2144DF1Cu;

}  // namespace mz::wire
