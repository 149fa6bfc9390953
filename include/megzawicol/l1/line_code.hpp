// The physical layer's line code: 100BASE-X style 4B/5B block coding of Ethernet frames.
//
// WHY A LINE CODE
// ---------------
// A link does not carry "frames", it carries bits. The receiver must find where a frame
// starts and ends in that bit stream, and a line that carries nothing must still look
// like something ("idle"). 4B/5B (IEEE 802.3 clause 24, table 24-1) solves both: every
// 4-bit nibble of data becomes a 5-bit *code group*; only 16 of the 32 possible groups
// are data, some of the others are control symbols that can never be mistaken for data.
//
// CODE GROUPS (table 24-1), written most significant bit first
// -------------------------------------------------------------
//     nibble  group       nibble  group        control
//       0     11110         8     10010        I (IDLE)       11111
//       1     01001         9     10011        J (SSD part 1) 11000
//       2     10100         A     10110        K (SSD part 2) 10001
//       3     10101         B     10111        T (ESD part 1) 01101
//       4     01010         C     11010        R (ESD part 2) 00111
//       5     01011         D     11011
//       6     01110         E     11100        (the 11 other groups are invalid)
//       7     01111         F     11101
//
// A byte is sent LOW NIBBLE FIRST (the MII order), so byte 0x0F becomes
// F = 11101 then 0 = 11110, i.e. the 10 bits 11101 11110.
//
// ONE FRAME ON THE LINE
// ---------------------
//     J K | 55 55 55 55 55 55 D5 | frame bytes (FCS included) | T R
//     ^ start-of-stream          ^ preamble and SFD, 4B/5B    ^ end-of-stream
//       delimiter (SSD): it         coded like data              delimiter (ESD)
//       replaces the first
//       preamble byte
//
// Line bits = 10 * (frame_len + 9): 2 groups for J K, 2 per byte for the 7 preamble/SFD
// bytes and for each frame byte, 2 for T R. Bits are packed into bytes MSB first; when a
// frame does not end on a byte boundary the remaining bits of its last byte are 1
// (idle: an idle line is all ones). Worked example, the 1-byte frame {0x0F} (100 bits):
//
//     J     K     | 5 (lo) 5 (hi) x6     | 5     D     | F     0     | T     R
//     11000 10001 | 01011 01011 (x6)     | 01011 11011 | 11101 11110 | 01101 00111  + 1111 pad
//
// The code is self-delimiting, so the same functions serve the simulator (one frame is one
// burst on a link: `encode_frame` / `decode_frame`) and socket mode (a continuous byte
// stream over a real TCP connection: `LineEncoder` / `LineDecoder`).
//
// RECEIVING: WHAT THE DECODER DOES WITH DAMAGED BITS
// --------------------------------------------------
// After J K the seven preamble/SFD bytes must decode exactly (else "bad preamble/SFD").
// Then the decoder reads the frame as pairs of code groups (one byte per pair), and:
//   * two data groups           -> one byte;
//   * T R                       -> end of the frame: it is returned, with its counters;
//   * I I (ten 1 bits)          -> the carrier dropped mid-frame: Error "premature end of
//                                  stream (IDLE inside frame)", as IEEE 802.3 does;
//   * J K followed by a 55 pair, starting anywhere within 9 bits of an invalid pair
//                               -> a new frame begins where this one should have ended
//                                  (its T R was damaged): Error "start-of-stream delimiter
//                                  inside frame"; the stream decoder resumes at that J K;
//   * anything else             -> each invalid group (including a lone T, R, J, K or I)
//                                  counts one symbol error and decodes as nibble 0; the
//                                  damaged frame is still returned, so the receiving host
//                                  captures it and its FCS check fails.
// `decode_frame` (a burst) additionally requires the burst to start with J K at bit 0 and
// reports "no end-of-stream delimiter (T/R)" when the burst runs out before an aligned
// T R; a T R earlier than expected (only possible with two or more bit errors in one pair)
// ends the frame there, and the rest of the burst is ignored, as a real PHY would do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/result.hpp"

namespace mz::l1 {

/// Bits on the line: `nbits` bits packed MSB first into `bits`; bits past `nbits` in the
/// last byte are 1 (idle).
struct LineBits {
  Bytes bits;
  size_t nbits = 0;
};

/// Number of line bits for a frame of `frame_len` bytes: 10 * (frame_len + 9).
constexpr size_t line_bits_for_frame(size_t frame_len) { return 10 * (frame_len + 9); }

/// Encodes one frame as one burst (J K, preamble, SFD, frame, T R) into `out`, reusing its
/// capacity. Table driven: one 10-bit table entry per byte; J K, preamble and SFD are 10
/// whole bytes, so every 8 frame bytes become exactly 10 line bytes (one 64-bit and one
/// 16-bit store).
void encode_frame(ByteView frame, LineBits& out);

struct DecodedFrame {
  Bytes frame;                    // the frame bytes, FCS included
  uint32_t symbol_errors = 0;     // invalid code groups inside the frame (decoded as nibble 0)
  uint32_t first_bad_symbol = 0;  // index of the first invalid group: 2*byte + (0 low, 1 high
                                  // nibble); meaningful only when symbol_errors > 0
};

/// Decodes one burst produced by `encode_frame` (possibly damaged by bit errors). See the
/// file comment for the treatment of invalid and control code groups.
Result<DecodedFrame> decode_frame(const LineBits& in);

/// Streaming encoder (socket mode): each frame's line bits are appended, followed by idle
/// '1' bits up to the next byte boundary, so every chunk is whole bytes.
class LineEncoder {
 public:
  void encode(ByteView frame, Bytes& out_append);
  uint64_t frames() const { return frames_; }
  /// Line bits produced, idle padding excluded.
  uint64_t line_bits() const { return line_bits_; }

 private:
  uint64_t frames_ = 0;
  uint64_t line_bits_ = 0;
};

/// Streaming decoder (socket mode): feed it bytes as they arrive, in any chunking, and poll
/// it until it returns nullopt. The sequence of results depends only on the bytes fed, not
/// on how they were split into chunks.
///
/// Framing: between frames the decoder hunts at every bit position for a start of stream,
/// which in stream mode is J K followed by a 0x55 preamble pair (20 bits; requiring the 55
/// pair makes false starts in garbage about a thousand times rarer); the hunt works on
/// 64-bit windows, jumping over idle. Frames are then decoded through a 1024-entry table of
/// pairs until T R, eight data pairs per step; any other pair is handled on its own, as the
/// file comment says. Reported errors:
///   * "garbage on line: N bits discarded before start-of-stream": the bits skipped before
///     a start of stream were not all idle (1) bits. Reported when the start is found, and
///     only if the previous event was a good frame (or the beginning): the bits skipped
///     while resynchronising after an error are not reported a second time;
///   * "bad preamble/SFD" (hunting resumes one bit after the false J);
///   * "frame longer than max_frame_len ..." (the rest is skipped until the next start);
///   * "premature end of stream (IDLE inside frame)", "start-of-stream delimiter inside
///     frame" (see the file comment).
/// After a T R the hunt also looks 1 and 2 bits back: when a frame's own T R was lost, a
/// T R formed by damaged bits can end on the first "11" of the next J K, which must not
/// hide that frame.
/// Memory: the decoder keeps the unconsumed bits of the last chunk fed plus a few bytes,
/// and the frame being decoded (at most max_frame_len bytes), provided poll() is drained
/// after each feed().
/// Whether the coder uses its AVX-512 VBMI loops on this machine (false on other CPUs, and
/// when the environment variable MZ_NO_AVX512 is set).
bool line_code_uses_vector();

class LineDecoder {
 public:
  explicit LineDecoder(size_t max_frame_len = 16384) : max_frame_len_(max_frame_len) {}

  void feed(ByteView chunk);
  /// The next frame or framing error; nullopt when more bytes are needed.
  std::optional<Result<DecodedFrame>> poll();

  /// Bits skipped while hunting for a start of stream (idle fill and garbage alike).
  uint64_t bits_discarded() const { return discarded_; }
  /// Bytes currently held: unconsumed input plus the frame under construction.
  size_t buffered_bytes() const { return buf_.size() + frame_.size(); }
  bool in_frame() const { return state_ != State::Hunt; }

 private:
  friend Result<DecodedFrame> decode_frame(const LineBits& in);
  enum class State { Hunt, Preamble, Data };

  // Runs the state machine over bits [pos, nbits) of `b` (`nbytes` readable bytes, at
  // least ceil(nbits / 8); bits past nbits are never used). `final`: no more bits will come
  // (a burst), so lookahead is limited to what is there instead of waited for.
  std::optional<Result<DecodedFrame>> step(const uint8_t* b, size_t nbytes, size_t nbits, size_t& pos,
                                           bool final);
  // The hunt for a start of stream from pos: true with pos at it, false when more bits are
  // needed (pos then is where the hunt resumes).
  bool hunt(const uint8_t* b, size_t nbytes, size_t nbits, size_t& pos);
  // The Data state: frame bytes up to T R or an error.
  std::optional<Result<DecodedFrame>> data(const uint8_t* b, size_t nbytes, size_t nbits, size_t& pos, bool final);
  std::optional<Result<DecodedFrame>> fail(State next, bool report_next_run, std::string msg);

  size_t max_frame_len_;
  State state_ = State::Hunt;
  Bytes buf_;        // input not yet consumed (plus >= 9 bits of history)
  size_t pos_ = 0;   // bit position of the next unconsumed bit in buf_
  Bytes frame_;      // frame under construction
  uint32_t symbol_errors_ = 0;
  uint32_t first_bad_ = 0;
  uint64_t run_bits_ = 0;      // bits skipped in the current hunt
  bool run_has_zero_ = false;  // ... of which at least one was 0 (garbage, not idle)
  bool report_run_ = true;     // report the current run as garbage (false after an error)
  bool after_tr_ = false;      // a frame just ended with T R (see the hunt)
  uint64_t discarded_ = 0;
};

}  // namespace mz::l1
