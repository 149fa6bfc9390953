// TLS 1.3 key schedule (RFC 8446 7.1, 7.3).
#include "megzawicol/l6/key_schedule.hpp"

#include <cstring>

namespace mz::l6 {

namespace {

const Digest& empty_hash() {
  static const Digest h = sha256({});
  return h;
}

Secret to_secret(const Bytes& b) {
  Secret s{};
  std::memcpy(s.data(), b.data(), s.size());
  return s;
}

}  // namespace

TrafficKeys traffic_keys(const Secret& traffic_secret) {
  TrafficKeys k;
  const Bytes key = hkdf_expand_label(traffic_secret, "key", {}, static_cast<uint16_t>(k.key.size()));
  const Bytes iv = hkdf_expand_label(traffic_secret, "iv", {}, static_cast<uint16_t>(k.iv.size()));
  std::memcpy(k.key.data(), key.data(), k.key.size());
  std::memcpy(k.iv.data(), iv.data(), k.iv.size());
  return k;
}

Secret finished_key(const Secret& base_key) {
  return to_secret(hkdf_expand_label(base_key, "finished", {}, kHashLen));
}

Digest finished_verify_data(const Secret& base_key, const Digest& transcript_hash) {
  return hmac_sha256(finished_key(base_key), transcript_hash);
}

Secret next_application_secret(const Secret& secret) {
  return to_secret(hkdf_expand_label(secret, "traffic upd", {}, kHashLen));
}

void KeySchedule::set_shared_secret(ByteView ecdhe_shared) {
  static constexpr std::array<uint8_t, kHashLen> kZero{};
  early = hkdf_extract(kZero, kZero);
  derived_for_handshake = derive_secret(early, "derived", empty_hash());
  handshake = hkdf_extract(derived_for_handshake, ecdhe_shared);
}

void KeySchedule::derive_handshake_traffic(const Digest& hash_ch_sh) {
  client_handshake_traffic = derive_secret(handshake, "c hs traffic", hash_ch_sh);
  server_handshake_traffic = derive_secret(handshake, "s hs traffic", hash_ch_sh);
}

void KeySchedule::derive_application_traffic(const Digest& hash_ch_sf) {
  static constexpr std::array<uint8_t, kHashLen> kZero{};
  derived_for_master = derive_secret(handshake, "derived", empty_hash());
  master = hkdf_extract(derived_for_master, kZero);
  client_application_traffic_0 = derive_secret(master, "c ap traffic", hash_ch_sf);
  server_application_traffic_0 = derive_secret(master, "s ap traffic", hash_ch_sf);
  exporter_master = derive_secret(master, "exp master", hash_ch_sf);
}

void KeySchedule::derive_resumption(const Digest& hash_ch_cf) {
  resumption_master = derive_secret(master, "res master", hash_ch_cf);
}

}  // namespace mz::l6
