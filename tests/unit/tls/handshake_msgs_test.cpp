// Handshake message codecs: emit -> parse round trips, and malformed input (truncations,
// bit flips, random bytes) never crashes a decoder.
#include <doctest/doctest.h>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l6/handshake_msgs.hpp"
#include "tls_test_util.hpp"

using namespace mz;
using namespace mz::l6;
using namespace mz::l6::test;

namespace {

ClientHello sample_client_hello() {
  ClientHello ch;
  for (size_t i = 0; i < 32; ++i) ch.random[i] = static_cast<uint8_t>(i);
  ch.legacy_session_id = Bytes(32, 0x55);
  ch.cipher_suites = {kTlsAes128GcmSha256, 0x1303};
  ch.server_name = "server.example";
  ch.supported_versions = {kTls13};
  ch.supported_groups = {kGroupX25519, 0x0017};
  ch.signature_algorithms = {kSigEd25519, 0x0403};
  ch.key_shares = {KeyShareEntry{kGroupX25519, Bytes(32, 0x42)}};
  ch.has_key_share = true;
  ch.server_certificate_types = {kCertTypeRawPublicKey, kCertTypeX509};
  return ch;
}

ByteView body_of(const Bytes& msg) { return ByteView(msg).subspan(kHandshakeHeaderLen); }

/// Runs every decoder over `body`; the point is that none of them crashes or reads out of
/// bounds (run under ASan/UBSan with -DMZ_SANITIZE=ON).
void decode_all(ByteView body) {
  (void)decode_client_hello(body);
  (void)decode_server_hello(body);
  (void)decode_encrypted_extensions(body);
  (void)decode_certificate(body);
  (void)decode_certificate_verify(body);
  (void)decode_finished(body);
  (void)decode_key_update(body);
  (void)parse_ed25519_spki(body);
  (void)peek_handshake_header(body);
}

std::vector<Bytes> corpus() {
  std::vector<Bytes> msgs = {encode(sample_client_hello())};
  ServerHello sh;
  sh.legacy_session_id_echo = Bytes(32, 0x55);
  sh.cipher_suite = kTlsAes128GcmSha256;
  sh.selected_version = kTls13;
  sh.key_share = KeyShareEntry{kGroupX25519, Bytes(32, 7)};
  msgs.push_back(encode(sh));
  EncryptedExtensions ee;
  ee.server_certificate_type = kCertTypeRawPublicKey;
  ee.server_name_ack = true;
  msgs.push_back(encode(ee));
  Certificate c;
  c.entries.push_back({ed25519_spki(Ed25519Key{}), {}});
  msgs.push_back(encode(c));
  msgs.push_back(encode(CertificateVerify{kSigEd25519, Bytes(64, 3)}));
  msgs.push_back(encode(Finished{Bytes(32, 9)}));
  for (const char* n : {"client_hello", "server_hello", "encrypted_extensions", "certificate",
                        "certificate_verify", "server_finished_msg", "new_session_ticket_msg"}) {
    msgs.push_back(rfc(n));
  }
  return msgs;
}

}  // namespace

TEST_CASE("ClientHello round trip") {
  const ClientHello ch = sample_client_hello();
  const Bytes msg = encode(ch);
  CHECK(msg[0] == 1);
  CHECK(peek_handshake_header(msg)->length + 4 == msg.size());
  auto back = decode_client_hello(body_of(msg));
  REQUIRE(back.ok());
  CHECK(back->random == ch.random);
  CHECK(back->legacy_session_id == ch.legacy_session_id);
  CHECK(back->cipher_suites == ch.cipher_suites);
  CHECK(back->server_name == ch.server_name);
  CHECK(back->supported_versions == ch.supported_versions);
  CHECK(back->supported_groups == ch.supported_groups);
  CHECK(back->signature_algorithms == ch.signature_algorithms);
  REQUIRE(back->key_shares.size() == 1);
  CHECK(back->key_shares[0].key_exchange == ch.key_shares[0].key_exchange);
  CHECK(back->server_certificate_types == ch.server_certificate_types);
  CHECK(encode(*back) == msg);
}

TEST_CASE("ServerHello and HelloRetryRequest") {
  ServerHello sh;
  sh.random.fill(0x11);
  sh.cipher_suite = kTlsAes128GcmSha256;
  sh.selected_version = kTls13;
  sh.key_share = KeyShareEntry{kGroupX25519, Bytes(32, 1)};
  const Bytes msg = encode(sh);
  auto back = decode_server_hello(body_of(msg));
  REQUIRE(back.ok());
  CHECK(back->random == sh.random);
  CHECK(back->key_share->key_exchange == sh.key_share->key_exchange);
  CHECK(encode(*back) == msg);

  // An HRR carries only the selected group in key_share.
  Bytes hrr = {0x03, 0x03};
  const auto& r = hello_retry_request_random();
  hrr.insert(hrr.end(), r.begin(), r.end());
  const Bytes tail = {0x00, 0x13, 0x01, 0x00, 0x00, 0x0c, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
                      0x00, 0x33, 0x00, 0x02, 0x00, 0x17};
  hrr.insert(hrr.end(), tail.begin(), tail.end());
  auto h = decode_server_hello(hrr);
  REQUIRE(h.ok());
  CHECK(h->is_hello_retry_request);
  CHECK(h->hrr_selected_group == 0x0017);
  CHECK(summarize(*h).rfind("HelloRetryRequest", 0) == 0);
}

TEST_CASE("EncryptedExtensions Certificate CertificateVerify KeyUpdate round trips") {
  EncryptedExtensions ee;
  ee.server_certificate_type = kCertTypeRawPublicKey;
  auto ee2 = decode_encrypted_extensions(body_of(encode(ee)));
  REQUIRE(ee2.ok());
  CHECK(ee2->server_certificate_type == kCertTypeRawPublicKey);

  Ed25519Key k{};
  k.fill(0x5a);
  Certificate c;
  c.entries.push_back({ed25519_spki(k), {}});
  auto c2 = decode_certificate(body_of(encode(c)));
  REQUIRE(c2.ok());
  REQUIRE(c2->entries.size() == 1);
  CHECK(to_hex(c2->entries[0].data).rfind("302a300506032b6570032100", 0) == 0);
  CHECK(*parse_ed25519_spki(c2->entries[0].data) == k);

  auto cv = decode_certificate_verify(body_of(encode(CertificateVerify{kSigEd25519, Bytes(64, 1)})));
  REQUIRE(cv.ok());
  CHECK(cv->algorithm == kSigEd25519);
  CHECK(cv->signature == Bytes(64, 1));

  auto ku = decode_key_update(body_of(encode(KeyUpdate{true})));
  REQUIRE(ku.ok());
  CHECK(ku->update_requested);
  CHECK_FALSE(decode_key_update(Bytes{2}).ok());
  CHECK_FALSE(decode_key_update(Bytes{}).ok());
}

TEST_CASE("decoders refuse malformed bodies") {
  const Bytes ch = encode(sample_client_hello());
  SUBCASE("trailing byte") {
    Bytes b(ch.begin() + 4, ch.end());
    b.push_back(0);
    CHECK_FALSE(decode_client_hello(b).ok());
  }
  SUBCASE("session id longer than 32") {
    ClientHello c = sample_client_hello();
    c.legacy_session_id = Bytes(33, 1);
    CHECK_FALSE(decode_client_hello(body_of(encode(c))).ok());
  }
  SUBCASE("duplicate extension") {
    // Two supported_versions extensions appended by hand.
    Bytes body = {0x03, 0x03};
    body.insert(body.end(), 32, 0);
    const Bytes rest = {0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00, 0x00, 0x0e,
                        0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04,
                        0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04};
    body.insert(body.end(), rest.begin(), rest.end());
    CHECK_FALSE(decode_client_hello(body).ok());
    // The same with one copy parses.
    Bytes one(body.begin(), body.end() - 7);
    one[2 + 32 + 1 + 4 + 2 + 1] = 0x07;
    auto ok = decode_client_hello(one);
    REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
    CHECK(ok->supported_versions == std::vector<uint16_t>{kTls13});
  }
  SUBCASE("odd-length lists and short keys") {
    CHECK_FALSE(decode_finished(Bytes(31, 0)).ok());
    CHECK_FALSE(decode_finished(Bytes(33, 0)).ok());
    CHECK(decode_certificate(Bytes{0x00, 0x00, 0x00, 0x00}).ok());  // an empty list parses
    CHECK_FALSE(decode_certificate(Bytes{0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00}).ok());
    CHECK_FALSE(decode_encrypted_extensions(Bytes{0x00, 0x05, 0x00, 0x14, 0x00, 0x01}).ok());
    CHECK_FALSE(decode_encrypted_extensions(Bytes{0x00, 0x05, 0x00, 0x14, 0x00, 0x02, 0x02, 0x02}).ok());
  }
}

TEST_CASE("every truncation of every message is refused without a crash") {
  for (const Bytes& msg : corpus()) {
    const ByteView body = body_of(msg);
    for (size_t n = 0; n < body.size(); ++n) {
      const Bytes cut(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(n));
      decode_all(cut);
      switch (static_cast<HandshakeType>(msg[0])) {
        case HandshakeType::client_hello: {
          // A ClientHello cut right after its compression methods is a valid extension-less
          // hello; every other cut is an error.
          auto r = decode_client_hello(cut);
          if (r.ok()) CHECK(r->extensions_seen.empty());
          break;
        }
        case HandshakeType::server_hello: CHECK_FALSE(decode_server_hello(cut).ok()); break;
        case HandshakeType::encrypted_extensions: CHECK_FALSE(decode_encrypted_extensions(cut).ok()); break;
        case HandshakeType::certificate: CHECK_FALSE(decode_certificate(cut).ok()); break;
        case HandshakeType::certificate_verify: CHECK_FALSE(decode_certificate_verify(cut).ok()); break;
        case HandshakeType::finished: CHECK_FALSE(decode_finished(cut).ok()); break;
        default: break;
      }
    }
  }
}

TEST_CASE("random bytes and bit flips never crash a decoder") {
  Rng rng(1234);
  const auto msgs = corpus();
  for (int i = 0; i < 20000; ++i) {
    Bytes b;
    if (i % 2 == 0) {
      b.resize(rng.uniform_int(0, 300));
      rng.fill(b.data(), b.size());
    } else {
      const Bytes& m = msgs[rng.uniform_int(0, msgs.size() - 1)];
      b.assign(m.begin() + 4, m.end());
      const uint64_t flips = rng.uniform_int(1, 4);
      for (uint64_t f = 0; f < flips && !b.empty(); ++f) {
        b[rng.uniform_int(0, b.size() - 1)] ^= static_cast<uint8_t>(1u << rng.uniform_int(0, 7));
      }
    }
    decode_all(b);
  }
  CHECK(true);
}
