#include "megzawicol/l1/line_code.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <utility>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MZ_L1_VBMI 1
#endif

namespace mz::l1 {
namespace {

// Table 24-1: the code group of each data nibble.
constexpr std::array<uint8_t, 16> kDataGroup = {0b11110, 0b01001, 0b10100, 0b10101,
                                                0b01010, 0b01011, 0b01110, 0b01111,
                                                0b10010, 0b10011, 0b10110, 0b10111,
                                                0b11010, 0b11011, 0b11100, 0b11101};
constexpr uint32_t kI = 0b11111, kJ = 0b11000, kK = 0b10001, kT = 0b01101, kR = 0b00111;

constexpr uint32_t pair(uint32_t first, uint32_t second) { return (first << 5) | second; }
constexpr uint32_t kJK = pair(kJ, kK);
constexpr uint32_t kTR = pair(kT, kR);
constexpr uint32_t kII = pair(kI, kI);
// A byte's 10 line bits: low nibble's group first.
constexpr uint32_t byte_pair(uint8_t b) { return pair(kDataGroup[b & 0xf], kDataGroup[b >> 4]); }
constexpr uint32_t k55 = byte_pair(0x55);
constexpr uint32_t kD5 = byte_pair(0xD5);
// Start of stream as the stream decoder hunts for it: J K then the first preamble pair.
constexpr uint32_t kStart = (kJK << 10) | k55;
constexpr size_t kPreambleBytes = 7;  // 6 x 0x55 + SFD 0xD5 (J K replaced the first 0x55)
// The 70 preamble/SFD bits after J K, as 40 + 30 bits: 55 55 55 55 | 55 55 D5.
constexpr uint64_t kPreamble40 = (uint64_t{k55} << 30) | (uint64_t{k55} << 20) | (uint64_t{k55} << 10) | k55;
constexpr uint64_t kPreamble30 = (uint64_t{k55} << 20) | (uint64_t{k55} << 10) | kD5;

// J K, the preamble and the SFD: 80 bits, exactly 10 bytes.
constexpr std::array<uint8_t, 10> make_header() {
  std::array<uint8_t, 10> h{};
  const uint64_t first = (uint64_t{kJK} << 54) | (kPreamble40 << 14) | (kPreamble30 >> 16);
  for (int i = 0; i < 8; ++i) h[i] = static_cast<uint8_t>(first >> (56 - 8 * i));
  h[8] = static_cast<uint8_t>(kPreamble30 >> 8);
  h[9] = static_cast<uint8_t>(kPreamble30);
  return h;
}
constexpr auto kHeader = make_header();

constexpr std::array<uint16_t, 256> make_encode_table() {
  std::array<uint16_t, 256> t{};
  for (unsigned b = 0; b < 256; ++b) t[b] = static_cast<uint16_t>(byte_pair(static_cast<uint8_t>(b)));
  return t;
}
constexpr auto kEncode = make_encode_table();

// Decode table entry for a pair of code groups (10 bits): the byte (invalid nibbles decode
// as 0) in the low 8 bits, the flags below in the high 8 bits. An entry below 256 is a
// good data byte.
enum : uint16_t {
  kBadLow = 1 << 8,   // the first group (low nibble) is not a data group
  kBadHigh = 2 << 8,  // the second group (high nibble) is not a data group
  kIsTR = 4 << 8,
  kIsII = 8 << 8,
};

constexpr std::array<uint16_t, 1024> make_decode_table() {
  std::array<int8_t, 32> nib{};
  for (auto& n : nib) n = -1;
  for (int v = 0; v < 16; ++v) nib[kDataGroup[v]] = static_cast<int8_t>(v);
  std::array<uint16_t, 1024> t{};
  for (uint32_t w = 0; w < 1024; ++w) {
    const int lo = nib[w >> 5], hi = nib[w & 31];
    unsigned e = static_cast<unsigned>(((hi < 0 ? 0 : hi) << 4) | (lo < 0 ? 0 : lo));
    if (lo < 0) e |= kBadLow;
    if (hi < 0) e |= kBadHigh;
    if (w == kTR) e |= kIsTR;
    if (w == kII) e |= kIsII;
    t[w] = static_cast<uint16_t>(e);
  }
  return t;
}
constexpr auto kDecode = make_decode_table();

inline uint64_t load_be64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}
inline void store_be64(uint8_t* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

inline void store_le64(uint8_t* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

// The 64 bits from bit position `pos` of `b` (`nbytes` bytes), MSB first. The first
// 64 - pos % 8 (>= 57) of them are the line's; bytes past `nbytes` read as 0.
inline uint64_t window(const uint8_t* b, size_t nbytes, size_t pos) {
  const size_t q = pos >> 3;
  uint64_t w = 0;
  if (q + 8 <= nbytes) {
    w = load_be64(b + q);
  } else {
    for (size_t i = 0; i < 8; ++i) w = (w << 8) | (q + i < nbytes ? b[q + i] : 0u);
  }
  return w << (pos & 7);
}

// `n` (1..57) bits at bit position `pos`, MSB first. Precondition: pos + n <= 8 * nbytes.
inline uint64_t peek(const uint8_t* b, size_t nbytes, size_t pos, unsigned n) {
  return window(b, nbytes, pos) >> (64 - n);
}

#ifdef MZ_L1_VBMI
// AVX-512 VBMI versions of the two hot loops, chosen at run time. Both keep the tables
// above as the definition: 32-entry nibble <-> code group tables held in one register.
// MZ_NO_AVX512 (set, any value) keeps the portable loops on such a CPU too: the tests run
// the differential suite both ways, and a user can compare the two.
const bool kHaveVbmi = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("avx512vbmi") && std::getenv("MZ_NO_AVX512") == nullptr;

// Byte i of the result is v(i) for i < 64.
template <typename F>
constexpr std::array<uint8_t, 64> bytes64(F v) {
  std::array<uint8_t, 64> a{};
  for (unsigned i = 0; i < 64; ++i) a[i] = static_cast<uint8_t>(v(i));
  return a;
}
// Encoder: nibble -> code group (indices 0..15 only are used).
constexpr auto kVbmiGroup = bytes64([](unsigned i) { return kDataGroup[i & 15]; });
// Encoder output: line byte 5j + t is byte 4 - t of 64-bit lane j (its 40 bits, MSB first).
constexpr auto kVbmiEncOut = bytes64([](unsigned i) { return i < 40 ? 8 * (i / 5) + 4 - i % 5 : 0; });
// Decoder input: lane j holds line bytes 5j .. 5j + 7 as a big-endian 64-bit number.
constexpr auto kVbmiDecIn = bytes64([](unsigned i) { return 5 * (i / 8) + 7 - i % 8; });
// Decoder: code group (low 5 bits of the index) -> nibble, or 0x80 for any non-data group.
constexpr auto kVbmiNibble = bytes64([](unsigned i) {
  for (unsigned v = 0; v < 16; ++v)
    if (kDataGroup[v] == (i & 31)) return v;
  return 0x80u;
});

// (The maskz_ forms with all lanes on: GCC 12 warns about the plain forms' undefined
// pass-through operand.)
// Encodes `blocks` x 32 frame bytes into blocks x 40 line bytes.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void encode_blocks_vbmi(const uint8_t* in, size_t blocks,
                                                                               uint8_t* out) {
  const __m512i groups = _mm512_loadu_si512(kVbmiGroup.data()), order = _mm512_loadu_si512(kVbmiEncOut.data());
  for (; blocks > 0; --blocks, in += 32, out += 40) {
    const __m512i w = _mm512_maskz_cvtepu8_epi16(~uint32_t{0}, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in)));
    // Byte 2r: byte r's low nibble, byte 2r + 1: its high nibble; then their code groups.
    const __m512i nib = _mm512_or_si512(_mm512_and_si512(w, _mm512_set1_epi16(0x000f)),
                                        _mm512_and_si512(_mm512_maskz_slli_epi16(~uint32_t{0}, w, 4), _mm512_set1_epi16(0x0f00)));
    const __m512i g = _mm512_maskz_permutexvar_epi8(~uint64_t{0}, nib, groups);
    const __m512i p10 = _mm512_maddubs_epi16(g, _mm512_set1_epi16(0x0120));       // first * 32 + second
    const __m512i p20 = _mm512_madd_epi16(p10, _mm512_set1_epi32(0x00010400));    // first pair * 1024 + second
    const __m512i p40 = _mm512_or_si512(_mm512_maskz_slli_epi64(0xff, _mm512_and_si512(p20, _mm512_set1_epi64(0xffffffff)), 20),
                                        _mm512_maskz_srli_epi64(0xff, p20, 32));
    _mm512_mask_storeu_epi8(out, (uint64_t{1} << 40) - 1, _mm512_maskz_permutexvar_epi8(~uint64_t{0}, order, p40));
  }
}

// Decodes blocks of 32 data pairs (40 line bytes from bit `sh` of `p`, reading at most
// 43 bytes per block) into `out`, for at most `blocks` blocks; stops before the first block
// holding any other pair. Returns the number of blocks decoded.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) size_t decode_blocks_vbmi(const uint8_t* p, unsigned sh,
                                                                                 size_t blocks, uint8_t* out) {
  const __m512i order = _mm512_loadu_si512(kVbmiDecIn.data()), nibbles = _mm512_loadu_si512(kVbmiNibble.data());
  // Byte g of each lane: the 8 bits whose lowest is bit 59 - sh - 5g, i.e. group g in
  // the low 5 bits (the index of vpermb ignores the other bits: the table repeats).
  uint64_t shift_bytes = 0;
  for (unsigned g = 0; g < 8; ++g) shift_bytes |= uint64_t{59 - sh - 5 * g} << (8 * g);
  const __m512i shifts = _mm512_set1_epi64(static_cast<long long>(shift_bytes));
  for (size_t b = 0; b < blocks; ++b, p += 40, out += 32) {
    const __m512i line = _mm512_maskz_loadu_epi8((uint64_t{1} << 43) - 1, p);
    const __m512i g = _mm512_maskz_multishift_epi64_epi8(~uint64_t{0}, shifts, _mm512_maskz_permutexvar_epi8(~uint64_t{0}, order, line));
    const __m512i nib = _mm512_maskz_permutexvar_epi8(~uint64_t{0}, g, nibbles);
    if (_mm512_test_epi8_mask(nib, _mm512_set1_epi8(static_cast<char>(0x80))) != 0) return b;
    const __m512i bytes = _mm512_maddubs_epi16(nib, _mm512_set1_epi16(0x1001));  // low + 16 * high
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm512_maskz_cvtepi16_epi8(~uint32_t{0}, bytes));
  }
  return blocks;
}
#else
constexpr bool kHaveVbmi = false;
#endif

}  // namespace

bool line_code_uses_vector() { return kHaveVbmi; }

namespace {

// Writes the line bits of `frame` at `out` (ceil(bits/8) bytes, pad bits 1). The 80-bit
// header is 10 whole bytes, so every 8 frame bytes become exactly 10 line bytes.
void encode_into(ByteView frame, uint8_t* out) {
  std::memcpy(out, kHeader.data(), kHeader.size());
  out += kHeader.size();
  const uint8_t* in = frame.data();
  size_t n = frame.size();
#ifdef MZ_L1_VBMI
  if (kHaveVbmi && n >= 32) {
    const size_t blocks = n / 32;
    encode_blocks_vbmi(in, blocks, out);
    in += 32 * blocks;
    out += 40 * blocks;
    n -= 32 * blocks;
  }
#endif
  for (; n >= 8; n -= 8, in += 8, out += 10) {
    const uint64_t v0 = kEncode[in[0]], v1 = kEncode[in[1]], v2 = kEncode[in[2]], v3 = kEncode[in[3]];
    const uint64_t v4 = kEncode[in[4]], v5 = kEncode[in[5]], v6 = kEncode[in[6]], v7 = kEncode[in[7]];
    store_be64(out, (v0 << 54) | (v1 << 44) | (v2 << 34) | (v3 << 24) | (v4 << 14) | (v5 << 4) | (v6 >> 6));
    store_be16(out + 8, static_cast<uint16_t>(((v6 & 63) << 10) | v7));
  }
  // The last 0..7 bytes and T R: at most 80 bits, through an accumulator.
  uint64_t acc = 0;  // the low nacc bits are still to be written
  unsigned nacc = 0;
  auto put10 = [&](uint32_t v) {
    acc = (acc << 10) | v;
    nacc += 10;
    if (nacc >= 32) {
      nacc -= 32;
      store_be32(out, static_cast<uint32_t>(acc >> nacc));
      out += 4;
    }
  };
  for (size_t i = 0; i < n; ++i) put10(kEncode[in[i]]);
  put10(kTR);
  while (nacc >= 8) {
    nacc -= 8;
    *out++ = static_cast<uint8_t>(acc >> nacc);
  }
  if (nacc > 0) *out = static_cast<uint8_t>((acc << (8 - nacc)) | (0xffu >> nacc));
}

// Decodes data pairs from bit `sh` (0..7) of `p` into `out`, eight pairs (80 bits, 10
// whole bytes: the bit offset stays `sh`) per step from two 64-bit loads, for at most
// `groups` steps; reads p[0, 10 * groups + 3). Stops at the first group holding any other
// pair, after its leading data pairs. Returns the number of bytes decoded.
size_t decode_data_groups(const uint8_t* p, unsigned sh, size_t groups, uint8_t* out) {
  size_t g = 0;
#ifdef MZ_L1_VBMI
  if (kHaveVbmi && groups >= 4) {
    g = 4 * decode_blocks_vbmi(p, sh, groups / 4, out);  // then the scalar loop from the first other pair
    p += 10 * g;
    out += 8 * g;
  }
#endif
  for (; g < groups; ++g, p += 10, out += 8) {
    const uint64_t w0 = load_be64(p) << sh, w1 = load_be64(p + 5) << sh;
    const uint64_t e0 = kDecode[w0 >> 54], e1 = kDecode[(w0 >> 44) & 1023];
    const uint64_t e2 = kDecode[(w0 >> 34) & 1023], e3 = kDecode[(w0 >> 24) & 1023];
    const uint64_t e4 = kDecode[w1 >> 54], e5 = kDecode[(w1 >> 44) & 1023];
    const uint64_t e6 = kDecode[(w1 >> 34) & 1023], e7 = kDecode[(w1 >> 24) & 1023];
    // The entries as 16-bit lanes, even pairs in one word and odd pairs in the other: the
    // flags are the lanes' high bytes, and `even | odd << 8` has the 8 bytes in order (a
    // flag of pair i spoils byte i + 1 only). Balanced, so no long dependency chain.
    const uint64_t even = (e0 | (e2 << 16)) | ((e4 << 32) | (e6 << 48));
    const uint64_t odd = (e1 | (e3 << 16)) | ((e5 << 32) | (e7 << 48));
    store_le64(out, even | (odd << 8));
    constexpr uint64_t kFlags = 0xff00ff00ff00ff00;
    if (((even | odd) & kFlags) != 0) {
      // Keep the data pairs before the first other one (byte i of `bad`: pair i).
      const uint64_t bad = ((even & kFlags) >> 8) | (odd & kFlags);
      return 8 * g + static_cast<size_t>(std::countr_zero(bad) / 8);
    }
  }
  return 8 * groups;
}

// Frame bytes decoded by the fast path before they are appended to the frame.
constexpr size_t kRunBytes = 2048;

}  // namespace

void encode_frame(ByteView frame, LineBits& out) {
  out.nbits = line_bits_for_frame(frame.size());
  out.bits.resize((out.nbits + 7) / 8);
  encode_into(frame, out.bits.data());
}

void LineEncoder::encode(ByteView frame, Bytes& out_append) {
  const size_t nbits = line_bits_for_frame(frame.size());
  const size_t old = out_append.size();
  out_append.resize(old + (nbits + 7) / 8);
  encode_into(frame, out_append.data() + old);
  ++frames_;
  line_bits_ += nbits;
}

std::optional<Result<DecodedFrame>> LineDecoder::fail(State next, bool report_next_run, std::string msg) {
  state_ = next;
  report_run_ = report_next_run;
  frame_.clear();
  return Result<DecodedFrame>(make_error(std::move(msg)));
}

// The hunt considers every bit position in turn: a start of stream there ends it; otherwise
// it moves on by 8 when the next ten bits are all 1 (idle), by 9 when they are all 0 (no
// J can start in their first 8 resp. 9 positions), else by 1. That walk, and with it the
// counters and where it stops when the bits run out, is computed here 64 bits at a time:
// masks of the positions that start ten 1s, ten 0s or a J (11000), and the walk jumps
// from one such position to the next.
bool LineDecoder::hunt(const uint8_t* b, size_t nbytes, size_t nbits, size_t& pos) {
  for (;;) {
    if (nbits - pos < 20) return false;
    const uint64_t w = window(b, nbytes, pos);
    const size_t valid_bits = std::min<size_t>(64 - (pos & 7), nbits - pos);
    // Positions [0, npos) of this window have their 20 bits in it (1 <= npos <= 45).
    const auto npos = static_cast<unsigned>(valid_bits - 19);
    const uint64_t in_range = ~(~uint64_t{0} >> npos);
    // Bit 63 - i of a mask is about position i.
    const uint64_t o2 = w & (w << 1), o4 = o2 & (o2 << 2), o8 = o4 & (o4 << 4);
    const uint64_t ones = o8 & (o2 << 8) & in_range;
    const uint64_t nw = ~w;
    const uint64_t z2 = nw & (nw << 1), z4 = z2 & (z2 << 2), z8 = z4 & (z4 << 4);
    const uint64_t zeros = z8 & (z2 << 8) & in_range;
    const uint64_t js = w & (w << 1) & ~(w << 2) & ~(w << 3) & ~(w << 4) & in_range;
    const uint64_t events = ones | zeros | js;  // pairwise disjoint
    unsigned i = 0;
    bool found = false;
    while (i < npos) {
      const uint64_t m = events & (~uint64_t{0} >> i);
      if (m == 0) {
        i = npos;  // single steps up to the end of the window
        break;
      }
      const auto q = static_cast<unsigned>(std::countl_zero(m));
      const uint64_t bit = uint64_t{1} << (63 - q);
      if (js & bit) {
        if (((w << q) >> 44) == kStart) {
          i = q;
          found = true;
          break;
        }
        i = q + 1;
      } else if (ones & bit) {
        const auto run = static_cast<unsigned>(std::countl_one(ones << q));  // ends before npos
        i = q + 8 * ((run + 7) / 8);
      } else {
        const auto run = static_cast<unsigned>(std::countl_one(zeros << q));
        i = q + 9 * ((run + 8) / 9);
      }
    }
    // i <= npos + 8 < valid_bits: the skipped bits are all in the window.
    const uint64_t skipped = ~(~uint64_t{0} >> i);
    run_has_zero_ = run_has_zero_ || (nw & skipped) != 0;
    pos += i;
    run_bits_ += i;
    discarded_ += i;
    if (found) return true;
  }
}

std::optional<Result<DecodedFrame>> LineDecoder::data(const uint8_t* b, size_t nbytes, size_t nbits, size_t& pos,
                                                      bool final) {
  while (nbits - pos >= 10) {
    // Fast path: runs of data pairs, eight at a time (see decode_data_groups).
    const size_t q = pos >> 3;
    if (nbits - pos >= 80 && q + 13 <= nbytes && max_frame_len_ - frame_.size() >= 8) {
      std::array<uint8_t, kRunBytes> run;  // written by decode_data_groups before it is read
      const size_t groups = std::min({(max_frame_len_ - frame_.size()) / 8, (nbits - pos) / 80,
                                      (nbytes - q - 13) / 10 + 1, kRunBytes / 8});
      const size_t n = decode_data_groups(b + q, static_cast<unsigned>(pos & 7), groups, run.data());
      frame_.insert(frame_.end(), run.begin(), run.begin() + static_cast<std::ptrdiff_t>(n));
      pos += 10 * n;
      if (n == 8 * groups) continue;  // no other pair seen yet
    }
    // One pair, any kind.
    const uint16_t e = kDecode[peek(b, nbytes, pos, 10)];
    if (e <= 0xff) {
      if (frame_.size() >= max_frame_len_) break;
      frame_.push_back(static_cast<uint8_t>(e));
      pos += 10;
      continue;
    }
    if (e & kIsTR) {
      pos += 10;
      state_ = State::Hunt;
      report_run_ = true;
      after_tr_ = true;
      DecodedFrame f{std::move(frame_), symbol_errors_, first_bad_};
      frame_.clear();
      return Result<DecodedFrame>(std::move(f));
    }
    if (e & kIsII) return fail(State::Hunt, false, "premature end of stream (IDLE inside frame)");
    // Invalid group(s). If a start of stream overlaps this pair, the T R of this frame
    // was damaged and the next frame begins here: look within 9 bits either side.
    const size_t back = std::min<size_t>(9, 10 * frame_.size());
    if (!final && nbits - pos < 9 + 20) return std::nullopt;
    for (size_t s = pos - back; s <= pos + 9 && s + 20 <= nbits; ++s) {
      if (peek(b, nbytes, s, 20) == kStart) {
        pos = s;
        return fail(State::Hunt, false, "start-of-stream delimiter inside frame (no T/R before it)");
      }
    }
    if (frame_.size() >= max_frame_len_) break;
    const auto sym = static_cast<uint32_t>(2 * frame_.size());
    if (symbol_errors_ == 0) first_bad_ = (e & kBadLow) ? sym : sym + 1;
    symbol_errors_ += ((e & kBadLow) ? 1u : 0u) + ((e & kBadHigh) ? 1u : 0u);
    frame_.push_back(static_cast<uint8_t>(e));
    pos += 10;
  }
  if (frame_.size() >= max_frame_len_ && nbits - pos >= 10)
    return fail(State::Hunt, false, "frame longer than max_frame_len (" + std::to_string(max_frame_len_) + " bytes)");
  return std::nullopt;
}

std::optional<Result<DecodedFrame>> LineDecoder::step(const uint8_t* b, size_t nbytes, size_t nbits, size_t& pos,
                                                      bool final) {
  for (;;) {
    switch (state_) {
      case State::Hunt: {
        if (after_tr_) {
          // A T R found in damaged data may have taken the first bits of the next J K (only
          // the last two bits of T R, "11", can be the start of a J): look there first.
          if (nbits - pos < 19) return std::nullopt;
          after_tr_ = false;
          for (size_t s = pos - 2; s < pos; ++s) {
            if (peek(b, nbytes, s, 20) == kStart) {
              pos = s;
              break;
            }
          }
        }
        if (!hunt(b, nbytes, nbits, pos)) return std::nullopt;
        const bool report = report_run_ && run_has_zero_;
        const uint64_t skipped = run_bits_;
        run_bits_ = 0;
        run_has_zero_ = false;
        report_run_ = true;
        state_ = State::Preamble;
        if (report)
          return Result<DecodedFrame>(make_error("garbage on line: " + std::to_string(skipped) +
                                                 " bits discarded before start-of-stream"));
        break;
      }
      case State::Preamble: {
        // pos is at J K (checked by the hunt, or by decode_frame).
        constexpr size_t kLen = 10 * (1 + kPreambleBytes);
        if (nbits - pos < kLen) return std::nullopt;
        const bool good = peek(b, nbytes, pos + 10, 40) == kPreamble40 && peek(b, nbytes, pos + 50, 30) == kPreamble30;
        if (!good) {
          // A false start (or a damaged preamble): hunt again from the bit after the J.
          pos += 1;
          run_bits_ = 1;
          run_has_zero_ = false;
          discarded_ += 1;
          return fail(State::Hunt, false, "bad preamble/SFD");
        }
        pos += kLen;
        state_ = State::Data;
        frame_.clear();
        // A burst's frame cannot be longer than what is left of it: allocate once.
        if (final) frame_.reserve((nbits - pos) / 10);
        symbol_errors_ = 0;
        first_bad_ = 0;
        break;
      }
      case State::Data:
        return data(b, nbytes, nbits, pos, final);
    }
  }
}

void LineDecoder::feed(ByteView chunk) {
  // Keep at least 16 bits before pos_: the in-frame start-of-stream search looks 9 back.
  if (pos_ > 16) {
    const size_t drop = (pos_ - 16) / 8;
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(drop));
    pos_ -= drop * 8;
  }
  buf_.insert(buf_.end(), chunk.begin(), chunk.end());
}

std::optional<Result<DecodedFrame>> LineDecoder::poll() {
  return step(buf_.data(), buf_.size(), buf_.size() * 8, pos_, false);
}

Result<DecodedFrame> decode_frame(const LineBits& in) {
  if (in.bits.size() < (in.nbits + 7) / 8) return make_error("line bits: buffer shorter than nbits");
  if (in.nbits < 10 || peek(in.bits.data(), in.bits.size(), 0, 10) != kJK)
    return make_error("no start-of-stream delimiter (J/K)");
  LineDecoder d(SIZE_MAX);
  d.state_ = LineDecoder::State::Preamble;
  size_t pos = 0;
  auto r = d.step(in.bits.data(), in.bits.size(), in.nbits, pos, true);
  if (!r) return make_error("no end-of-stream delimiter (T/R)");
  return std::move(*r);
}

}  // namespace mz::l1
