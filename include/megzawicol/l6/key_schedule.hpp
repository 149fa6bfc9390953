// TLS 1.3 key schedule for SHA-256 suites without a PSK (RFC 8446 7.1, 7.3, 4.4.4).
//
//              0
//              |
//   0 (PSK) -> HKDF-Extract = Early Secret
//              |
//              Derive-Secret(., "derived", "")
//              |
//   (EC)DHE -> HKDF-Extract = Handshake Secret
//              +-> Derive-Secret(., "c hs traffic", CH..SH)
//              +-> Derive-Secret(., "s hs traffic", CH..SH)
//              Derive-Secret(., "derived", "")
//              |
//   0 -------> HKDF-Extract = Master Secret
//              +-> Derive-Secret(., "c ap traffic", CH..server Finished)
//              +-> Derive-Secret(., "s ap traffic", CH..server Finished)
//              +-> Derive-Secret(., "exp master",   CH..server Finished)
//              +-> Derive-Secret(., "res master",   CH..client Finished)
//
// The steps are called in this order as the transcript grows; each fills its fields.
#pragma once

#include <array>

#include "megzawicol/l6/crypto.hpp"

namespace mz::l6 {

/// The write key and IV of one direction and epoch (RFC 8446 7.3).
struct TrafficKeys {
  std::array<uint8_t, 16> key{};
  std::array<uint8_t, 12> iv{};
};

TrafficKeys traffic_keys(const Secret& traffic_secret);
/// finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length).
Secret finished_key(const Secret& base_key);
/// verify_data = HMAC(finished_key(base_key), transcript_hash).
Digest finished_verify_data(const Secret& base_key, const Digest& transcript_hash);
/// application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", 32) (7.2).
Secret next_application_secret(const Secret& secret);

struct KeySchedule {
  Secret early{};
  Secret derived_for_handshake{};
  Secret handshake{};
  Secret client_handshake_traffic{};
  Secret server_handshake_traffic{};
  Secret derived_for_master{};
  Secret master{};
  Secret client_application_traffic_0{};
  Secret server_application_traffic_0{};
  Secret exporter_master{};
  Secret resumption_master{};

  /// Early secret (no PSK) and handshake secret from the (EC)DHE shared secret.
  void set_shared_secret(ByteView ecdhe_shared);
  /// Handshake traffic secrets from Transcript-Hash(ClientHello..ServerHello).
  void derive_handshake_traffic(const Digest& hash_ch_sh);
  /// Master secret and the application / exporter secrets from
  /// Transcript-Hash(ClientHello..server Finished).
  void derive_application_traffic(const Digest& hash_ch_sf);
  /// Resumption master secret from Transcript-Hash(ClientHello..client Finished).
  void derive_resumption(const Digest& hash_ch_cf);
};

}  // namespace mz::l6
