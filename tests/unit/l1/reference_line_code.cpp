// Reference copy of the original src/l1/line_code.cpp (see reference_line_code.hpp).
#include "reference_line_code.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace mz::l1::ref {
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

constexpr std::array<uint16_t, 256> make_encode_table() {
  std::array<uint16_t, 256> t{};
  for (unsigned b = 0; b < 256; ++b) t[b] = static_cast<uint16_t>(byte_pair(static_cast<uint8_t>(b)));
  return t;
}
constexpr auto kEncode = make_encode_table();

// Decode table entry for a pair of code groups (10 bits).
enum : uint8_t {
  kBadLow = 1,   // the first group (low nibble) is not a data group
  kBadHigh = 2,  // the second group (high nibble) is not a data group
  kIsTR = 4,
  kIsII = 8,
};
struct Dec {
  uint8_t byte;   // invalid nibbles decode as 0
  uint8_t flags;  // 0: a good data byte
};

constexpr std::array<Dec, 1024> make_decode_table() {
  std::array<int8_t, 32> nib{};
  for (auto& n : nib) n = -1;
  for (int v = 0; v < 16; ++v) nib[kDataGroup[v]] = static_cast<int8_t>(v);
  std::array<Dec, 1024> t{};
  for (uint32_t w = 0; w < 1024; ++w) {
    const int lo = nib[w >> 5], hi = nib[w & 31];
    uint8_t flags = 0;
    if (lo < 0) flags |= kBadLow;
    if (hi < 0) flags |= kBadHigh;
    if (w == kTR) flags |= kIsTR;
    if (w == kII) flags |= kIsII;
    t[w] = Dec{static_cast<uint8_t>(((hi < 0 ? 0 : hi) << 4) | (lo < 0 ? 0 : lo)), flags};
  }
  return t;
}
constexpr auto kDecode = make_decode_table();

// `n` (<= 32) bits at bit position `pos`, MSB first. Precondition: pos + n <= available bits.
inline uint32_t peek(const uint8_t* b, size_t pos, unsigned n) {
  const size_t first = pos >> 3;
  const unsigned off = static_cast<unsigned>(pos & 7);
  const unsigned nbytes = (off + n + 7) / 8;  // <= 5
  uint64_t w = 0;
  for (unsigned i = 0; i < nbytes; ++i) w = (w << 8) | b[first + i];
  return static_cast<uint32_t>((w >> (nbytes * 8 - off - n)) & ((uint64_t{1} << n) - 1));
}

// Writes the line bits of `frame` at `out` (ceil(bits/8) bytes, pad bits 1).
void encode_into(ByteView frame, uint8_t* out) {
  uint64_t acc = 0;  // bits [n, n+32) are the next 32 bits to write
  unsigned n = 0;
  auto put10 = [&](uint32_t v) {
    acc = (acc << 10) | v;
    n += 10;
    if (n >= 32) {
      n -= 32;
      store_be32(out, static_cast<uint32_t>(acc >> n));
      out += 4;
    }
  };
  put10(kJK);
  for (size_t i = 0; i + 1 < kPreambleBytes; ++i) put10(k55);
  put10(kD5);
  for (uint8_t b : frame) put10(kEncode[b]);
  put10(kTR);
  while (n >= 8) {
    n -= 8;
    *out++ = static_cast<uint8_t>(acc >> n);
  }
  if (n > 0) *out = static_cast<uint8_t>((acc << (8 - n)) | (0xffu >> n));
}

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

std::optional<Result<DecodedFrame>> LineDecoder::step(const uint8_t* b, size_t nbits, size_t& pos,
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
            if (peek(b, s, 20) == kStart) {
              pos = s;
              break;
            }
          }
        }
        // Per-bit search, with two shortcuts: ten 1s (idle) or ten 0s cannot contain the
        // start of a J (11000) in their first 8 resp. 9 positions.
        for (;;) {
          if (nbits - pos < 20) return std::nullopt;
          const uint32_t w = peek(b, pos, 20);
          if (w == kStart) break;
          const uint32_t top = w >> 10;
          size_t skip = 1;
          bool zero = (w >> 19) == 0;
          if (top == 0x3ff) {
            skip = 8;
            zero = false;
          } else if (top == 0) {
            skip = 9;
            zero = true;
          }
          pos += skip;
          run_bits_ += skip;
          run_has_zero_ = run_has_zero_ || zero;
          discarded_ += skip;
        }
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
        bool good = true;
        for (size_t i = 0; i < kPreambleBytes; ++i)
          good = good && peek(b, pos + 10 * (i + 1), 10) == (i + 1 < kPreambleBytes ? k55 : kD5);
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
        symbol_errors_ = 0;
        first_bad_ = 0;
        break;
      }
      case State::Data: {
        while (nbits - pos >= 10) {
          const Dec e = kDecode[peek(b, pos, 10)];
          if (e.flags == 0) {
            if (frame_.size() >= max_frame_len_) break;
            frame_.push_back(e.byte);
            pos += 10;
            continue;
          }
          if (e.flags & kIsTR) {
            pos += 10;
            state_ = State::Hunt;
            report_run_ = true;
            after_tr_ = true;
            DecodedFrame f{std::move(frame_), symbol_errors_, first_bad_};
            frame_.clear();
            return Result<DecodedFrame>(std::move(f));
          }
          if (e.flags & kIsII) return fail(State::Hunt, false, "premature end of stream (IDLE inside frame)");
          // Invalid group(s). If a start of stream overlaps this pair, the T R of this frame
          // was damaged and the next frame begins here: look within 9 bits either side.
          const size_t back = std::min<size_t>(9, 10 * frame_.size());
          if (!final && nbits - pos < 9 + 20) return std::nullopt;
          for (size_t s = pos - back; s <= pos + 9 && s + 20 <= nbits; ++s) {
            if (peek(b, s, 20) == kStart) {
              pos = s;
              return fail(State::Hunt, false,
                          "start-of-stream delimiter inside frame (no T/R before it)");
            }
          }
          if (frame_.size() >= max_frame_len_) break;
          const uint32_t sym = static_cast<uint32_t>(2 * frame_.size());
          if (symbol_errors_ == 0) first_bad_ = (e.flags & kBadLow) ? sym : sym + 1;
          symbol_errors_ += ((e.flags & kBadLow) ? 1u : 0u) + ((e.flags & kBadHigh) ? 1u : 0u);
          frame_.push_back(e.byte);
          pos += 10;
        }
        if (frame_.size() >= max_frame_len_ && nbits - pos >= 10)
          return fail(State::Hunt, false,
                      "frame longer than max_frame_len (" + std::to_string(max_frame_len_) + " bytes)");
        return std::nullopt;
      }
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
  return step(buf_.data(), buf_.size() * 8, pos_, false);
}

Result<DecodedFrame> decode_frame(const LineBits& in) {
  if (in.bits.size() < (in.nbits + 7) / 8) return make_error("line bits: buffer shorter than nbits");
  if (in.nbits < 10 || peek(in.bits.data(), 0, 10) != kJK)
    return make_error("no start-of-stream delimiter (J/K)");
  LineDecoder d(SIZE_MAX);
  d.state_ = LineDecoder::State::Preamble;
  size_t pos = 0;
  auto r = d.step(in.bits.data(), in.nbits, pos, true);
  if (!r) return make_error("no end-of-stream delimiter (T/R)");
  return std::move(*r);
}

}  // namespace mz::l1::ref
