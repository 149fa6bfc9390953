// TLS 1.3 handshake messages (RFC 8446 4) and the extensions this stack speaks, with a
// server authenticated by an Ed25519 raw public key (RFC 7250).
//
// Encoders return the whole message: the 4-byte handshake header (msg_type, uint24 length)
// followed by the body, i.e. exactly the bytes that enter the transcript hash. Decoders take
// the body only (split the header off with `peek_handshake_header`) and are bounds-checked:
// a truncated, overlong or inconsistent body is an Error, which the connection answers with
// a decode_error alert. They check syntax only (vector bounds, lengths, duplicates); what a
// value means for the handshake (a cipher suite we did not offer, a missing extension) is
// the connection's business.
//
// Unknown extensions are skipped on parse; their types are kept in `extensions_seen` (wire
// order) so the caller can apply RFC 8446 4.2's rules on which extension may appear where.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/result.hpp"
#include "megzawicol/l6/crypto.hpp"

namespace mz::l6 {

enum class HandshakeType : uint8_t {
  client_hello = 1,
  server_hello = 2,
  new_session_ticket = 4,
  end_of_early_data = 5,
  encrypted_extensions = 8,
  certificate = 11,
  certificate_request = 13,
  certificate_verify = 15,
  finished = 20,
  key_update = 24,
  message_hash = 254,
};
/// "ClientHello", "ServerHello", ...; "Handshake(n)" for an unknown type.
std::string handshake_type_name(HandshakeType t);

/// Extension code points (IANA TLS ExtensionType Values).
namespace ext {
inline constexpr uint16_t kServerName = 0;              // RFC 6066
inline constexpr uint16_t kSupportedGroups = 10;        // RFC 8446 4.2.7
inline constexpr uint16_t kSignatureAlgorithms = 13;    // RFC 8446 4.2.3
inline constexpr uint16_t kServerCertificateType = 20;  // RFC 7250 3
inline constexpr uint16_t kPreSharedKey = 41;
inline constexpr uint16_t kEarlyData = 42;
inline constexpr uint16_t kSupportedVersions = 43;  // RFC 8446 4.2.1
inline constexpr uint16_t kCookie = 44;
inline constexpr uint16_t kPskKeyExchangeModes = 45;
inline constexpr uint16_t kKeyShare = 51;  // RFC 8446 4.2.8
}  // namespace ext

inline constexpr uint16_t kLegacyVersion = 0x0303;  // TLS 1.2 on the wire
inline constexpr uint16_t kTls13 = 0x0304;
inline constexpr uint16_t kTlsAes128GcmSha256 = 0x1301;
inline constexpr uint16_t kGroupX25519 = 0x001d;
inline constexpr uint16_t kSigEd25519 = 0x0807;
inline constexpr uint8_t kCertTypeX509 = 0;
inline constexpr uint8_t kCertTypeRawPublicKey = 2;

inline constexpr size_t kHandshakeHeaderLen = 4;
/// The largest incoming handshake message this stack buffers (the protocol allows 2^24 - 1).
inline constexpr size_t kMaxHandshakeMessage = size_t{1} << 16;

struct KeyShareEntry {
  uint16_t group = 0;
  Bytes key_exchange;
};

/// RFC 8446 4.1.2.
struct ClientHello {
  uint16_t legacy_version = kLegacyVersion;
  std::array<uint8_t, 32> random{};
  Bytes legacy_session_id;  // 0..32 bytes
  std::vector<uint16_t> cipher_suites;
  Bytes legacy_compression_methods{0};
  // Extensions (empty = absent; encoders emit only the non-empty ones).
  std::string server_name;                  // server_name, host_name entry
  std::vector<uint16_t> supported_versions;  // supported_versions
  std::vector<uint16_t> supported_groups;    // supported_groups
  std::vector<uint16_t> signature_algorithms;
  std::vector<KeyShareEntry> key_shares;     // key_share (client_shares)
  bool has_key_share = false;                // the extension was present (possibly empty)
  std::vector<uint8_t> server_certificate_types;
  bool has_pre_shared_key = false;
  bool has_early_data = false;
  std::vector<uint16_t> extensions_seen;  // decode only: every extension type in wire order
};

/// RFC 8446 4.1.3 (also HelloRetryRequest, recognized by its special random).
struct ServerHello {
  uint16_t legacy_version = kLegacyVersion;
  std::array<uint8_t, 32> random{};
  Bytes legacy_session_id_echo;
  uint16_t cipher_suite = 0;
  uint8_t legacy_compression_method = 0;
  uint16_t selected_version = 0;         // supported_versions; 0 = absent
  std::optional<KeyShareEntry> key_share;  // key_share (server_share)
  bool is_hello_retry_request = false;   // decode only
  uint16_t hrr_selected_group = 0;       // decode only, HelloRetryRequest key_share
  std::vector<uint16_t> extensions_seen;
};

/// RFC 8446 4.3.1.
struct EncryptedExtensions {
  std::optional<uint8_t> server_certificate_type;  // RFC 7250: the selected type
  bool server_name_ack = false;                     // empty server_name (RFC 6066 3)
  std::vector<uint16_t> supported_groups;
  std::vector<uint16_t> extensions_seen;
};

/// RFC 8446 4.4.2. With a raw public key the single entry's data is a DER SubjectPublicKeyInfo.
struct CertificateEntry {
  Bytes data;
  Bytes extensions;  // raw Extension list, kept opaque
};
struct Certificate {
  Bytes request_context;
  std::vector<CertificateEntry> entries;
};

/// RFC 8446 4.4.3.
struct CertificateVerify {
  uint16_t algorithm = 0;
  Bytes signature;
};

/// RFC 8446 4.4.4.
struct Finished {
  Bytes verify_data;
};

/// RFC 8446 4.6.3.
struct KeyUpdate {
  bool update_requested = false;
};

struct HandshakeHeader {
  HandshakeType type{};
  uint32_t length = 0;  // of the body
};
/// The header at the front of `buf`, or nullopt while fewer than 4 bytes are there.
std::optional<HandshakeHeader> peek_handshake_header(ByteView buf);

Bytes encode(const ClientHello& m);
Bytes encode(const ServerHello& m);
Bytes encode(const EncryptedExtensions& m);
Bytes encode(const Certificate& m);
Bytes encode(const CertificateVerify& m);
Bytes encode(const Finished& m);
Bytes encode(const KeyUpdate& m);

Result<ClientHello> decode_client_hello(ByteView body);
Result<ServerHello> decode_server_hello(ByteView body);
Result<EncryptedExtensions> decode_encrypted_extensions(ByteView body);
Result<Certificate> decode_certificate(ByteView body);
Result<CertificateVerify> decode_certificate_verify(ByteView body);
/// The body must be exactly `hash_len` bytes.
Result<Finished> decode_finished(ByteView body, size_t hash_len = kHashLen);
Result<KeyUpdate> decode_key_update(ByteView body);

/// One-line descriptions for traces.
std::string summarize(const ClientHello& m);
std::string summarize(const ServerHello& m);
std::string summarize(const EncryptedExtensions& m);
std::string summarize(const Certificate& m);
std::string summarize(const CertificateVerify& m);

/// The HelloRetryRequest random: SHA-256("HelloRetryRequest") (RFC 8446 4.1.3).
const std::array<uint8_t, 32>& hello_retry_request_random();

/// DER SubjectPublicKeyInfo of an Ed25519 key (RFC 8410): 302a300506032b6570032100 || key.
Bytes ed25519_spki(const Ed25519Key& public_key);
/// The key inside an Ed25519 SubjectPublicKeyInfo; an Error for any other encoding.
Result<Ed25519Key> parse_ed25519_spki(ByteView der);

/// The content a CertificateVerify signs (RFC 8446 4.4.3): 64 spaces, the context string
/// ("TLS 1.3, server CertificateVerify" or "..., client ..."), 0x00, the transcript hash.
Bytes certificate_verify_content(const Digest& transcript_hash, bool server);

}  // namespace mz::l6
