// TLS 1.3 record layer (RFC 8446 5) and alert codes (RFC 8446 6).
//
//   TLSPlaintext  = type(1) || legacy_record_version(2) = 0x0303 || length(2) || fragment
//                   (length <= 2^14)
//   TLSCiphertext = 23 || 0x0303 || length(2) || AEAD(TLSInnerPlaintext)
//                   (length <= 2^14 + 256)
//   TLSInnerPlaintext = content || real type(1) || zeros(padding)
//
// Record protection (5.2, 5.3): the per-record nonce is the 12-byte write IV XORed with the
// 64-bit record sequence number, left-padded with zeros; the additional data is the 5-byte
// record header. The sequence number starts at 0 for every key and direction and grows by
// one per record. A record that fails authentication yields no plaintext at all.
//
// `RecordAssembler` rebuilds records from a byte stream chunked in any way. It never holds
// more than one record (5 + 2^14 + 256 bytes), and it rejects a header that announces an
// oversized record (record_overflow) or an unknown content type (unexpected_message) as soon
// as its 5 bytes are in, so garbage cannot make it buffer anything.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/l6/crypto.hpp"
#include "megzawicol/l6/key_schedule.hpp"

namespace mz::l6 {

enum class ContentType : uint8_t {
  invalid = 0,
  change_cipher_spec = 20,
  alert = 21,
  handshake = 22,
  application_data = 23,
};
std::string content_type_name(ContentType t);

enum class AlertLevel : uint8_t { warning = 1, fatal = 2 };

enum class AlertDescription : uint8_t {
  close_notify = 0,
  unexpected_message = 10,
  bad_record_mac = 20,
  record_overflow = 22,
  handshake_failure = 40,
  bad_certificate = 42,
  unsupported_certificate = 43,
  certificate_revoked = 44,
  certificate_expired = 45,
  certificate_unknown = 46,
  illegal_parameter = 47,
  unknown_ca = 48,
  access_denied = 49,
  decode_error = 50,
  decrypt_error = 51,
  protocol_version = 70,
  insufficient_security = 71,
  internal_error = 80,
  inappropriate_fallback = 86,
  user_canceled = 90,
  missing_extension = 109,
  unsupported_extension = 110,
  unrecognized_name = 112,
  bad_certificate_status_response = 113,
  unknown_psk_identity = 115,
  certificate_required = 116,
  no_application_protocol = 120,
};
/// "bad_record_mac", ...; "alert(n)" for an unknown code.
std::string alert_name(AlertDescription d);

inline constexpr size_t kRecordHeaderLen = 5;
inline constexpr size_t kMaxPlaintext = size_t{1} << 14;        // 2^14
inline constexpr size_t kMaxCiphertext = kMaxPlaintext + 256;   // 2^14 + 256
inline constexpr size_t kAeadTagLen = 16;
inline constexpr uint16_t kRecordVersion = 0x0303;

/// Why the record layer refuses something, and the alert that says so.
struct RecordError {
  AlertDescription alert = AlertDescription::internal_error;
  std::string reason;
};

struct RecordHeader {
  ContentType type = ContentType::invalid;
  uint16_t legacy_version = 0;
  uint16_t length = 0;
};
/// Precondition: `p` points at 5 readable bytes.
RecordHeader parse_record_header(const uint8_t* p);

/// Appends TLSPlaintext records carrying `content`, split into fragments of at most 2^14.
/// `legacy_version` is 0x0303, or 0x0301 for an initial ClientHello (RFC 8446 5.1).
void append_plaintext_records(ContentType type, ByteView content, Bytes& out,
                              uint16_t legacy_version = kRecordVersion);

/// AEAD protection of one direction under one traffic key.
class RecordProtection {
 public:
  explicit RecordProtection(const TrafficKeys& keys);

  /// Appends one TLSCiphertext carrying `content` (at most 2^14 bytes) of real type `type`,
  /// followed by `padding` zero bytes inside the encryption (content + 1 + padding <= 2^14 + 1).
  void seal(ContentType type, ByteView content, Bytes& out, size_t padding = 0);

  /// Opens one TLSCiphertext given its 5-byte header and its encrypted_record. On success
  /// `type` is the inner content type and `content` the plaintext without padding. Errors:
  /// bad_record_mac (authentication failed, or shorter than a tag), record_overflow (inner
  /// plaintext over 2^14 + 1), unexpected_message (all-zero inner plaintext: no type).
  /// The sequence number advances only on success.
  std::optional<RecordError> open(ByteView header, ByteView encrypted_record, ContentType& type,
                                  Bytes& content);
  /// The same, but the plaintext is appended to `out` (decrypted in place there, no
  /// temporary); on error `out` is left as it was.
  std::optional<RecordError> open_append(ByteView header, ByteView encrypted_record, ContentType& type,
                                         Bytes& out);

  /// The sequence number of the next record.
  uint64_t sequence() const { return seq_; }

 private:
  std::array<uint8_t, 12> nonce() const;

  Aes128Gcm aead_;
  std::array<uint8_t, 12> iv_{};
  uint64_t seq_ = 0;
};

/// Collects one whole record from a stream chunked in any way.
class RecordAssembler {
 public:
  /// Takes bytes from the front of `in` until a record is complete (or `in` runs out) and
  /// returns how many it took. Call `error()` and `ready()` after each call; after an error
  /// it takes nothing more.
  size_t feed(ByteView in);
  bool ready() const { return !error_ && have_header_ && buf_.size() == kRecordHeaderLen + header_.length; }
  const std::optional<RecordError>& error() const { return error_; }
  /// The 5 header bytes are in (and passed the size and type checks).
  bool has_header() const { return have_header_ && !error_; }
  const RecordHeader& header() const { return header_; }
  ByteView header_bytes() const { return ByteView(buf_).first(kRecordHeaderLen); }
  ByteView body() const { return ByteView(buf_).subspan(kRecordHeaderLen); }
  /// Forgets the completed record; the next `feed` starts a new one.
  void clear();
  /// Bytes held of an incomplete record.
  size_t buffered() const { return buf_.size(); }

 private:
  Bytes buf_;
  RecordHeader header_;
  bool have_header_ = false;
  std::optional<RecordError> error_;
};

}  // namespace mz::l6
