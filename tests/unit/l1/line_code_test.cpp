#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l1/bit_errors.hpp"
#include "megzawicol/l1/line_code.hpp"

using namespace mz;
using namespace mz::l1;

namespace {

// Table 24-1, written out again here so the tests do not trust the implementation's copy.
const std::array<const char*, 16> kGroups = {"11110", "01001", "10100", "10101", "01010", "01011",
                                             "01110", "01111", "10010", "10011", "10110", "10111",
                                             "11010", "11011", "11100", "11101"};
constexpr uint32_t kJK = 0b1100010001, kTR = 0b0110100111, kII = 0b1111111111;

uint32_t group(int nibble) { return static_cast<uint32_t>(std::stoul(kGroups[nibble], nullptr, 2)); }
uint32_t pair_of(uint32_t a, uint32_t b) { return (a << 5) | b; }
uint32_t byte_pair(uint8_t b) { return pair_of(group(b & 15), group(b >> 4)); }

std::string bit_string(const LineBits& lb) {
  std::string s;
  for (size_t i = 0; i < lb.nbits; ++i) s += ((lb.bits[i / 8] >> (7 - i % 8)) & 1) ? '1' : '0';
  return s;
}

// Bit-level writer, to build streams with frames at arbitrary bit offsets.
struct BitWriter {
  Bytes bytes;
  size_t n = 0;
  void bit(bool v) {
    if (n % 8 == 0) bytes.push_back(0);
    if (v) bytes.back() |= static_cast<uint8_t>(0x80 >> (n % 8));
    ++n;
  }
  void bits(uint32_t v, unsigned count) {
    for (unsigned i = count; i-- > 0;) bit((v >> i) & 1);
  }
  void line(const LineBits& lb) {
    for (size_t i = 0; i < lb.nbits; ++i) bit((lb.bits[i / 8] >> (7 - i % 8)) & 1);
  }
  void random_bits(Rng& rng, size_t count) {
    for (size_t i = 0; i < count; ++i) bit(rng.next_u64() & 1);
  }
  // Completes the last byte with idle 1 bits.
  Bytes finish() const {
    Bytes b = bytes;
    if (n % 8) b.back() |= static_cast<uint8_t>(0xff >> (n % 8));
    return b;
  }
  LineBits as_line() const { return LineBits{finish(), n}; }
};

// A burst: J K, preamble, SFD, then the given 10-bit pairs (caller adds T R if wanted).
LineBits burst_of_pairs(const std::vector<uint32_t>& pairs) {
  BitWriter w;
  w.bits(kJK, 10);
  for (int i = 0; i < 6; ++i) w.bits(byte_pair(0x55), 10);
  w.bits(byte_pair(0xD5), 10);
  for (uint32_t p : pairs) w.bits(p, 10);
  return w.as_line();
}

Bytes random_bytes(Rng& rng, size_t n) {
  Bytes b(n);
  if (n) rng.fill(b.data(), n);
  return b;
}

// One decoder result, comparable.
struct Outcome {
  bool ok = false;
  Bytes frame;
  uint32_t symbol_errors = 0;
  uint32_t first_bad = 0;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

Outcome outcome(const Result<DecodedFrame>& r) {
  Outcome o;
  o.ok = r.ok();
  if (r.ok()) {
    o.frame = r->frame;
    o.symbol_errors = r->symbol_errors;
    o.first_bad = r->first_bad_symbol;
  } else {
    o.error = r.error().message;
  }
  return o;
}

void drain(LineDecoder& d, std::vector<Outcome>& out) {
  while (auto r = d.poll()) out.push_back(outcome(*r));
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

}  // namespace

TEST_CASE("line bits per frame") {
  CHECK(line_bits_for_frame(0) == 90);
  CHECK(line_bits_for_frame(1) == 100);
  CHECK(line_bits_for_frame(64) == 730);
  CHECK(line_bits_for_frame(1518) == 15270);
  Rng rng(1);
  LineBits lb;
  for (size_t len : {0u, 1u, 2u, 3u, 4u, 5u, 60u, 1518u}) {
    encode_frame(random_bytes(rng, len), lb);
    CHECK(lb.nbits == line_bits_for_frame(len));
    CHECK(lb.bits.size() == (lb.nbits + 7) / 8);
  }
}

TEST_CASE("encoding of the 1-byte frame 0x0F, worked out by hand from table 24-1") {
  // J K | 55 x6 (low nibble 5 = 01011, high nibble 5 = 01011) | D5 (5 = 01011, D = 11011)
  //     | 0F (F = 11101, then 0 = 11110) | T R
  const std::string expected = std::string("11000") + "10001" +                     // J K
                               "0101101011" "0101101011" "0101101011"               // 55 55 55
                               "0101101011" "0101101011" "0101101011" +             // 55 55 55
                               "01011" "11011" +                                    // D5
                               "11101" "11110" +                                    // 0F
                               "01101" "00111";                                     // T R
  REQUIRE(expected.size() == 100);
  LineBits lb;
  const Bytes frame = {0x0F};
  encode_frame(frame, lb);
  REQUIRE(lb.nbits == 100);
  CHECK(bit_string(lb) == expected);
  CHECK(bit_string(lb).substr(0, 10) == "1100010001");
  // Packed MSB first; the 4 bits after the 100th are idle 1s.
  const Bytes packed = {0xC4, 0x56, 0xB5, 0xAD, 0x6B, 0x5A, 0xD6, 0xB5, 0xAD, 0x7B, 0xEF, 0x9A, 0x7F};
  CHECK(lb.bits == packed);

  auto d = decode_frame(lb);
  REQUIRE(d.ok());
  CHECK(d->frame == frame);
  CHECK(d->symbol_errors == 0);
}

TEST_CASE("encode_frame reuses the output's capacity") {
  Rng rng(2);
  LineBits lb;
  encode_frame(random_bytes(rng, 1500), lb);
  const auto* data = lb.bits.data();
  const size_t cap = lb.bits.capacity();
  for (size_t len : {0u, 10u, 700u, 1500u}) {
    encode_frame(random_bytes(rng, len), lb);
    CHECK(lb.bits.data() == data);
    CHECK(lb.bits.capacity() == cap);
  }
}

TEST_CASE("round trip of random frames of every length 0..1600") {
  Rng rng(0x11);
  LineBits lb;
  for (size_t len = 0; len <= 1600; ++len) {
    const Bytes frame = random_bytes(rng, len);
    encode_frame(frame, lb);
    // The pad bits of the last byte are idle 1s.
    const unsigned pad_mask = 0xffu >> (lb.nbits % 8);
    if (lb.nbits % 8) CHECK((lb.bits.back() & pad_mask) == pad_mask);
    auto d = decode_frame(lb);
    REQUIRE(d.ok());
    CHECK(d->frame == frame);
    CHECK(d->symbol_errors == 0);
  }
}

TEST_CASE("every 10-bit pair inside a frame decodes as documented") {
  std::array<int, 32> nib{};
  nib.fill(-1);
  for (int v = 0; v < 16; ++v) nib[group(v)] = v;
  int data = 0, bad = 0;
  for (uint32_t w = 0; w < 1024; ++w) {
    CAPTURE(w);
    const uint8_t before = 0xA7, after = 0x3C;
    auto d = decode_frame(burst_of_pairs({byte_pair(before), w, byte_pair(after), kTR}));
    const int lo = nib[w >> 5], hi = nib[w & 31];
    if (w == kTR) {  // an early T R ends the frame; what follows is ignored
      REQUIRE(d.ok());
      CHECK(d->frame == Bytes{before});
      CHECK(d->symbol_errors == 0);
    } else if (w == kII) {
      REQUIRE(!d.ok());
      CHECK(d.error().message == "premature end of stream (IDLE inside frame)");
    } else {
      REQUIRE(d.ok());
      const uint8_t byte = static_cast<uint8_t>(((hi < 0 ? 0 : hi) << 4) | (lo < 0 ? 0 : lo));
      CHECK(d->frame == Bytes{before, byte, after});
      const uint32_t nbad = (lo < 0) + (hi < 0);
      CHECK(d->symbol_errors == nbad);
      if (nbad) CHECK(d->first_bad_symbol == (lo < 0 ? 2u : 3u));
      (nbad ? bad : data)++;
    }
  }
  CHECK(data == 256);
  CHECK(bad == 1024 - 256 - 2);
}

TEST_CASE("control symbols inside a frame") {
  const uint32_t kT = 0b01101, kR = 0b00111, kI = 0b11111, kJ = 0b11000, kK = 0b10001;
  SUBCASE("a lone T, R, J, K or I is a symbol error decoded as nibble 0") {
    for (uint32_t c : {kT, kR, kJ, kK, kI}) {
      auto d = decode_frame(burst_of_pairs({byte_pair(0x12), pair_of(c, group(5)), pair_of(group(3), c),
                                            byte_pair(0x34), kTR}));
      REQUIRE(d.ok());
      CHECK(d->frame == Bytes{0x12, 0x50, 0x03, 0x34});
      CHECK(d->symbol_errors == 2);
      CHECK(d->first_bad_symbol == 2);
    }
  }
  SUBCASE("T R ends the frame early; the rest of the burst is ignored") {
    auto d = decode_frame(burst_of_pairs({byte_pair(0x12), kTR, byte_pair(0x34), kTR}));
    REQUIRE(d.ok());
    CHECK(d->frame == Bytes{0x12});
  }
  SUBCASE("I I is a premature end of stream") {
    auto d = decode_frame(burst_of_pairs({byte_pair(0x12), kII, byte_pair(0x34), kTR}));
    REQUIRE(!d.ok());
    CHECK(d.error().message == "premature end of stream (IDLE inside frame)");
  }
  SUBCASE("J K followed by a preamble pair starts a new frame; a bare J K is two symbol errors") {
    auto d = decode_frame(burst_of_pairs({byte_pair(0x12), kJK, byte_pair(0x55), kTR}));
    REQUIRE(!d.ok());
    CHECK(starts_with(d.error().message, "start-of-stream delimiter inside frame"));
    auto e = decode_frame(burst_of_pairs({byte_pair(0x12), kJK, byte_pair(0x56), kTR}));
    REQUIRE(e.ok());
    CHECK(e->frame == Bytes{0x12, 0x00, 0x56});
    CHECK(e->symbol_errors == 2);
  }
  SUBCASE("a damaged T R followed by the next frame at any bit offset") {
    Rng rng(5);
    const Bytes a = random_bytes(rng, 40), b = random_bytes(rng, 30);
    LineBits la, lb;
    encode_frame(a, la);
    encode_frame(b, lb);
    for (unsigned pad = 0; pad < 40; ++pad) {
      CAPTURE(pad);
      BitWriter w;
      w.line(la);
      // Damage T R: flip the first bit of T and the last of R (T -> 11101 = F, R -> 00110).
      const size_t t = la.nbits - 10;
      w.bytes[t / 8] ^= static_cast<uint8_t>(0x80 >> (t % 8));
      w.bytes[(t + 9) / 8] ^= static_cast<uint8_t>(0x80 >> ((t + 9) % 8));
      for (unsigned k = 0; k < pad; ++k) w.bit(true);  // idle
      w.line(lb);
      // Up to 7 idle bits, the new J K overlaps the damaged pair or the next one; from 8 on,
      // the pair after the damaged one is ten 1s (idle, then the 11 of J): I I.
      const std::string expected = pad < 8 ? "start-of-stream delimiter inside frame"
                                           : "premature end of stream (IDLE inside frame)";
      auto burst = decode_frame(w.as_line());
      REQUIRE(!burst.ok());
      CHECK(starts_with(burst.error().message, expected));

      LineDecoder dec;
      Bytes s = w.finish();
      s.insert(s.end(), 8, 0xff);
      dec.feed(s);
      std::vector<Outcome> got;
      drain(dec, got);
      REQUIRE(got.size() == 2);
      CHECK(starts_with(got[0].error, expected));
      CHECK(got[1].ok);
      CHECK(got[1].frame == b);
    }
  }
}

TEST_CASE("burst framing errors") {
  LineBits lb;
  encode_frame(Bytes{1, 2, 3}, lb);
  SUBCASE("no J K") {
    LineBits x = lb;
    x.bits[0] ^= 0x40;
    auto d = decode_frame(x);
    REQUIRE(!d.ok());
    CHECK(d.error().message == "no start-of-stream delimiter (J/K)");
    CHECK(decode_frame(LineBits{}).error().message == "no start-of-stream delimiter (J/K)");
  }
  SUBCASE("no T R") {
    LineBits x = lb;
    x.nbits -= 10;
    auto d = decode_frame(x);
    REQUIRE(!d.ok());
    CHECK(d.error().message == "no end-of-stream delimiter (T/R)");
  }
  SUBCASE("bad preamble or SFD") {
    for (size_t bit : {size_t{10}, size_t{45}, size_t{79}}) {
      LineBits x = lb;
      x.bits[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
      auto d = decode_frame(x);
      REQUIRE(!d.ok());
      CHECK(d.error().message == "bad preamble/SFD");
    }
  }
  SUBCASE("buffer shorter than nbits") {
    LineBits x = lb;
    x.bits.resize(3);
    CHECK(!decode_frame(x).ok());
  }
}

TEST_CASE("a single flipped bit never goes unnoticed") {
  Rng rng(0x5eed);
  int errors = 0, symbol_errors = 0, different = 0;
  for (size_t len : {0u, 1u, 2u, 7u, 64u, 301u}) {
    const Bytes frame = random_bytes(rng, len);
    LineBits clean;
    encode_frame(frame, clean);
    for (size_t bit = 0; bit < clean.nbits; ++bit) {
      CAPTURE(len);
      CAPTURE(bit);
      LineBits x = clean;
      x.bits[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
      auto d = decode_frame(x);
      if (!d.ok()) {
        ++errors;
      } else if (d->symbol_errors > 0) {
        ++symbol_errors;
        CHECK(d->first_bad_symbol == (bit - 80) / 5);
      } else {
        // The flip made another valid data group: the bytes must differ.
        CHECK(d->frame != frame);
        ++different;
      }
    }
  }
  CHECK(errors > 0);
  CHECK(symbol_errors > 0);
  CHECK(different > 0);
}

TEST_CASE("truncated and random input never crashes") {
  Rng rng(77);
  const Bytes frame = random_bytes(rng, 100);
  LineBits full;
  encode_frame(frame, full);
  for (size_t k = 0; k < full.nbits; ++k) {
    LineBits t{full.bits, k};
    CHECK(!decode_frame(t).ok());
    t.bits.resize((k + 7) / 8);
    CHECK(!decode_frame(t).ok());
  }
  LineDecoder dec(64);
  std::vector<Outcome> sink;
  for (int i = 0; i < 5000; ++i) {
    const size_t n = rng.uniform_int(0, 300);
    LineBits g{random_bytes(rng, n), 0};
    g.nbits = n ? rng.uniform_int(0, 8 * n) : 0;
    if (i % 2 && n >= 10) {  // a valid start, so decoding goes deeper
      LineBits head;
      encode_frame(Bytes{}, head);
      const size_t keep = rng.uniform_int(10, 80);
      std::copy(head.bits.begin(), head.bits.begin() + static_cast<std::ptrdiff_t>(keep / 8), g.bits.begin());
    }
    auto d = decode_frame(g);
    if (d.ok()) CHECK(d->frame.size() <= n);
    dec.feed(g.bits);
    drain(dec, sink);
  }
  CHECK(dec.buffered_bytes() < 400);
}

TEST_CASE("LineEncoder pads to a byte boundary with idle and LineDecoder recovers every frame") {
  Rng rng(3);
  LineEncoder enc;
  Bytes stream;
  std::vector<Bytes> frames;
  uint64_t pad_bits = 0;
  for (int i = 0; i < 50; ++i) {
    frames.push_back(random_bytes(rng, rng.uniform_int(0, 300)));
    const size_t before = stream.size();
    enc.encode(frames.back(), stream);
    const size_t nbits = line_bits_for_frame(frames.back().size());
    CHECK(stream.size() - before == (nbits + 7) / 8);
    LineBits lb;
    encode_frame(frames.back(), lb);
    CHECK(std::equal(lb.bits.begin(), lb.bits.end(), stream.begin() + static_cast<std::ptrdiff_t>(before)));
    pad_bits += (8 - nbits % 8) % 8;
  }
  CHECK(enc.frames() == 50);
  stream.insert(stream.end(), 4, 0xff);  // trailing idle (lets the decoder skip the last pad)
  LineDecoder dec;
  dec.feed(stream);
  std::vector<Outcome> got;
  drain(dec, got);
  REQUIRE(got.size() == frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    CHECK(got[i].ok);
    CHECK(got[i].frame == frames[i]);
  }
  CHECK(dec.bits_discarded() >= pad_bits);
  CHECK(dec.bits_discarded() <= pad_bits + 32);
  CHECK(!dec.in_frame());
}

namespace {

// 200 frames with idle and garbage between them, at arbitrary bit offsets.
struct TestStream {
  Bytes bytes;
  std::vector<Bytes> frames;
  int garbage_runs = 0;
};

TestStream make_stream(uint64_t seed, double ber, size_t max_len) {
  Rng rng(seed);
  BitErrorInjector noise(ber, Rng(seed + 1));
  TestStream ts;
  BitWriter w;
  LineBits lb;
  for (int i = 0; i < 200; ++i) {
    switch (rng.uniform_int(0, 3)) {
      case 0: break;
      case 1: w.bits(0xffffffff, static_cast<unsigned>(rng.uniform_int(1, 32))); break;
      default:
        w.random_bits(rng, rng.uniform_int(1, 300));
        ++ts.garbage_runs;
        break;
    }
    ts.frames.push_back(random_bytes(rng, rng.uniform_int(0, max_len)));
    encode_frame(ts.frames.back(), lb);
    noise.apply(lb.bits.data(), lb.nbits);
    w.line(lb);
  }
  w.bits(0xffffffff, 32);
  ts.bytes = w.finish();
  return ts;
}

std::vector<Outcome> decode_in_chunks(const Bytes& s, size_t max_frame_len, Rng* rng, size_t fixed,
                                      uint64_t* discarded = nullptr, size_t* peak = nullptr) {
  LineDecoder dec(max_frame_len);
  std::vector<Outcome> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t n = rng ? static_cast<size_t>(rng->uniform_int(1, 3000)) : fixed;
    n = std::min(n, s.size() - i);
    dec.feed(ByteView(s.data() + i, n));
    if (peak) *peak = std::max(*peak, dec.buffered_bytes());
    drain(dec, out);
    i += n;
  }
  if (discarded) *discarded = dec.bits_discarded();
  return out;
}

}  // namespace

TEST_CASE("LineDecoder delivers every frame of a clean stream with garbage between frames") {
  const TestStream ts = make_stream(42, 0.0, 1600);
  const auto got = decode_in_chunks(ts.bytes, 16384, nullptr, ts.bytes.size());
  std::vector<Bytes> frames;
  int garbage = 0;
  for (const auto& o : got) {
    if (o.ok) {
      CHECK(o.symbol_errors == 0);
      frames.push_back(o.frame);
    } else if (starts_with(o.error, "garbage on line")) {
      ++garbage;
    } else {
      CHECK(o.error == "bad preamble/SFD");  // a false J K in the garbage
    }
  }
  CHECK(frames == ts.frames);
  CHECK(garbage > 0);
  CHECK(garbage <= ts.garbage_runs);
}

TEST_CASE("LineDecoder results do not depend on chunking") {
  for (double ber : {0.0, 2e-5, 3e-4}) {
    CAPTURE(ber);
    const TestStream ts = make_stream(7 + static_cast<uint64_t>(ber * 1e6), ber, 1600);
    uint64_t d_whole = 0, d_one = 0, d_rand = 0;
    size_t peak = 0;
    const auto whole = decode_in_chunks(ts.bytes, 1200, nullptr, ts.bytes.size(), &d_whole);
    const auto one = decode_in_chunks(ts.bytes, 1200, nullptr, 1, &d_one, &peak);
    Rng chunk_rng(99);
    const auto random = decode_in_chunks(ts.bytes, 1200, &chunk_rng, 0, &d_rand);
    CHECK(whole.size() > 150);
    CHECK(one == whole);
    CHECK(random == whole);
    CHECK(d_one == d_whole);
    CHECK(d_rand == d_whole);
    CHECK(peak <= 1200 + 16);
    // Some frames are longer than 1200 bytes: they must be reported and skipped.
    const auto too_long = std::count_if(whole.begin(), whole.end(), [](const Outcome& o) {
      return starts_with(o.error, "frame longer than max_frame_len");
    });
    const auto long_frames = std::count_if(ts.frames.begin(), ts.frames.end(),
                                           [](const Bytes& f) { return f.size() > 1200; });
    CHECK(too_long > 0);
    if (ber == 0.0) CHECK(too_long == long_frames);
    std::map<std::string, int> kinds;
    for (const auto& o : whole)
      kinds[o.ok ? (o.symbol_errors ? "frame with symbol errors" : "frame") : o.error.substr(0, o.error.find_first_of(":("))]++;
    for (const auto& [k, n] : kinds) MESSAGE(k << ": " << n);
    if (ber > 1e-4) CHECK(kinds["frame with symbol errors"] > 0);
  }
}

TEST_CASE("LineDecoder: frame longer than max_frame_len, then resynchronisation") {
  Rng rng(8);
  const Bytes a = random_bytes(rng, 100), b = random_bytes(rng, 101), c = random_bytes(rng, 60);
  LineEncoder enc;
  Bytes s;
  enc.encode(a, s);
  enc.encode(b, s);
  enc.encode(c, s);
  s.insert(s.end(), 4, 0xff);
  LineDecoder dec(100);
  dec.feed(s);
  std::vector<Outcome> got;
  drain(dec, got);
  REQUIRE(got.size() == 3);
  CHECK(got[0].frame == a);
  CHECK(got[1].error == "frame longer than max_frame_len (100 bytes)");
  CHECK(got[2].frame == c);
}

TEST_CASE("LineDecoder memory stays bounded") {
  Rng rng(9);
  const size_t max_len = 16384, chunk = 4096;
  const size_t bound = max_len * 10 / 8 + chunk;
  LineDecoder dec(max_len);
  std::vector<Outcome> got;
  // 2 MB of garbage (zeros and random bytes).
  for (int i = 0; i < 512; ++i) {
    Bytes g = (i % 2) ? random_bytes(rng, chunk) : Bytes(chunk, 0);
    dec.feed(g);
    CHECK(dec.buffered_bytes() <= bound);
    drain(dec, got);
  }
  // A 100 kB frame, then a normal one.
  LineEncoder enc;
  Bytes s;
  enc.encode(random_bytes(rng, 100000), s);
  const Bytes last = random_bytes(rng, 500);
  enc.encode(last, s);
  s.insert(s.end(), 4, 0xff);
  got.clear();
  for (size_t i = 0; i < s.size(); i += chunk) {
    dec.feed(ByteView(s.data() + i, std::min(chunk, s.size() - i)));
    CHECK(dec.buffered_bytes() <= bound);
    drain(dec, got);
  }
  REQUIRE(got.size() >= 2);
  CHECK(got[got.size() - 2].error == "frame longer than max_frame_len (16384 bytes)");
  CHECK(got.back().ok);
  CHECK(got.back().frame == last);
}

TEST_CASE("stream and burst decoding agree on damaged frames") {
  Rng rng(10);
  int compared = 0;
  for (int i = 0; i < 2000; ++i) {
    const Bytes frame = random_bytes(rng, rng.uniform_int(0, 200));
    LineBits lb;
    encode_frame(frame, lb);
    // 1..3 flips after the preamble (a damaged first preamble pair is a framing difference:
    // the stream decoder hunts for J K + 55, the burst decoder takes J K at bit 0).
    const int flips = static_cast<int>(rng.uniform_int(1, 3));
    for (int f = 0; f < flips; ++f) {
      const size_t bit = rng.uniform_int(80, lb.nbits - 1);
      lb.bits[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
    }
    auto burst = decode_frame(lb);
    if (!burst.ok() && burst.error().message == "no end-of-stream delimiter (T/R)") continue;
    LineDecoder dec;
    Bytes s = lb.bits;
    s.insert(s.end(), 8, 0xff);
    dec.feed(s);
    auto r = dec.poll();
    REQUIRE(r.has_value());
    CHECK(outcome(*r) == outcome(burst));
    ++compared;
  }
  CHECK(compared > 1500);
}

TEST_CASE("after a frame whose T R is lost, the next frame is found at any bit offset") {
  // Frame A loses its T R and is followed by random bits, then frame B. Whatever the
  // decoder makes of A and of the random bits (symbol errors, I I, an early T R, a start
  // of stream inside the frame), B must come out intact.
  Rng rng(13);
  const Bytes b = random_bytes(rng, 64);
  LineBits lb;
  encode_frame(b, lb);
  for (int trial = 0; trial < 20000; ++trial) {
    BitWriter w;
    w.bits(kJK, 10);
    for (int i = 0; i < 6; ++i) w.bits(byte_pair(0x55), 10);
    w.bits(byte_pair(0xD5), 10);
    for (uint8_t x : random_bytes(rng, rng.uniform_int(0, 20))) w.bits(byte_pair(x), 10);
    w.random_bits(rng, rng.uniform_int(0, 60));
    w.line(lb);
    w.bits(0xffffffff, 32);
    LineDecoder dec;
    dec.feed(w.finish());
    std::vector<Outcome> got;
    drain(dec, got);
    CAPTURE(trial);
    REQUIRE(!got.empty());
    CHECK(got.back().ok);
    CHECK(got.back().frame == b);
    if (got.back().frame != b) {
      for (auto& o : got) MESSAGE(o.ok << " " << o.frame.size() << " se=" << o.symbol_errors << " " << o.error);
      MESSAGE(bit_string(w.as_line()));
    }
  }
}
