// L5 session-layer frames: the codec and a streaming deframer over a TCP byte stream.
//
// TCP (L4) carries a byte stream of session frames; each frame is a fixed 33-byte header
// and a payload. DATA payloads are the upper layer's bytes (TLS records, L6). All fields
// are big-endian (network order).
//
//    0               1               2               3
//    0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//   +---------------+---------------+---------------+---------------+
//  0| magic 'M' 4d  | magic 'Z' 5a  |  version = 1  |     type      |
//   +---------------+---------------+---------------+---------------+
//  4|     flags     |  payload length (u32, bytes; header excluded)  :
//   +---------------+---------------+---------------+---------------+
//  8: length, cont. |  session id (16 bytes: a UUID in RFC 4122      :
//   +---------------+                                               +
// 12:  byte order, time_low first; bytes 9..24 of the frame)         :
//   +                                                               +
//   :                              ...                              :
//   +               +---------------+---------------+---------------+
// 24: id, last byte |  timestamp (u64, ns: the sender's `now`)      :
//   +---------------+---------------+---------------+---------------+
// 28:  timestamp, cont. (virtual time in the simulator; real time    :
//   :  in socket mode)                                              :
//   +---------------+---------------+---------------+---------------+
// 32:  ts, last     |  payload (length bytes) ...
//   +---------------+-----------------------------------------------
//
// Types and their payloads:
//   1 OPEN     empty. The id is the client's proposal (a fresh v4 UUID; nil = "assign one").
//   2 RESUME   empty. The id is the session to resume.
//   3 ACCEPT   1 byte: the session state (1 NEW, 2 ACTIVE, 3 RESUMED). The id is the
//              session now in force (it may differ from an OPEN proposal).
//   4 REFUSE   a UTF-8 reason ("unknown session id ..."); the sender then closes.
//   5 DATA     upper-layer bytes (may be empty: a keep-alive that refreshes the idle timer).
//   6 CLOSE    empty. Flag END (0x01): the session ends for good (CLOSED); without it the
//              connection closes and the session stays resumable until it idles out.
// Flags: only END (0x01), only on CLOSE; every other bit is reserved and must be zero.
//
// Validation order (the deframer and parse_session_frame report the same first error):
// magic (2 bytes), version (3), type (4), flags (5), payload length against the limit and
// the type (9), then the payload itself once the whole frame is there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/result.hpp"
#include "megzawicol/core/time.hpp"
#include "megzawicol/l5/uuid.hpp"

namespace mz::l5 {

inline constexpr size_t kSessionHeaderLen = 33;
inline constexpr uint8_t kSessionMagic0 = 0x4d;  // 'M'
inline constexpr uint8_t kSessionMagic1 = 0x5a;  // 'Z'
inline constexpr uint8_t kSessionVersion = 1;
/// Default bound on one frame's payload (deframer limit and DATA split size): 1 MiB.
inline constexpr size_t kDefaultMaxPayload = size_t{1} << 20;
/// CLOSE flag: the session ends (CLOSED) instead of staying resumable.
inline constexpr uint8_t kFlagEnd = 0x01;

enum class SessionType : uint8_t { kOpen = 1, kResume = 2, kAccept = 3, kRefuse = 4, kData = 5, kClose = 6 };

/// Session states (server side). ACCEPT carries one of NEW, ACTIVE, RESUMED on the wire.
enum class SessionState : uint8_t { kNew = 1, kActive = 2, kResumed = 3, kExpired = 4, kClosed = 5 };

/// "OPEN", "RESUME", ... ; "type N" for an unknown value.
std::string to_string(SessionType t);
/// "NEW", "ACTIVE", "RESUMED", "EXPIRED", "CLOSED"; "state N" for an unknown value.
std::string to_string(SessionState s);

struct SessionFrame {
  SessionType type = SessionType::kData;
  uint8_t flags = 0;
  Uuid id;
  uint64_t timestamp_ns = 0;
  Bytes payload;

  /// ACCEPT only (a parsed ACCEPT always has one).
  std::optional<SessionState> accept_state() const;
  /// REFUSE only: the reason (validated UTF-8 in a parsed frame).
  std::string_view refuse_reason() const;
  size_t wire_len() const { return kSessionHeaderLen + payload.size(); }
  /// "SESSION ACCEPT 1b4e28ba-2fa1-41d2-883f-0016d3cca427 ts 12.000000000 len 1 state NEW".
  std::string describe() const;
  bool operator==(const SessionFrame&) const = default;
};

/// The first error found in `prefix`, the start of a frame (possibly shorter than the
/// header): each check runs only once the bytes it needs are there, in the order above.
std::optional<Error> check_session_header_prefix(ByteView prefix, size_t max_payload = kDefaultMaxPayload);

/// Parses exactly one frame: `data` must hold the header and exactly `length` payload bytes.
Result<SessionFrame> parse_session_frame(ByteView data, size_t max_payload = kDefaultMaxPayload);

/// Appends one frame to `out`. Preconditions: the fields are valid for `type` (as listed
/// above) and payload.size() fits in a u32; timestamps before 0 are a caller bug.
void emit_session_frame(Bytes& out, SessionType type, uint8_t flags, const Uuid& id, Time timestamp,
                        ByteView payload);
void emit_session_frame(Bytes& out, const SessionFrame& f);

/// Cuts a TCP byte stream into frames.
///
/// Feed bytes as they arrive, then call next() until it returns nullopt (need more bytes).
/// The frames and the error are the same whether the stream comes whole, byte by byte or
/// in any chunks. Errors are sticky: after the first one, next() returns it again and
/// feed() discards its input. Memory: the unconsumed bytes fed so far; a header announcing
/// more than `max_payload` is an error as soon as its length field arrives, so a peer
/// cannot make the deframer wait for (and buffer) more than one bounded frame.
class SessionDeframer {
 public:
  explicit SessionDeframer(size_t max_payload = kDefaultMaxPayload) : max_payload_(max_payload) {}

  void feed(ByteView data);
  /// A complete frame, the (sticky) error, or nullopt when more bytes are needed.
  std::optional<Result<SessionFrame>> next();

  /// Bytes fed and not yet returned as frames.
  size_t buffered() const { return buf_.size() - pos_; }
  bool failed() const { return error_.has_value(); }

 private:
  size_t max_payload_;
  Bytes buf_;
  size_t pos_ = 0;  // start of the unconsumed bytes in buf_ (compacted lazily in feed)
  std::optional<Error> error_;
};

}  // namespace mz::l5
