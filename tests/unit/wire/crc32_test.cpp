#include "megzawicol/wire/crc32.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "megzawicol/core/rng.hpp"
#include "wire_test_util.hpp"

using namespace mz;
using namespace mz::wire;

namespace {

ByteView sv(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// Independent bit-at-a-time reference (the textbook definition).
uint32_t crc32_bitwise(ByteView d) {
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t b : d) {
    c ^= b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
  }
  return ~c;
}

}  // namespace

TEST_CASE("crc32: standard check value and known strings") {
  CHECK(crc32(sv("123456789")) == 0xCBF43926u);
  CHECK(crc32(ByteView{}) == 0u);
  // zlib.crc32(b"The quick brown fox jumps over the lazy dog") == 0x414fa339
  CHECK(crc32(sv("The quick brown fox jumps over the lazy dog")) == 0x414FA339u);
}

TEST_CASE("crc32: matches the bitwise definition for every length and alignment") {
  Rng rng(42);
  Bytes buf(300);
  rng.fill(buf.data(), buf.size());
  for (size_t off = 0; off < 8; ++off)
    for (size_t len = 0; off + len <= 100; ++len) {
      ByteView v(buf.data() + off, len);
      REQUIRE(crc32(v) == crc32_bitwise(v));
    }
  CHECK(crc32(buf) == crc32_bitwise(buf));
}

TEST_CASE("crc32: chaining with crc32_update at every split point") {
  Rng rng(7);
  Bytes buf(77);
  rng.fill(buf.data(), buf.size());
  const uint32_t whole = crc32(buf);
  for (size_t split = 0; split <= buf.size(); ++split) {
    ByteView v(buf);
    CHECK(crc32_update(crc32(v.first(split)), v.subspan(split)) == whole);
  }
  CHECK(crc32_update(0, buf) == whole);
}

TEST_CASE("crc32: frame followed by its CRC (LSB first) gives the residue") {
  Rng rng(3);
  for (size_t len : {0u, 1u, 14u, 60u, 1514u}) {
    Bytes f(len);
    rng.fill(f.data(), f.size());
    const uint32_t c = crc32(f);
    f.resize(len + 4);
    store_le32(f.data() + len, c);
    CHECK(crc32(f) == kCrc32Residue);
  }
}

TEST_CASE("crc32: the carry-less multiplication path equals the table path and the definition") {
  if (crc32_uses_clmul())
    MESSAGE("this CPU uses PCLMULQDQ for CRC-32");
  else
    MESSAGE("this CPU does not use PCLMULQDQ for CRC-32: the table path is checked twice");
  if (crc32_uses_vclmul()) MESSAGE("... and VPCLMULQDQ (256 bytes per step) for pieces of 256 bytes or more");
  Rng rng(99);
  Bytes buf(5000);
  rng.fill(buf.data(), buf.size());
  // Lengths around every fold boundary (256- and 64-byte blocks, 16-byte tail, byte tail),
  // offsets 0..15; the 128-bit folding is checked on its own too.
  for (size_t off = 0; off < 16; ++off)
    for (size_t len = 0; off + len <= 2100; len += (len < 600 ? 1 : 13)) {
      ByteView v(buf.data() + off, len);
      const uint32_t want = crc32_bitwise(v);
      REQUIRE(crc32(v) == want);
      REQUIRE(crc32_update_portable(0, v) == want);
      REQUIRE(crc32_update_clmul128(0, v) == want);
      REQUIRE(crc32_update(0x12345678u, v) == crc32_update_portable(0x12345678u, v));
    }
  CHECK(crc32(buf) == crc32_bitwise(buf));
  // Chained updates mixing long (folded) and short pieces.
  uint32_t c = 0;
  size_t at = 0;
  while (at < buf.size()) {
    const size_t n = std::min<size_t>(buf.size() - at, rng.uniform_int(0, 300));
    c = crc32_update(c, ByteView(buf).subspan(at, n));
    at += n;
  }
  CHECK(c == crc32(buf));
  // A maximal Ethernet frame plus its FCS gives the residue on the fast path too.
  Bytes frame(1514);
  rng.fill(frame.data(), frame.size());
  const uint32_t fcs = crc32(frame);
  for (int i = 0; i < 4; ++i) frame.push_back(static_cast<uint8_t>(fcs >> (8 * i)));
  CHECK(crc32(frame) == kCrc32Residue);
}
