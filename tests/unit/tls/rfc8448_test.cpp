// L6 primitives, key schedule, record protection and message decoders against the
// published traces: RFC 8448 section 3 (Simple 1-RTT Handshake) and RFC 8032 (Ed25519).
#include <doctest/doctest.h>

#include "megzawicol/l6/crypto.hpp"
#include "megzawicol/l6/handshake_msgs.hpp"
#include "megzawicol/l6/key_schedule.hpp"
#include "megzawicol/l6/record.hpp"
#include "tls_test_util.hpp"

using namespace mz;
using namespace mz::l6;
using namespace mz::l6::test;

namespace {

template <size_t N>
Bytes B(const std::array<uint8_t, N>& a) {
  return Bytes(a.begin(), a.end());
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Digest transcript_of(std::initializer_list<const char*> names) {
  TranscriptHash t;
  for (const char* n : names) t.update(rfc(n));
  return t.current();
}

}  // namespace

TEST_CASE("rfc8448: x25519 public keys and shared secret") {
  const auto cpriv = arr<32>(rfc("client_x25519_private"));
  const auto spriv = arr<32>(rfc("server_x25519_private"));
  CHECK(B(x25519_public(cpriv)) == rfc("client_x25519_public"));
  CHECK(B(x25519_public(spriv)) == rfc("server_x25519_public"));
  auto s1 = x25519_agree(cpriv, rfc("server_x25519_public"));
  auto s2 = x25519_agree(spriv, rfc("client_x25519_public"));
  REQUIRE(s1.ok());
  REQUIRE(s2.ok());
  CHECK(B(*s1) == rfc("ecdhe_shared_secret"));
  CHECK(B(*s2) == rfc("ecdhe_shared_secret"));
}

TEST_CASE("x25519: small-order and short peer keys are refused") {
  const auto cpriv = arr<32>(rfc("client_x25519_private"));
  CHECK_FALSE(x25519_agree(cpriv, Bytes(32, 0)).ok());
  Bytes one(32, 0);
  one[0] = 1;  // the point of order 1 (u = 1)
  CHECK_FALSE(x25519_agree(cpriv, one).ok());
  CHECK_FALSE(x25519_agree(cpriv, Bytes(31, 9)).ok());
  SeededRandom rng(5);
  const auto kp = x25519_generate(rng);
  CHECK((kp.private_key[0] & 7) == 0);
  CHECK((kp.private_key[31] & 0xc0) == 0x40);
  CHECK(x25519_public(kp.private_key) == kp.public_key);
}

TEST_CASE("rfc8448: HkdfLabel encodings") {
  const Digest empty = sha256({});
  CHECK(B(empty) == rfc("empty_hash_sha256"));
  CHECK(hkdf_label("derived", empty, 32) == rfc("hkdf_label_info_derived"));
  CHECK(hkdf_label("c hs traffic", rfc("transcript_hash_ch_sh"), 32) == rfc("hkdf_label_info_c_hs_traffic"));
  CHECK(hkdf_label("key", {}, 16) == rfc("hkdf_label_info_key16"));
  CHECK(hkdf_label("iv", {}, 12) == rfc("hkdf_label_info_iv12"));
  CHECK(hkdf_label("finished", {}, 32) == rfc("hkdf_label_info_finished"));
}

TEST_CASE("rfc8448: transcript hashes") {
  CHECK(B(transcript_of({"client_hello", "server_hello"})) == rfc("transcript_hash_ch_sh"));
  CHECK(B(transcript_of({"client_hello", "server_hello", "encrypted_extensions", "certificate",
                         "certificate_verify", "server_finished_msg"})) == rfc("transcript_hash_ch_sf"));
  CHECK(B(transcript_of({"client_hello", "server_hello", "encrypted_extensions", "certificate",
                         "certificate_verify", "server_finished_msg", "client_finished_msg"})) ==
        rfc("transcript_hash_ch_cf"));
  // current() leaves the running state alone.
  TranscriptHash t;
  t.update(rfc("client_hello"));
  (void)t.current();
  t.update(rfc("server_hello"));
  CHECK(B(t.current()) == rfc("transcript_hash_ch_sh"));
}

TEST_CASE("rfc8448: every key schedule secret") {
  KeySchedule ks;
  ks.set_shared_secret(rfc("ecdhe_shared_secret"));
  CHECK(B(ks.early) == rfc("early_secret"));
  CHECK(B(ks.derived_for_handshake) == rfc("derived_for_handshake"));
  CHECK(B(ks.handshake) == rfc("handshake_secret"));
  ks.derive_handshake_traffic(arr<32>(rfc("transcript_hash_ch_sh")));
  CHECK(B(ks.client_handshake_traffic) == rfc("client_handshake_traffic_secret"));
  CHECK(B(ks.server_handshake_traffic) == rfc("server_handshake_traffic_secret"));
  ks.derive_application_traffic(arr<32>(rfc("transcript_hash_ch_sf")));
  CHECK(B(ks.derived_for_master) == rfc("derived_for_master"));
  CHECK(B(ks.master) == rfc("master_secret"));
  CHECK(B(ks.client_application_traffic_0) == rfc("client_application_traffic_secret_0"));
  CHECK(B(ks.server_application_traffic_0) == rfc("server_application_traffic_secret_0"));
  CHECK(B(ks.exporter_master) == rfc("exporter_master_secret"));
  ks.derive_resumption(arr<32>(rfc("transcript_hash_ch_cf")));
  CHECK(B(ks.resumption_master) == rfc("resumption_master_secret"));
  // The resumption PSK for ticket_nonce 0000 (RFC 8446 4.6.1), a check of HKDF-Expand-Label.
  CHECK(hkdf_expand_label(ks.resumption_master, "resumption", Bytes{0, 0}, 32) == rfc("resumption_psk_nonce_0000"));
}

TEST_CASE("rfc8448: traffic keys and IVs") {
  auto check = [](const char* secret, const char* key, const char* iv) {
    const TrafficKeys k = traffic_keys(arr<32>(rfc(secret)));
    CHECK(B(k.key) == rfc(key));
    CHECK(B(k.iv) == rfc(iv));
  };
  check("server_handshake_traffic_secret", "server_handshake_write_key", "server_handshake_write_iv");
  check("client_handshake_traffic_secret", "client_handshake_write_key", "client_handshake_write_iv");
  check("server_application_traffic_secret_0", "server_application_write_key", "server_application_write_iv");
  check("client_application_traffic_secret_0", "client_application_write_key", "client_application_write_iv");
}

TEST_CASE("rfc8448: both Finished values") {
  const auto shs = arr<32>(rfc("server_handshake_traffic_secret"));
  const auto chs = arr<32>(rfc("client_handshake_traffic_secret"));
  CHECK(B(finished_key(shs)) == rfc("server_finished_key"));
  CHECK(B(finished_key(chs)) == rfc("client_finished_key"));
  const Digest th_cv = transcript_of({"client_hello", "server_hello", "encrypted_extensions", "certificate",
                                      "certificate_verify"});
  const Digest sf = finished_verify_data(shs, th_cv);
  CHECK(B(sf) == rfc("server_finished_verify_data"));
  CHECK(encode(Finished{B(sf)}) == rfc("server_finished_msg"));
  const Digest cf = finished_verify_data(chs, arr<32>(rfc("transcript_hash_ch_sf")));
  CHECK(B(cf) == rfc("client_finished_verify_data"));
  CHECK(encode(Finished{B(cf)}) == rfc("client_finished_msg"));
}

TEST_CASE("rfc8448: protected records sealed with the RFC keys match byte for byte") {
  const TrafficKeys shs = traffic_keys(arr<32>(rfc("server_handshake_traffic_secret")));
  const TrafficKeys chs = traffic_keys(arr<32>(rfc("client_handshake_traffic_secret")));
  const TrafficKeys sap = traffic_keys(arr<32>(rfc("server_application_traffic_secret_0")));
  const TrafficKeys cap = traffic_keys(arr<32>(rfc("client_application_traffic_secret_0")));
  const Bytes flight = cat({rfc("encrypted_extensions"), rfc("certificate"), rfc("certificate_verify"),
                            rfc("server_finished_msg")});

  SUBCASE("server handshake flight (seq 0)") {
    RecordProtection p(shs);
    Bytes out;
    p.seal(ContentType::handshake, flight, out);
    CHECK(to_hex(out) == to_hex(rfc("server_handshake_record_protected")));
    CHECK(p.sequence() == 1);
  }
  SUBCASE("client Finished (seq 0)") {
    RecordProtection p(chs);
    Bytes out;
    p.seal(ContentType::handshake, rfc("client_finished_msg"), out);
    CHECK(to_hex(out) == to_hex(rfc("client_finished_record_protected")));
  }
  SUBCASE("server application epoch: ticket, data, close_notify (seq 0, 1, 2)") {
    RecordProtection p(sap);
    Bytes out;
    p.seal(ContentType::handshake, rfc("new_session_ticket_msg"), out);
    CHECK(to_hex(out) == to_hex(rfc("new_session_ticket_record_protected")));
    out.clear();
    p.seal(ContentType::application_data, rfc("application_data_payload"), out);
    CHECK(to_hex(out) == to_hex(rfc("server_application_data_record_protected")));
    out.clear();
    p.seal(ContentType::alert, Bytes{1, 0}, out);
    CHECK(to_hex(out) == to_hex(rfc("server_alert_record_protected")));
  }
  SUBCASE("client application epoch: data, close_notify (seq 0, 1)") {
    RecordProtection p(cap);
    Bytes out;
    p.seal(ContentType::application_data, rfc("application_data_payload"), out);
    CHECK(to_hex(out) == to_hex(rfc("client_application_data_record_protected")));
    out.clear();
    p.seal(ContentType::alert, Bytes{1, 0}, out);
    CHECK(to_hex(out) == to_hex(rfc("client_alert_record_protected")));
  }
  SUBCASE("the RFC's records open to the RFC's plaintext") {
    RecordProtection s(shs);
    const Bytes rec = rfc("server_handshake_record_protected");
    ContentType type{};
    Bytes content;
    auto err = s.open(ByteView(rec).first(5), ByteView(rec).subspan(5), type, content);
    REQUIRE_FALSE(err);
    CHECK(type == ContentType::handshake);
    CHECK(content == flight);

    RecordProtection c(cap);
    const Bytes a = rfc("client_application_data_record_protected");
    REQUIRE_FALSE(c.open(ByteView(a).first(5), ByteView(a).subspan(5), type, content));
    CHECK(type == ContentType::application_data);
    CHECK(content == rfc("application_data_payload"));
    const Bytes al = rfc("client_alert_record_protected");
    REQUIRE_FALSE(c.open(ByteView(al).first(5), ByteView(al).subspan(5), type, content));
    CHECK(type == ContentType::alert);
    CHECK(content == Bytes{1, 0});
  }
  SUBCASE("a flipped bit in the RFC record fails with bad_record_mac and no plaintext") {
    RecordProtection s(shs);
    Bytes rec = rfc("server_handshake_record_protected");
    rec[100] ^= 0x04;
    ContentType type{};
    Bytes content;
    auto err = s.open(ByteView(rec).first(5), ByteView(rec).subspan(5), type, content);
    REQUIRE(err);
    CHECK(err->alert == AlertDescription::bad_record_mac);
    CHECK(content.empty());
    CHECK(s.sequence() == 0);
    // A modified header (the AAD) fails as well.
    Bytes rec2 = rfc("server_handshake_record_protected");
    rec2[2] = 0x01;
    CHECK(s.open(ByteView(rec2).first(5), ByteView(rec2).subspan(5), type, content));
  }
}

TEST_CASE("rfc8448: decoders parse the RFC's handshake messages") {
  SUBCASE("ClientHello") {
    const Bytes msg = rfc("client_hello");
    auto h = peek_handshake_header(msg);
    REQUIRE(h);
    CHECK(h->type == HandshakeType::client_hello);
    CHECK(h->length + 4 == msg.size());
    auto ch = decode_client_hello(ByteView(msg).subspan(4));
    REQUIRE_MESSAGE(ch.ok(), (ch.ok() ? "" : ch.error().message));
    CHECK(ch->legacy_version == 0x0303);
    CHECK(to_hex(ch->random) == "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7");
    CHECK(ch->legacy_session_id.empty());
    CHECK(ch->cipher_suites == std::vector<uint16_t>{0x1301, 0x1303, 0x1302});
    CHECK(ch->legacy_compression_methods == Bytes{0});
    CHECK(ch->server_name == "server");
    CHECK(ch->supported_versions == std::vector<uint16_t>{0x0304});
    CHECK(std::find(ch->supported_groups.begin(), ch->supported_groups.end(), kGroupX25519) !=
          ch->supported_groups.end());
    REQUIRE(ch->key_shares.size() == 1);
    CHECK(ch->key_shares[0].group == kGroupX25519);
    CHECK(ch->key_shares[0].key_exchange == rfc("client_x25519_public"));
    CHECK_FALSE(ch->signature_algorithms.empty());
    CHECK(ch->server_certificate_types.empty());
    CHECK_FALSE(ch->has_pre_shared_key);
    // Unknown extensions (renegotiation_info, session_ticket, psk_key_exchange_modes,
    // record_size_limit) are skipped but listed.
    CHECK(ch->extensions_seen.size() == 9);
    CHECK(summarize(*ch).find("sni=server") != std::string::npos);
  }
  SUBCASE("ServerHello, re-encoded byte for byte") {
    const Bytes msg = rfc("server_hello");
    auto sh = decode_server_hello(ByteView(msg).subspan(4));
    REQUIRE(sh.ok());
    CHECK(sh->cipher_suite == kTlsAes128GcmSha256);
    CHECK(sh->selected_version == kTls13);
    CHECK_FALSE(sh->is_hello_retry_request);
    REQUIRE(sh->key_share);
    CHECK(sh->key_share->group == kGroupX25519);
    CHECK(sh->key_share->key_exchange == rfc("server_x25519_public"));
    CHECK(encode(*sh) == msg);
  }
  SUBCASE("EncryptedExtensions, Certificate, CertificateVerify, Finished") {
    const Bytes ee_msg = rfc("encrypted_extensions");
    auto ee = decode_encrypted_extensions(ByteView(ee_msg).subspan(4));
    REQUIRE(ee.ok());
    CHECK(ee->server_name_ack);
    CHECK_FALSE(ee->server_certificate_type);
    CHECK(ee->supported_groups.size() == 9);

    const Bytes cert_msg = rfc("certificate");
    auto cert = decode_certificate(ByteView(cert_msg).subspan(4));
    REQUIRE(cert.ok());
    CHECK(cert->request_context.empty());
    REQUIRE(cert->entries.size() == 1);
    CHECK(cert->entries[0].data.size() == 432);  // the RSA certificate
    CHECK_FALSE(parse_ed25519_spki(cert->entries[0].data).ok());
    CHECK(encode(*cert) == cert_msg);

    const Bytes cv_msg = rfc("certificate_verify");
    auto cv = decode_certificate_verify(ByteView(cv_msg).subspan(4));
    REQUIRE(cv.ok());
    CHECK(cv->algorithm == 0x0804);
    CHECK(cv->signature.size() == 128);
    CHECK(encode(*cv) == cv_msg);

    const Bytes fin_msg = rfc("server_finished_msg");
    auto fin = decode_finished(ByteView(fin_msg).subspan(4));
    REQUIRE(fin.ok());
    CHECK(fin->verify_data == rfc("server_finished_verify_data"));
  }
}

TEST_CASE("rfc8032: Ed25519 key, signature and SubjectPublicKeyInfo") {
  const auto j = load_json("rfc8032.json");
  const auto seed = arr<32>(hex(j.at("secret_key").get<std::string>()));
  const Bytes pub = hex(j.at("public_key").get<std::string>());
  const Bytes msg = hex(j.at("message").get<std::string>());
  const Bytes sig = hex(j.at("signature").get<std::string>());
  CHECK(B(ed25519_public(seed)) == pub);
  CHECK(B(ed25519_sign(seed, msg)) == sig);
  CHECK(ed25519_verify(arr<32>(pub), msg, sig));
  Bytes bad = sig;
  bad[10] ^= 1;
  CHECK_FALSE(ed25519_verify(arr<32>(pub), msg, bad));
  CHECK_FALSE(ed25519_verify(arr<32>(pub), Bytes{0x73}, sig));
  CHECK_FALSE(ed25519_verify(arr<32>(pub), msg, ByteView(sig).first(63)));
  CHECK(ed25519_spki(arr<32>(pub)) == hex(j.at("spki").get<std::string>()));
  auto back = parse_ed25519_spki(hex(j.at("spki").get<std::string>()));
  REQUIRE(back.ok());
  CHECK(B(*back) == pub);
}

TEST_CASE("CertificateVerify content layout") {
  Digest h{};
  h.fill(0xab);
  const Bytes c = certificate_verify_content(h, true);
  REQUIRE(c.size() == 64 + 33 + 1 + 32);
  CHECK(std::all_of(c.begin(), c.begin() + 64, [](uint8_t b) { return b == 0x20; }));
  CHECK(std::string(c.begin() + 64, c.begin() + 97) == "TLS 1.3, server CertificateVerify");
  CHECK(c[97] == 0);
  CHECK(c.back() == 0xab);
}
