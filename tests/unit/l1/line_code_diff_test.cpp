// Differential test of the 4B/5B line code: the optimized encoder and decoders of
// src/l1/line_code.cpp against the straightforward reference (reference_line_code.hpp),
// on seeded random frames with random damage. Everything observable must agree: encoded
// bits, decoded frames, symbol error counters, error texts, and for the stream decoder
// the counters and buffer sizes after every call (which pins the resumption positions).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l1/line_code.hpp"
#include "reference_line_code.hpp"

using namespace mz;
namespace ref = mz::l1::ref;

namespace {

constexpr uint32_t kJK = 0b1100010001;
constexpr uint32_t k55 = 0b0101101011;  // 5 (low) then 5 (high)

struct Outcome {
  bool ok = false;
  Bytes frame;
  uint32_t symbol_errors = 0;
  uint32_t first_bad = 0;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

Outcome outcome(const Result<l1::DecodedFrame>& r) {
  Outcome o;
  o.ok = r.ok();
  if (r.ok()) {
    o.frame = r->frame;
    o.symbol_errors = r->symbol_errors;
    o.first_bad = r->first_bad_symbol;  // compared even when there are no symbol errors
  } else {
    o.error = r.error().message;
  }
  return o;
}

std::string describe(const Outcome& o) {
  if (!o.ok) return "error: " + o.error;
  return "frame of " + std::to_string(o.frame.size()) + " bytes, " + std::to_string(o.symbol_errors) +
         " symbol errors, first bad " + std::to_string(o.first_bad);
}

Bytes random_bytes(Rng& rng, size_t n) {
  Bytes b(n);
  if (n) rng.fill(b.data(), n);
  return b;
}

// The kind of an event: "frame", "frame with symbol errors", or the error text up to its
// first digit or parenthesis.
std::string kind(const Outcome& o) {
  if (o.ok) return o.symbol_errors ? "frame with symbol errors" : "frame";
  return o.error.substr(0, o.error.find_first_of("0123456789("));
}

// Bit-level writer, to put frames, idle and garbage at arbitrary bit offsets.
struct BitWriter {
  Bytes bytes;
  size_t n = 0;
  void bit(bool v) {
    if (n % 8 == 0) bytes.push_back(0);
    if (v) bytes.back() |= static_cast<uint8_t>(0x80 >> (n % 8));
    ++n;
  }
  void bits(uint64_t v, unsigned count) {
    for (unsigned i = count; i-- > 0;) bit((v >> i) & 1);
  }
  void run(bool v, size_t count) {
    for (size_t i = 0; i < count; ++i) bit(v);
  }
  void line(const Bytes& b, size_t nbits) {
    for (size_t i = 0; i < nbits; ++i) bit((b[i / 8] >> (7 - i % 8)) & 1);
  }
  // Completes the last byte with idle 1 bits.
  Bytes finish() const {
    Bytes b = bytes;
    if (n % 8) b.back() |= static_cast<uint8_t>(0xff >> (n % 8));
    return b;
  }
};

void flip(Bytes& b, size_t bit) { b[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8)); }

// Frame lengths: mostly short (cheap, and every damage lands near the edges), some long.
size_t random_len(Rng& rng) {
  switch (rng.uniform_int(0, 9)) {
    case 0: return rng.uniform_int(0, 3);
    case 1: return rng.uniform_int(1400, 1600);
    case 2:
    case 3: return rng.uniform_int(0, 1600);
    default: return rng.uniform_int(0, 120);
  }
}

// Damages the line bits of one frame (`nbits` bits in `b`) in place; may change nbits.
void damage(Rng& rng, Bytes& b, size_t& nbits) {
  const int kind = static_cast<int>(rng.uniform_int(0, 11));
  auto anywhere = [&] { return static_cast<size_t>(rng.uniform_int(0, nbits - 1)); };
  switch (kind) {
    case 0: break;  // clean
    case 1: flip(b, anywhere()); break;
    case 2: flip(b, rng.uniform_int(0, 9)); break;                 // J K
    case 3: flip(b, rng.uniform_int(10, 79)); break;               // preamble / SFD
    case 4: flip(b, rng.uniform_int(nbits - 10, nbits - 1)); break;  // T R
    case 5: {  // several flips anywhere
      const int k = static_cast<int>(rng.uniform_int(2, 6));
      for (int i = 0; i < k; ++i) flip(b, anywhere());
      break;
    }
    case 6: {  // a short burst of flips
      const size_t at = anywhere();
      const size_t len = rng.uniform_int(1, 12);
      for (size_t i = at; i < std::min(nbits, at + len); ++i)
        if (rng.uniform_int(0, 1)) flip(b, i);
      break;
    }
    case 7: {  // two flips in one pair of the data
      if (nbits > 100) {
        const size_t pair = rng.uniform_int(8, nbits / 10 - 2);
        flip(b, 10 * pair + rng.uniform_int(0, 9));
        flip(b, 10 * pair + rng.uniform_int(0, 9));
      }
      break;
    }
    case 8: nbits = rng.uniform_int(0, nbits); break;  // truncation
    case 9: {  // J K + 55 injected mid-frame at any bit offset
      if (nbits >= 40) {
        const size_t at = rng.uniform_int(0, nbits - 20);
        const uint32_t start = (kJK << 10) | k55;
        for (unsigned i = 0; i < 20; ++i) {
          const bool v = (start >> (19 - i)) & 1;
          const bool cur = (b[(at + i) / 8] >> (7 - (at + i) % 8)) & 1;
          if (v != cur) flip(b, at + i);
        }
      }
      break;
    }
    case 10: {  // idle inserted: ten or more 1 bits overwrite part of the frame
      const size_t at = anywhere();
      const size_t len = rng.uniform_int(5, 25);
      for (size_t i = at; i < std::min(nbits, at + len); ++i)
        if (!((b[i / 8] >> (7 - i % 8)) & 1)) flip(b, i);
      break;
    }
    default: {  // a data pair replaced by a random 10-bit value
      if (nbits > 100) {
        const size_t pair = rng.uniform_int(8, nbits / 10 - 1);
        const uint64_t v = rng.uniform_int(0, 1023);
        for (unsigned i = 0; i < 10; ++i) {
          const size_t at = 10 * pair + i;
          const bool want = (v >> (9 - i)) & 1;
          if (want != (((b[at / 8] >> (7 - at % 8)) & 1) != 0)) flip(b, at);
        }
      }
      break;
    }
  }
}

// Garbage between frames: random bits, runs of 1s (idle) and 0s, false starts.
void garbage(Rng& rng, BitWriter& w) {
  const int parts = static_cast<int>(rng.uniform_int(1, 4));
  for (int p = 0; p < parts; ++p) {
    switch (rng.uniform_int(0, 8)) {
      case 0: w.run(true, rng.uniform_int(1, 200)); break;
      case 1: w.run(false, rng.uniform_int(1, 200)); break;
      case 2:
        for (size_t i = 0, n = rng.uniform_int(1, 300); i < n; ++i) w.bit(rng.next_u64() & 1);
        break;
      case 3: w.bits(kJK, 10); break;  // a bare J K
      case 4:                          // J K + 55, then not a preamble
        w.bits((kJK << 10) | k55, 20);
        for (size_t i = 0, n = rng.uniform_int(0, 70); i < n; ++i) w.bit(rng.next_u64() & 1);
        break;
      case 5:  // repeated J-like patterns
        for (size_t i = 0, n = rng.uniform_int(1, 8); i < n; ++i) w.bits(0b11000, 5);
        break;
      case 6: w.run(true, rng.uniform_int(0, 7)); break;  // a LineEncoder pad
      case 7:                                             // idle with a single 0 in it
        w.run(true, rng.uniform_int(0, 80));
        w.bit(false);
        w.run(true, rng.uniform_int(0, 80));
        break;
      default:                                            // alternating runs
        for (size_t i = 0, n = rng.uniform_int(1, 6); i < n; ++i) w.run(i % 2, rng.uniform_int(1, 20));
        break;
    }
  }
}

// A damaged frame burst as decode_frame sees it; the bits past nbits are idle, or random
// (they must be ignored), and the buffer may be longer than needed.
struct Burst {
  l1::LineBits lb;
  Bytes frame;
};

Burst make_burst(Rng& rng) {
  Burst b;
  b.frame = random_bytes(rng, random_len(rng));
  ref::encode_frame(b.frame, b.lb);
  damage(rng, b.lb.bits, b.lb.nbits);
  b.lb.bits.resize((b.lb.nbits + 7) / 8);
  if (b.lb.nbits % 8) b.lb.bits.back() |= static_cast<uint8_t>(0xff >> (b.lb.nbits % 8));
  switch (rng.uniform_int(0, 5)) {
    case 0:
      if (b.lb.nbits % 8) b.lb.bits.back() ^= static_cast<uint8_t>(rng.next_u64() & (0xff >> (b.lb.nbits % 8)));
      break;
    case 1: {
      const Bytes extra = random_bytes(rng, rng.uniform_int(1, 20));
      b.lb.bits.insert(b.lb.bits.end(), extra.begin(), extra.end());
      break;
    }
    default: break;
  }
  return b;
}

// Feeds `s` to both decoders in the same random chunks and compares everything after
// every call. Returns the new decoder's events.
std::vector<Outcome> compare_stream(const Bytes& s, size_t max_frame_len, Rng& rng, int chunk_mode) {
  l1::LineDecoder dut(max_frame_len);
  ref::LineDecoder want(max_frame_len);
  std::vector<Outcome> events;
  size_t i = 0;
  while (i < s.size()) {
    size_t n = 0;
    switch (chunk_mode) {
      case 0: n = s.size(); break;
      case 1: n = 1; break;
      case 2: n = rng.uniform_int(1, 16); break;
      default: n = rng.uniform_int(1, 3000); break;
    }
    n = std::min(n, s.size() - i);
    const ByteView chunk(s.data() + i, n);
    dut.feed(chunk);
    want.feed(chunk);
    i += n;
    REQUIRE(dut.buffered_bytes() == want.buffered_bytes());
    // Usually drain after each feed; sometimes feed more before polling.
    if (i < s.size() && rng.uniform_int(0, 7) == 0) continue;
    for (;;) {
      auto a = dut.poll();
      auto b = want.poll();
      REQUIRE(a.has_value() == b.has_value());
      CHECK(dut.bits_discarded() == want.bits_discarded());
      CHECK(dut.buffered_bytes() == want.buffered_bytes());
      CHECK(dut.in_frame() == want.in_frame());
      if (!a) break;
      const Outcome oa = outcome(*a), ob = outcome(*b);
      CAPTURE(events.size());
      CAPTURE(describe(oa));
      CAPTURE(describe(ob));
      REQUIRE(oa == ob);
      events.push_back(oa);
    }
  }
  return events;
}

}  // namespace

TEST_CASE("differential: encode_frame and LineEncoder give the reference's bits") {
  MESSAGE("AVX-512 VBMI loops in use: " << l1::line_code_uses_vector()
                                        << (std::getenv("MZ_NO_AVX512") != nullptr ? " (MZ_NO_AVX512 is set)" : ""));
  Rng rng(0xE1);
  l1::LineBits a, b;
  l1::LineEncoder ea;
  ref::LineEncoder eb;
  Bytes sa, sb;
  for (size_t len = 0; len <= 1600; ++len) {
    const Bytes frame = random_bytes(rng, len);
    l1::encode_frame(frame, a);
    ref::encode_frame(frame, b);
    REQUIRE(a.nbits == b.nbits);
    REQUIRE(a.bits == b.bits);
    ea.encode(frame, sa);
    eb.encode(frame, sb);
    if (len % 100 == 0) {  // also appending to a non-empty, odd-sized buffer
      sa.push_back(static_cast<uint8_t>(len));
      sb.push_back(static_cast<uint8_t>(len));
    }
  }
  CHECK(sa == sb);
  CHECK(ea.frames() == eb.frames());
  CHECK(ea.line_bits() == eb.line_bits());
  // A LineBits that held a longer frame before (capacity reuse, stale bytes).
  l1::LineBits big;
  l1::encode_frame(random_bytes(rng, 1600), big);
  for (size_t len : {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 9u, 13u, 64u}) {
    const Bytes frame = random_bytes(rng, len);
    l1::encode_frame(frame, big);
    ref::encode_frame(frame, b);
    CHECK(big.nbits == b.nbits);
    CHECK(big.bits == b.bits);
  }
}

TEST_CASE("differential: decode_frame on damaged bursts") {
  Rng rng(0xD1);
  int ok = 0, failed = 0, with_symbol_errors = 0;
  std::map<std::string, int> kinds;
  for (int i = 0; i < 20000; ++i) {
    const Burst b = make_burst(rng);
    const Outcome got = outcome(l1::decode_frame(b.lb));
    const Outcome want = outcome(ref::decode_frame(b.lb));
    CAPTURE(i);
    CAPTURE(describe(got));
    CAPTURE(describe(want));
    REQUIRE(got == want);
    kinds[kind(got)]++;
    (got.ok ? ok : failed)++;
    if (got.ok && got.symbol_errors) ++with_symbol_errors;
  }
  CHECK(ok > 3000);
  CHECK(failed > 3000);
  CHECK(with_symbol_errors > 1000);
  for (const auto& [k, n] : kinds) MESSAGE(k << ": " << n);
  CHECK(kinds.size() == 7);  // the two kinds of frame and the five errors of a good buffer
}

TEST_CASE("differential: decode_frame on random and truncated input") {
  Rng rng(0xD2);
  for (int i = 0; i < 4000; ++i) {
    l1::LineBits lb;
    const size_t n = rng.uniform_int(0, 40);
    lb.bits = random_bytes(rng, n);
    lb.nbits = n ? rng.uniform_int(0, 8 * n) : 0;
    if (i % 2 && n >= 2) {  // a good J K and part of the preamble, so decoding goes deeper
      l1::LineBits head;
      ref::encode_frame(random_bytes(rng, n), head);
      const size_t keep = rng.uniform_int(10, std::min<size_t>(8 * n, 200));
      for (size_t k = 0; k < keep; ++k)
        if (((head.bits[k / 8] ^ lb.bits[k / 8]) >> (7 - k % 8)) & 1) flip(lb.bits, k);
    }
    if (i % 5 == 0 && n) lb.bits.resize(rng.uniform_int(0, n));  // shorter than nbits
    CAPTURE(i);
    REQUIRE(outcome(l1::decode_frame(lb)) == outcome(ref::decode_frame(lb)));
  }
  // Clean frames of every length cut at every bit past the preamble of a few of them.
  for (size_t len : {0u, 1u, 2u, 3u, 4u, 5u, 8u, 9u, 31u}) {
    l1::LineBits full;
    ref::encode_frame(random_bytes(rng, len), full);
    for (size_t k = 0; k <= full.nbits; ++k) {
      l1::LineBits t{Bytes(full.bits.begin(), full.bits.begin() + static_cast<std::ptrdiff_t>((k + 7) / 8)), k};
      CAPTURE(len);
      CAPTURE(k);
      REQUIRE(outcome(l1::decode_frame(t)) == outcome(ref::decode_frame(t)));
    }
  }
}

TEST_CASE("differential: every pair value at every position of a short frame") {
  // Covers each position of a pair inside the decoder's multi-pair steps.
  Rng rng(0xD3);
  for (size_t len : {1u, 5u, 13u}) {
    const Bytes frame = random_bytes(rng, len);
    l1::LineBits clean;
    ref::encode_frame(frame, clean);
    for (size_t pair = 8; pair < clean.nbits / 10; ++pair) {
      for (uint32_t v = 0; v < 1024; ++v) {
        l1::LineBits x = clean;
        for (unsigned i = 0; i < 10; ++i) {
          const size_t at = 10 * pair + i;
          if (((v >> (9 - i)) & 1) != ((x.bits[at / 8] >> (7 - at % 8)) & 1)) flip(x.bits, at);
        }
        CAPTURE(len);
        CAPTURE(pair);
        CAPTURE(v);
        REQUIRE(outcome(l1::decode_frame(x)) == outcome(ref::decode_frame(x)));
      }
    }
  }
}

TEST_CASE("differential: LineDecoder on damaged streams in random chunks") {
  Rng rng(0x5D);
  std::map<std::string, int> kinds;
  for (int trial = 0; trial < 600; ++trial) {
    BitWriter w;
    const int nframes = static_cast<int>(rng.uniform_int(1, 12));
    for (int f = 0; f < nframes; ++f) {
      if (rng.uniform_int(0, 2) == 0) garbage(rng, w);
      if (rng.uniform_int(0, 3) == 0) w.run(true, rng.uniform_int(0, 7));
      const Bytes frame = random_bytes(rng, random_len(rng));
      l1::LineBits lb;
      ref::encode_frame(frame, lb);
      damage(rng, lb.bits, lb.nbits);
      w.line(lb.bits, lb.nbits);
    }
    if (rng.uniform_int(0, 1)) w.run(true, rng.uniform_int(0, 64));
    const Bytes s = w.finish();
    size_t max_len = 16384;
    switch (rng.uniform_int(0, 5)) {
      case 0: max_len = rng.uniform_int(0, 4); break;
      case 1: max_len = rng.uniform_int(5, 1600); break;
      default: break;
    }
    const int mode = static_cast<int>(rng.uniform_int(0, 3));
    CAPTURE(trial);
    CAPTURE(max_len);
    CAPTURE(mode);
    const auto got = compare_stream(s, max_len, rng, mode);
    // Chunk invariance of the new decoder, whatever the reference does.
    if (mode != 0) CHECK(compare_stream(s, max_len, rng, 0) == got);
    for (const auto& o : got) kinds[kind(o)]++;
  }
  size_t events = 0;
  for (const auto& [k, n] : kinds) {
    MESSAGE(k << ": " << n);
    events += static_cast<size_t>(n);
  }
  CHECK(events > 2000);
  CHECK(kinds.size() == 7);  // the two kinds of frame and the five stream errors
}

TEST_CASE("differential: LineDecoder on a single 0 bit in idle before a frame") {
  // Whether the bits skipped before a start were all idle decides the garbage report.
  Rng rng(0x0B);
  l1::LineBits lb;
  ref::encode_frame(random_bytes(rng, 20), lb);
  for (size_t before = 0; before < 80; ++before) {
    for (size_t after = 0; after < 80; after += 1 + before % 3) {
      BitWriter w;
      w.run(true, before);
      w.bit(false);
      w.run(true, after);
      w.line(lb.bits, lb.nbits);
      w.run(true, 16);
      CAPTURE(before);
      CAPTURE(after);
      const auto got = compare_stream(w.finish(), 16384, rng, static_cast<int>(rng.uniform_int(0, 3)));
      CHECK(!got.empty());
    }
  }
}

TEST_CASE("differential: LineDecoder on long idle and zero runs and pure garbage") {
  Rng rng(0x6A);
  for (int trial = 0; trial < 120; ++trial) {
    BitWriter w;
    for (int p = 0, parts = static_cast<int>(rng.uniform_int(1, 30)); p < parts; ++p) {
      switch (rng.uniform_int(0, 4)) {
        case 0: w.run(true, rng.uniform_int(0, 3000)); break;
        case 1: w.run(false, rng.uniform_int(0, 3000)); break;
        case 2: garbage(rng, w); break;
        case 3: {
          l1::LineBits lb;
          ref::encode_frame(random_bytes(rng, rng.uniform_int(0, 100)), lb);
          w.line(lb.bits, lb.nbits);
          break;
        }
        default:
          for (size_t i = 0, n = rng.uniform_int(0, 2000); i < n; ++i) w.bit(rng.next_u64() & 1);
          break;
      }
    }
    CAPTURE(trial);
    compare_stream(w.finish(), rng.uniform_int(0, 1) ? 16384 : 64, rng, static_cast<int>(rng.uniform_int(0, 3)));
  }
}
