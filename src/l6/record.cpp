// TLS 1.3 record framing and protection (RFC 8446 5).
#include "megzawicol/l6/record.hpp"

#include <algorithm>
#include <cassert>

namespace mz::l6 {

std::string content_type_name(ContentType t) {
  switch (t) {
    case ContentType::invalid: return "invalid";
    case ContentType::change_cipher_spec: return "change_cipher_spec";
    case ContentType::alert: return "alert";
    case ContentType::handshake: return "handshake";
    case ContentType::application_data: return "application_data";
  }
  return "content_type(" + std::to_string(static_cast<unsigned>(t)) + ")";
}

std::string alert_name(AlertDescription d) {
  using A = AlertDescription;
  switch (d) {
    case A::close_notify: return "close_notify";
    case A::unexpected_message: return "unexpected_message";
    case A::bad_record_mac: return "bad_record_mac";
    case A::record_overflow: return "record_overflow";
    case A::handshake_failure: return "handshake_failure";
    case A::bad_certificate: return "bad_certificate";
    case A::unsupported_certificate: return "unsupported_certificate";
    case A::certificate_revoked: return "certificate_revoked";
    case A::certificate_expired: return "certificate_expired";
    case A::certificate_unknown: return "certificate_unknown";
    case A::illegal_parameter: return "illegal_parameter";
    case A::unknown_ca: return "unknown_ca";
    case A::access_denied: return "access_denied";
    case A::decode_error: return "decode_error";
    case A::decrypt_error: return "decrypt_error";
    case A::protocol_version: return "protocol_version";
    case A::insufficient_security: return "insufficient_security";
    case A::internal_error: return "internal_error";
    case A::inappropriate_fallback: return "inappropriate_fallback";
    case A::user_canceled: return "user_canceled";
    case A::missing_extension: return "missing_extension";
    case A::unsupported_extension: return "unsupported_extension";
    case A::unrecognized_name: return "unrecognized_name";
    case A::bad_certificate_status_response: return "bad_certificate_status_response";
    case A::unknown_psk_identity: return "unknown_psk_identity";
    case A::certificate_required: return "certificate_required";
    case A::no_application_protocol: return "no_application_protocol";
  }
  return "alert(" + std::to_string(static_cast<unsigned>(d)) + ")";
}

RecordHeader parse_record_header(const uint8_t* p) {
  RecordHeader h;
  h.type = static_cast<ContentType>(p[0]);
  h.legacy_version = load_be16(p + 1);
  h.length = load_be16(p + 3);
  return h;
}

namespace {
void put_header(Bytes& out, ContentType type, uint16_t version, size_t length) {
  assert(length <= 0xffff);
  const size_t at = out.size();
  out.resize(at + kRecordHeaderLen);
  out[at] = static_cast<uint8_t>(type);
  store_be16(out.data() + at + 1, version);
  store_be16(out.data() + at + 3, static_cast<uint16_t>(length));
}
}  // namespace

void append_plaintext_records(ContentType type, ByteView content, Bytes& out, uint16_t legacy_version) {
  do {
    const size_t n = std::min(content.size(), kMaxPlaintext);
    put_header(out, type, legacy_version, n);
    out.insert(out.end(), content.begin(), content.begin() + static_cast<std::ptrdiff_t>(n));
    content = content.subspan(n);
  } while (!content.empty());
}

// ----------------------------------------------------------------------------------------
// RecordProtection

RecordProtection::RecordProtection(const TrafficKeys& keys) : aead_(keys.key), iv_(keys.iv) {}

std::array<uint8_t, 12> RecordProtection::nonce() const {
  std::array<uint8_t, 12> n = iv_;
  for (int i = 0; i < 8; ++i) n[11 - i] ^= static_cast<uint8_t>(seq_ >> (8 * i));
  return n;
}

void RecordProtection::seal(ContentType type, ByteView content, Bytes& out, size_t padding) {
  assert(content.size() <= kMaxPlaintext && content.size() + 1 + padding <= kMaxPlaintext + 1);
  assert(seq_ != UINT64_MAX);  // RFC 8446 5.3: the sequence number must not wrap
  const size_t inner_len = content.size() + 1 + padding;
  const size_t at = out.size();
  put_header(out, ContentType::application_data, kRecordVersion, inner_len + kAeadTagLen);
  std::array<uint8_t, kRecordHeaderLen> aad;
  std::copy_n(out.begin() + static_cast<std::ptrdiff_t>(at), kRecordHeaderLen, aad.begin());
  // TLSInnerPlaintext = content || type || zeros: the content is encrypted from where it
  // is, the type and padding from a small buffer; both straight into the record.
  Bytes big_tail;
  std::array<uint8_t, 64> small_tail{};
  uint8_t* tail = small_tail.data();
  if (1 + padding > small_tail.size()) {
    big_tail.assign(1 + padding, 0);
    tail = big_tail.data();
  }
  tail[0] = static_cast<uint8_t>(type);
  out.resize(at + kRecordHeaderLen + inner_len + kAeadTagLen);
  aead_.seal(nonce(), aad, content, ByteView(tail, 1 + padding), out.data() + at + kRecordHeaderLen);
  ++seq_;
}

std::optional<RecordError> RecordProtection::open(ByteView header, ByteView encrypted_record,
                                                  ContentType& type, Bytes& content) {
  content.clear();  // keeps its capacity: a caller that reuses `content` allocates nothing
  return open_append(header, encrypted_record, type, content);
}

std::optional<RecordError> RecordProtection::open_append(ByteView header, ByteView encrypted_record,
                                                         ContentType& type, Bytes& out) {
  if (encrypted_record.size() > kMaxCiphertext) {
    return RecordError{AlertDescription::record_overflow, "ciphertext longer than 2^14 + 256"};
  }
  if (encrypted_record.size() < kAeadTagLen + 1) {
    return RecordError{AlertDescription::bad_record_mac, "encrypted record shorter than a tag"};
  }
  const size_t base = out.size();
  const size_t len = encrypted_record.size() - kAeadTagLen;
  out.resize(base + len);
  uint8_t* plain = out.data() + base;
  if (!aead_.open(nonce(), header, encrypted_record, plain)) {
    out.resize(base);
    return RecordError{AlertDescription::bad_record_mac, "record authentication failed"};
  }
  ++seq_;
  if (len > kMaxPlaintext + 1) {
    out.resize(base);
    return RecordError{AlertDescription::record_overflow, "inner plaintext longer than 2^14 + 1"};
  }
  // Strip the zero padding from the end; the last non-zero byte is the real type (5.4).
  size_t n = len;
  while (n > 0 && plain[n - 1] == 0) --n;
  if (n == 0) {
    out.resize(base);
    return RecordError{AlertDescription::unexpected_message, "inner plaintext has no content type"};
  }
  type = static_cast<ContentType>(plain[n - 1]);
  out.resize(base + n - 1);
  return std::nullopt;
}

// ----------------------------------------------------------------------------------------
// RecordAssembler

size_t RecordAssembler::feed(ByteView in) {
  if (error_ || ready()) return 0;
  size_t used = 0;
  if (!have_header_) {
    const size_t take = std::min(kRecordHeaderLen - buf_.size(), in.size());
    buf_.insert(buf_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
    used += take;
    if (buf_.size() < kRecordHeaderLen) return used;
    header_ = parse_record_header(buf_.data());
    have_header_ = true;
    switch (header_.type) {
      case ContentType::change_cipher_spec:
      case ContentType::alert:
      case ContentType::handshake:
        if (header_.length > kMaxPlaintext) {
          error_ = RecordError{AlertDescription::record_overflow, "plaintext record longer than 2^14"};
          return used;
        }
        break;
      case ContentType::application_data:
        if (header_.length > kMaxCiphertext) {
          error_ = RecordError{AlertDescription::record_overflow, "ciphertext record longer than 2^14 + 256"};
          return used;
        }
        break;
      default:
        error_ = RecordError{AlertDescription::unexpected_message,
                             "unknown record content type " + std::to_string(buf_[0])};
        return used;
    }
    buf_.reserve(kRecordHeaderLen + header_.length);
  }
  const size_t want = kRecordHeaderLen + header_.length - buf_.size();
  const size_t take = std::min(want, in.size() - used);
  buf_.insert(buf_.end(), in.begin() + static_cast<std::ptrdiff_t>(used),
              in.begin() + static_cast<std::ptrdiff_t>(used + take));
  return used + take;
}

void RecordAssembler::clear() {
  buf_.clear();
  have_header_ = false;
  header_ = RecordHeader{};
}

}  // namespace mz::l6
