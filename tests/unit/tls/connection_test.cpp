// TlsConnection: a client and a server exchanging bytes in memory.
#include <doctest/doctest.h>

#include <sstream>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l6/tls_connection.hpp"
#include "tls_test_util.hpp"

using namespace mz;
using namespace mz::l6;
using namespace mz::l6::test;

namespace {

using State = TlsConnection::State;

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

/// Splits a byte stream made of whole records.
std::vector<Bytes> split_records(const Bytes& wire) {
  std::vector<Bytes> out;
  size_t at = 0;
  while (at + 5 <= wire.size()) {
    const size_t len = parse_record_header(wire.data() + at).length;
    REQUIRE(at + 5 + len <= wire.size());
    out.emplace_back(wire.begin() + static_cast<std::ptrdiff_t>(at),
                     wire.begin() + static_cast<std::ptrdiff_t>(at + 5 + len));
    at += 5 + len;
  }
  REQUIRE(at == wire.size());
  return out;
}

Bytes join(const std::vector<Bytes>& recs) {
  Bytes out;
  for (const auto& r : recs) out.insert(out.end(), r.begin(), r.end());
  return out;
}

/// The secret of `label` in NSS key log text.
Secret keylog_secret(const std::string& keylog, const std::string& label) {
  std::istringstream in(keylog);
  std::string l, cr, sec;
  while (in >> l >> cr >> sec) {
    if (l == label) return arr<32>(hex(sec));
  }
  FAIL("no " << label << " in key log");
  return {};
}

/// Decrypts the first protected record (sequence 0 under `secret`), lets `edit` change the
/// plaintext, and seals it again: what an attacker holding the key could do.
Bytes reseal(const Bytes& record, const Secret& secret, const std::function<void(Bytes&)>& edit) {
  RecordProtection open(traffic_keys(secret));
  ContentType t{};
  Bytes content;
  REQUIRE_FALSE(open.open(ByteView(record).first(5), ByteView(record).subspan(5), t, content));
  edit(content);
  RecordProtection seal(traffic_keys(secret));
  Bytes out;
  seal.seal(t, content, out);
  return out;
}

/// Offset of the handshake message of `type` inside a run of handshake messages.
size_t find_message(const Bytes& msgs, HandshakeType type) {
  size_t at = 0;
  while (at + 4 <= msgs.size()) {
    auto h = peek_handshake_header(ByteView(msgs).subspan(at));
    if (h->type == type) return at;
    at += 4 + h->length;
  }
  FAIL("message not found");
  return 0;
}

template <class T>
std::vector<T> events_of(const std::vector<TlsEvent>& ev) {
  std::vector<T> out;
  for (const auto& e : ev) {
    if (const auto* p = std::get_if<T>(&e)) out.push_back(*p);
  }
  return out;
}

void handshake(Pair& p) {
  p.client.start();
  p.pump();
  REQUIRE(p.client.state() == State::Connected);
  REQUIRE(p.server.state() == State::Connected);
}

}  // namespace

TEST_CASE("handshake completes and reports what happened") {
  Pair p;
  p.client.start();
  CHECK(p.client.state() == State::ClientWaitServerHello);
  p.pump();
  CHECK(p.client.state() == State::Connected);
  CHECK(p.server.state() == State::Connected);
  CHECK(p.client.error().empty());
  CHECK(p.server.error().empty());

  const auto cdone = events_of<HandshakeDone>(p.client_events);
  REQUIRE(cdone.size() == 1);
  CHECK(cdone[0].cipher_suite == 0x1301);
  CHECK(cdone[0].cipher == "TLS_AES_128_GCM_SHA256");
  CHECK(cdone[0].peer_key_fingerprint == ed25519_key_fingerprint(ed25519_public(server_seed())));
  CHECK(cdone[0].peer_key_fingerprint.size() == 7 + 64);
  REQUIRE(events_of<HandshakeDone>(p.server_events).size() == 1);

  // Message trace, in order.
  std::vector<std::string> trace;
  for (const auto& e : p.client_events) {
    if (const auto* s = std::get_if<MessageSent>(&e)) trace.push_back(">" + handshake_type_name(s->type));
    if (const auto* r = std::get_if<MessageReceived>(&e)) trace.push_back("<" + handshake_type_name(r->type));
  }
  CHECK(trace == std::vector<std::string>{">ClientHello", "<ServerHello", "<EncryptedExtensions", "<Certificate",
                                          "<CertificateVerify", "<Finished", ">Finished"});
  const auto sent = events_of<MessageSent>(p.client_events);
  CHECK(sent[0].summary.find("sni=server.example") != std::string::npos);
  CHECK(sent[0].summary.find("RawPublicKey") != std::string::npos);
  const auto server_sent = events_of<MessageSent>(p.server_events);
  REQUIRE(server_sent.size() == 5);
  CHECK(server_sent[2].type == HandshakeType::certificate);
  CHECK(server_sent[2].length == 4 + 1 + 3 + 3 + 44 + 2);  // one entry: the 44-byte SPKI

  // Key epochs: client read 2, write 2, read 3, write 3.
  const auto keys = events_of<KeysInstalled>(p.client_events);
  REQUIRE(keys.size() == 4);
  CHECK((keys[0].epoch == Epoch::handshake && keys[0].direction == Direction::read));
  CHECK((keys[1].epoch == Epoch::handshake && keys[1].direction == Direction::write));
  CHECK((keys[2].epoch == Epoch::application && keys[2].direction == Direction::read));
  CHECK((keys[3].epoch == Epoch::application && keys[3].direction == Direction::write));
}

TEST_CASE("the initial ClientHello record uses version 0x0301 and the server flight is one protected record") {
  Pair p;
  p.client.start();
  const Bytes ch = p.client.take_transport();
  CHECK(ch[0] == 22);
  CHECK(ch[1] == 3);
  CHECK(ch[2] == 1);
  p.server.handle_transport(ch);
  const auto recs = split_records(p.server.take_transport());
  REQUIRE(recs.size() == 2);
  CHECK(recs[0][0] == 22);  // ServerHello in the clear
  CHECK(recs[1][0] == 23);  // EE..Finished protected
}

TEST_CASE("application data both ways and data queued before the handshake") {
  Pair p;
  CHECK(p.client.write_app(text("early hello")) == 11);  // queued until connected
  CHECK(p.server.write_app(text("server first")) == 12);
  handshake(p);
  CHECK(p.server.take_app() == text("early hello"));
  CHECK(p.client.take_app() == text("server first"));
  p.client.write_app(text("ping"));
  p.pump();
  CHECK(p.server.take_app() == text("ping"));
  p.server.write_app(text("pong"));
  p.pump();
  CHECK(p.client.take_app() == text("pong"));
}

TEST_CASE("any chunking gives the same bytes and the same data") {
  auto run = [](auto chunker) {
    Pair p;
    p.client.write_app(text("request"));
    p.client.start();
    Bytes c2s_all, s2c_all;
    for (int round = 0; round < 50; ++round) {
      Bytes c2s = p.client.take_transport();
      Bytes s2c = p.server.take_transport();
      if (round == 3) p.server.write_app(text("response"));
      if (c2s.empty() && s2c.empty() && round > 3) break;
      c2s_all.insert(c2s_all.end(), c2s.begin(), c2s.end());
      s2c_all.insert(s2c_all.end(), s2c.begin(), s2c.end());
      Pair::deliver(p.server, c2s, chunker);
      Pair::deliver(p.client, s2c, chunker);
    }
    CHECK(p.client.state() == State::Connected);
    CHECK(p.server.state() == State::Connected);
    return std::tuple{c2s_all, s2c_all, p.server.take_app(), p.client.take_app()};
  };
  const auto whole = run([](size_t n) { return n; });
  CHECK(std::get<2>(whole) == text("request"));
  CHECK(std::get<3>(whole) == text("response"));
  const auto bytewise = run([](size_t) { return size_t{1}; });
  CHECK(bytewise == whole);
  Rng rng(99);
  const auto random = run([&](size_t n) { return static_cast<size_t>(rng.uniform_int(1, std::min<size_t>(n, 70))); });
  CHECK(random == whole);
}

TEST_CASE("a 1 MB transfer in both directions") {
  Pair p;
  handshake(p);
  Bytes big(1 << 20);
  Rng rng(3);
  rng.fill(big.data(), big.size());
  CHECK(p.client.write_app(big) == big.size());
  Bytes wire = p.client.take_transport();
  // 64 full records: 5 + 16384 + 1 + 16 bytes each.
  CHECK(wire.size() == 64 * (5 + 16384 + 1 + 16));
  Rng chunks(4);
  Pair::deliver(p.server, wire, [&](size_t) { return static_cast<size_t>(chunks.uniform_int(1, 40000)); });
  CHECK(p.server.take_app() == big);
  p.server.write_app(big);
  p.pump();
  CHECK(p.client.take_app() == big);
  CHECK(p.client.state() == State::Connected);
}

TEST_CASE("a flipped bit in a record gives bad_record_mac and no plaintext") {
  Pair p;
  handshake(p);
  p.client.write_app(text("first"));
  p.client.write_app(text("secret data"));
  Bytes wire = p.client.take_transport();
  auto recs = split_records(wire);
  REQUIRE(recs.size() == 2);
  recs[1][12] ^= 0x10;
  p.server.handle_transport(join(recs));
  CHECK(p.server.take_app() == text("first"));  // the intact record before it
  CHECK(p.server.state() == State::Failed);
  CHECK(p.server.error().find("bad_record_mac") != std::string::npos);
  const auto ev = drain_events(p.server);
  auto a = find_alert(ev, true);
  REQUIRE(a);
  CHECK(a->description == AlertDescription::bad_record_mac);
  CHECK(a->level == AlertLevel::fatal);

  // Sticky: later calls do nothing, and the alert reaches the client.
  const Bytes alert = p.server.take_transport();
  CHECK(alert.size() == 5 + 2 + 1 + 16);
  CHECK(p.server.write_app(text("x")) == 0);
  p.server.handle_transport(wire);
  CHECK(p.server.take_transport().empty());
  CHECK(p.server.take_app().empty());
  p.client.handle_transport(alert);
  CHECK(p.client.state() == State::Failed);
  auto got = find_alert(drain_events(p.client), false);
  REQUIRE(got);
  CHECK(got->description == AlertDescription::bad_record_mac);
  CHECK(p.client.error() == "peer sent alert bad_record_mac");
}

TEST_CASE("a wrong pinned key fails the handshake with bad_certificate") {
  auto wrong = ed25519_public(server_seed());
  wrong[0] ^= 1;
  Pair p(client_config(wrong));
  p.client.start();
  p.pump();
  CHECK(p.client.state() == State::Failed);
  CHECK_FALSE(p.client.handshake_complete());
  CHECK(p.client.error().find("bad_certificate") != std::string::npos);
  auto sent = find_alert(p.client_events, true);
  REQUIRE(sent);
  CHECK(sent->description == AlertDescription::bad_certificate);
  CHECK(events_of<HandshakeDone>(p.client_events).empty());
  // The server reads the (handshake-key protected) alert and fails too.
  CHECK(p.server.state() == State::Failed);
  auto recv = find_alert(p.server_events, false);
  REQUIRE(recv);
  CHECK(recv->description == AlertDescription::bad_certificate);
  CHECK(events_of<HandshakeDone>(p.server_events).empty());
}

TEST_CASE("a server with a different key is refused") {
  std::array<uint8_t, 32> other{};
  other.fill(7);
  Pair p(client_config(ed25519_public(server_seed())), server_config(other));
  p.client.start();
  p.pump();
  CHECK(p.client.state() == State::Failed);
  CHECK(p.client.error().find("does not match the pinned key") != std::string::npos);
}

TEST_CASE("a wrong server Finished gives decrypt_error") {
  Pair p;
  p.client.start();
  p.server.handle_transport(p.client.take_transport());
  auto recs = split_records(p.server.take_transport());
  REQUIRE(recs.size() == 2);
  const Secret shs = keylog_secret(p.server.keylog_lines(), "SERVER_HANDSHAKE_TRAFFIC_SECRET");
  recs[1] = reseal(recs[1], shs, [](Bytes& c) { c.back() ^= 0x01; });  // last byte of verify_data
  p.client.handle_transport(join(recs));
  CHECK(p.client.state() == State::Failed);
  auto a = find_alert(drain_events(p.client), true);
  REQUIRE(a);
  CHECK(a->description == AlertDescription::decrypt_error);
  CHECK(p.client.error().find("Finished") != std::string::npos);
}

TEST_CASE("a bad CertificateVerify signature gives decrypt_error") {
  Pair p;
  p.client.start();
  p.server.handle_transport(p.client.take_transport());
  auto recs = split_records(p.server.take_transport());
  const Secret shs = keylog_secret(p.server.keylog_lines(), "SERVER_HANDSHAKE_TRAFFIC_SECRET");
  recs[1] = reseal(recs[1], shs, [](Bytes& c) {
    const size_t cv = find_message(c, HandshakeType::certificate_verify);
    c[cv + 4 + 2 + 2 + 5] ^= 0x80;  // inside the signature
  });
  p.client.handle_transport(join(recs));
  CHECK(p.client.state() == State::Failed);
  auto a = find_alert(drain_events(p.client), true);
  REQUIRE(a);
  CHECK(a->description == AlertDescription::decrypt_error);
  CHECK(p.client.error().find("CertificateVerify") != std::string::npos);
}

TEST_CASE("a wrong client Finished gives decrypt_error on the server") {
  Pair p;
  p.client.start();
  p.server.handle_transport(p.client.take_transport());
  p.client.handle_transport(p.server.take_transport());
  REQUIRE(p.client.state() == State::Connected);
  auto recs = split_records(p.client.take_transport());
  REQUIRE(recs.size() == 1);
  const Secret chs = keylog_secret(p.client.keylog_lines(), "CLIENT_HANDSHAKE_TRAFFIC_SECRET");
  recs[0] = reseal(recs[0], chs, [](Bytes& c) { c[10] ^= 0x01; });
  p.server.handle_transport(join(recs));
  CHECK(p.server.state() == State::Failed);
  auto a = find_alert(drain_events(p.server), true);
  REQUIRE(a);
  CHECK(a->description == AlertDescription::decrypt_error);
  CHECK(events_of<HandshakeDone>(drain_events(p.server)).empty());
}

TEST_CASE("garbage before the handshake gives an alert") {
  SUBCASE("an HTTP request to the server") {
    Pair p;
    p.server.handle_transport(text("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(p.server.state() == State::Failed);
    // A plaintext fatal unexpected_message alert.
    CHECK(p.server.take_transport() == Bytes{21, 3, 3, 0, 2, 2, 10});
  }
  SUBCASE("application data before any key") {
    Pair p;
    p.server.handle_transport(Bytes{23, 3, 3, 0, 20});  // refused on the header alone
    CHECK(p.server.state() == State::Failed);
    CHECK(p.server.error().find("unexpected_message") != std::string::npos);
  }
  SUBCASE("a change_cipher_spec before the ClientHello") {
    Pair p;
    p.server.handle_transport(Bytes{20, 3, 3, 0, 1, 1});
    CHECK(p.server.state() == State::Failed);
  }
  SUBCASE("a wrong handshake message first") {
    Pair p;
    Bytes rec;
    append_plaintext_records(ContentType::handshake, encode(Finished{Bytes(32, 0)}), rec);
    p.server.handle_transport(rec);
    CHECK(p.server.state() == State::Failed);
    CHECK(p.server.error().find("unexpected_message") != std::string::npos);
  }
  SUBCASE("a record announcing 2^16 - 1 bytes") {
    Pair p;
    p.server.handle_transport(Bytes{22, 3, 3, 0xff, 0xff});
    CHECK(p.server.take_transport() == Bytes{21, 3, 3, 0, 2, 2, 22});
  }
  SUBCASE("a handshake message announcing 16 MB") {
    Pair p;
    p.server.handle_transport(Bytes{22, 3, 3, 0, 4, 1, 0xff, 0xff, 0xff});
    CHECK(p.server.take_transport() == Bytes{21, 3, 3, 0, 2, 2, 50});
  }
  SUBCASE("the client before start()") {
    Pair p;
    p.client.handle_transport(Bytes{22, 3, 3, 0, 1, 0});
    CHECK(p.client.state() == State::Failed);
  }
}

TEST_CASE("endless garbage: an alert at once and nothing buffered") {
  Rng rng(8);
  for (int trial = 0; trial < 200; ++trial) {
    Pair p;
    const bool to_client = trial % 2 == 1;
    if (to_client) p.client.start(), (void)p.client.take_transport();
    TlsConnection& victim = to_client ? p.client : p.server;
    Bytes junk(4096);
    size_t fed = 0;
    while (victim.state() != State::Failed && fed < 200000) {
      rng.fill(junk.data(), junk.size());
      victim.handle_transport(junk);
      fed += junk.size();
    }
    CHECK(victim.state() == State::Failed);
    CHECK_FALSE(victim.take_transport().empty());
  }
}

TEST_CASE("random bytes in every state never crash") {
  Rng rng(2024);
  for (int trial = 0; trial < 300; ++trial) {
    Pair p;
    p.client.start();
    // Advance a random number of half-steps, then inject noise into one side.
    const int steps = static_cast<int>(rng.uniform_int(0, 3));
    for (int s = 0; s < steps; ++s) {
      if (s % 2 == 0) p.server.handle_transport(p.client.take_transport());
      else p.client.handle_transport(p.server.take_transport());
    }
    Bytes noise(rng.uniform_int(1, 600));
    rng.fill(noise.data(), noise.size());
    if (rng.bernoulli(0.5)) {
      // Keep a plausible record header so the noise reaches deeper layers.
      noise[0] = static_cast<uint8_t>(20 + rng.uniform_int(0, 3));
      if (noise.size() >= 5) {
        noise[1] = 3, noise[2] = 3;
        store_be16(noise.data() + 3, static_cast<uint16_t>(noise.size() - 5));
      }
    }
    (rng.bernoulli(0.5) ? p.client : p.server).handle_transport(noise);
    p.pump();
    (void)p.client.take_app();
    (void)p.server.take_app();
  }
  CHECK(true);
}

TEST_CASE("ClientHello negotiation failures") {
  auto hello = [](auto edit) {
    ClientHello ch;
    ch.random.fill(1);
    ch.cipher_suites = {kTlsAes128GcmSha256};
    ch.supported_versions = {kTls13};
    ch.supported_groups = {kGroupX25519};
    ch.signature_algorithms = {kSigEd25519};
    SeededRandom r(1);
    const auto kp = x25519_generate(r);
    ch.key_shares = {KeyShareEntry{kGroupX25519, Bytes(kp.public_key.begin(), kp.public_key.end())}};
    ch.has_key_share = true;
    ch.server_certificate_types = {kCertTypeRawPublicKey};
    edit(ch);
    Bytes rec;
    append_plaintext_records(ContentType::handshake, encode(ch), rec);
    return rec;
  };
  auto alert_from_server = [](const Bytes& rec) {
    SeededRandom rng(1);
    TlsConnection s(server_config(), rng);
    s.handle_transport(rec);
    CHECK(s.state() == State::Failed);
    const Bytes out = s.take_transport();
    REQUIRE(out.size() == 7);
    CHECK(out[0] == 21);
    return static_cast<AlertDescription>(out[6]);
  };
  SUBCASE("a well-formed hello is accepted") {
    SeededRandom rng(1);
    TlsConnection s(server_config(), rng);
    s.handle_transport(hello([](ClientHello&) {}));
    CHECK(s.state() == State::ServerWaitClientFinished);
  }
  SUBCASE("the legacy_session_id is echoed") {
    SeededRandom rng(1);
    TlsConnection s(server_config(), rng);
    s.handle_transport(hello([](ClientHello& ch) { ch.legacy_session_id = Bytes(32, 0x77); }));
    REQUIRE(s.state() == State::ServerWaitClientFinished);
    const Bytes out = s.take_transport();
    auto sh = decode_server_hello(ByteView(out).subspan(5 + 4, parse_record_header(out.data()).length - 4));
    REQUIRE(sh.ok());
    CHECK(sh->legacy_session_id_echo == Bytes(32, 0x77));
  }
  SUBCASE("RFC 8448's ClientHello (no ed25519 and no raw public key) -> handshake_failure") {
    CHECK(alert_from_server(rfc("client_hello_record")) == AlertDescription::handshake_failure);
  }
  SUBCASE("a message after the ClientHello in the same record -> unexpected_message") {
    // The ClientHello precedes a key change, so it must end its record (RFC 8446 5.1).
    Bytes rec = hello([](ClientHello&) {});
    const Bytes fin = encode(Finished{Bytes(32, 0)});
    rec.insert(rec.end(), fin.begin(), fin.end());
    store_be16(rec.data() + 3, static_cast<uint16_t>(rec.size() - 5));
    SeededRandom rng(1);
    TlsConnection s(server_config(), rng);
    s.handle_transport(rec);
    CHECK(s.state() == State::Failed);
    CHECK(s.error().find("spans a key change") != std::string::npos);
  }
  SUBCASE("unsupported group -> handshake_failure") {
    CHECK(alert_from_server(hello([](ClientHello& ch) {
            ch.supported_groups = {0x0017};
            ch.key_shares = {KeyShareEntry{0x0017, Bytes(65, 4)}};
          })) == AlertDescription::handshake_failure);
  }
  SUBCASE("x25519 supported but no share for it -> handshake_failure (no HelloRetryRequest)") {
    CHECK(alert_from_server(hello([](ClientHello& ch) {
            ch.supported_groups = {0x0017, kGroupX25519};
            ch.key_shares = {KeyShareEntry{0x0017, Bytes(65, 4)}};
          })) == AlertDescription::handshake_failure);
  }
  SUBCASE("no common cipher suite -> handshake_failure") {
    CHECK(alert_from_server(hello([](ClientHello& ch) { ch.cipher_suites = {0x1302}; })) ==
          AlertDescription::handshake_failure);
  }
  SUBCASE("no TLS 1.3 -> protocol_version") {
    CHECK(alert_from_server(hello([](ClientHello& ch) { ch.supported_versions = {0x0303}; })) ==
          AlertDescription::protocol_version);
  }
  SUBCASE("no raw public key -> unsupported_certificate") {
    CHECK(alert_from_server(hello([](ClientHello& ch) { ch.server_certificate_types = {kCertTypeX509}; })) ==
          AlertDescription::unsupported_certificate);
  }
  SUBCASE("no ed25519 -> handshake_failure") {
    CHECK(alert_from_server(hello([](ClientHello& ch) { ch.signature_algorithms = {0x0403}; })) ==
          AlertDescription::handshake_failure);
  }
  SUBCASE("small-order x25519 share -> illegal_parameter") {
    CHECK(alert_from_server(hello([](ClientHello& ch) { ch.key_shares[0].key_exchange = Bytes(32, 0); })) ==
          AlertDescription::illegal_parameter);
  }
  SUBCASE("a truncated hello -> decode_error") {
    Bytes msg = encode(ClientHello{});
    msg.resize(20);
    msg[1] = 0, msg[2] = 0, msg[3] = 16;
    Bytes rec;
    append_plaintext_records(ContentType::handshake, msg, rec);
    CHECK(alert_from_server(rec) == AlertDescription::decode_error);
  }
}

TEST_CASE("a small-order key share from the server gives illegal_parameter on the client") {
  Pair p;
  p.client.start();
  p.server.handle_transport(p.client.take_transport());
  auto recs = split_records(p.server.take_transport());
  // Replace the server's x25519 share (the last 32 bytes before supported_versions) by zeros.
  Bytes& sh = recs[0];
  const Bytes share = [&] {
    auto m = decode_server_hello(ByteView(sh).subspan(5 + 4));
    REQUIRE(m.ok());
    return m->key_share->key_exchange;
  }();
  auto it = std::search(sh.begin(), sh.end(), share.begin(), share.end());
  REQUIRE(it != sh.end());
  std::fill(it, it + 32, 0);
  p.client.handle_transport(recs[0]);
  CHECK(p.client.state() == State::Failed);
  // Sent in the clear: the client has no handshake keys yet.
  CHECK(p.client.take_transport() == Bytes{21, 3, 3, 0, 2, 2, 47});
}

TEST_CASE("one change_cipher_spec from the peer is ignored and a second is refused") {
  Pair p;
  p.client.start();
  Bytes ch = p.client.take_transport();
  const Bytes ccs = {20, 3, 3, 0, 1, 1};
  ch.insert(ch.end(), ccs.begin(), ccs.end());
  p.server.handle_transport(ch);
  CHECK(p.server.state() == State::ServerWaitClientFinished);
  p.server.handle_transport(ccs);
  CHECK(p.server.state() == State::Failed);
  CHECK(p.server.error().find("change_cipher_spec") != std::string::npos);

  // And a client accepts one before the server's flight.
  Pair q;
  q.client.start();
  q.server.handle_transport(q.client.take_transport());
  auto recs = split_records(q.server.take_transport());
  recs.insert(recs.begin() + 1, ccs);
  q.client.handle_transport(join(recs));
  CHECK(q.client.state() == State::Connected);
}

TEST_CASE("close_notify half-closes and later data is ignored") {
  Pair p;
  handshake(p);
  p.client.write_app(text("bye"));
  p.client.close();
  CHECK(p.client.write_closed());
  CHECK(p.client.write_app(text("more")) == 0);
  p.pump();
  CHECK(p.server.take_app() == text("bye"));
  CHECK(p.server.state() == State::Closed);
  CHECK(events_of<Closed>(p.server_events).size() == 1);
  // The server may still send (half-close), then closes too.
  p.server.write_app(text("last words"));
  p.server.close();
  p.pump();
  CHECK(p.client.take_app() == text("last words"));
  CHECK(p.client.state() == State::Closed);
  CHECK(p.client.error().empty());
}

TEST_CASE("close() during the handshake sends close_notify after the queued data") {
  Pair p;
  p.client.write_app(text("queued"));
  p.client.start();
  p.client.close();
  p.pump();
  CHECK(p.server.take_app() == text("queued"));
  CHECK(p.server.state() == State::Closed);
}

TEST_CASE("KeyUpdate in both directions keeps the data flowing") {
  Pair p;
  handshake(p);
  p.client.key_update(true);  // the server answers with its own KeyUpdate
  p.client.write_app(text("after update"));
  p.pump();
  CHECK(p.server.take_app() == text("after update"));
  p.server.write_app(text("reply"));
  p.pump();
  CHECK(p.client.take_app() == text("reply"));
  const auto skeys = events_of<KeysInstalled>(p.server_events);
  REQUIRE(skeys.size() >= 2);
  CHECK(skeys[skeys.size() - 2].generation == 1);
  CHECK(skeys.back().generation == 1);
  CHECK(p.client.state() == State::Connected);
  CHECK(p.server.state() == State::Connected);
}

TEST_CASE("a NewSessionTicket is accepted and ignored by the client") {
  Pair p;
  handshake(p);
  // Forge one with the server's application key, sequence 0 (nothing sent yet).
  const Secret sap = keylog_secret(p.server.keylog_lines(), "SERVER_TRAFFIC_SECRET_0");
  RecordProtection tx(traffic_keys(sap));
  Bytes rec;
  tx.seal(ContentType::handshake, rfc("new_session_ticket_msg"), rec);
  p.client.handle_transport(rec);
  CHECK(p.client.state() == State::Connected);
}

TEST_CASE("keylog lines are well formed and agree between the two ends") {
  Pair p;
  handshake(p);
  const std::string c = p.client.keylog_lines();
  const std::string s = p.server.keylog_lines();
  CHECK(c == s);
  std::istringstream in(c);
  std::string line;
  std::vector<std::string> labels;
  auto lower_hex64 = [](const std::string& f) {
    return f.size() == 64 && std::all_of(f.begin(), f.end(), [](char ch) {
             return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
           });
  };
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string label, random, secret, extra;
    fields >> label >> random >> secret;
    CHECK_MESSAGE(lower_hex64(random), line);
    CHECK_MESSAGE(lower_hex64(secret), line);
    CHECK_FALSE(static_cast<bool>(fields >> extra));
    CHECK(line == label + " " + random + " " + secret);  // single spaces, nothing else
    labels.push_back(label);
  }
  CHECK(labels == std::vector<std::string>{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                           "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"});
  CHECK(c.back() == '\n');
  // Before the handshake there is nothing to log.
  Pair q;
  CHECK(q.client.keylog_lines().empty());
}

TEST_CASE("the same seeds give byte-identical handshakes") {
  auto transcript = [] {
    Pair p;
    p.client.start();
    Bytes all;
    for (int i = 0; i < 5; ++i) {
      Bytes a = p.client.take_transport();
      Bytes b = p.server.take_transport();
      all.insert(all.end(), a.begin(), a.end());
      all.insert(all.end(), b.begin(), b.end());
      p.server.handle_transport(a);
      p.client.handle_transport(b);
    }
    return all;
  };
  CHECK(transcript() == transcript());
}

TEST_CASE("an over-long server_name is a local error at start") {
  SeededRandom rng(1);
  TlsConnection c(client_config(ed25519_public(server_seed()), std::string(300, 'a')), rng);
  c.start();
  CHECK(c.state() == State::Failed);
  CHECK(c.take_transport().empty());
}
