// Writes the seed inputs that are easier to build with the library than to cut out of pcaps
// (tests/fuzz/make_corpus.py runs it and adds the pcap-based ones):
//
//   mz_fuzz_seedgen OUTDIR [FRAMEFILE...]
//
// writes OUTDIR/<target>/<name> for l1_line_decoder (the FRAMEFILEs, 4B/5B encoded),
// tls_connection (the flights of a real handshake with the fuzz target's fixed seeds),
// tls_handshake_messages, http, session_frame and ipv4_reassembly.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "megzawicol/l1/line_code.hpp"
#include "megzawicol/l5/session_wire.hpp"
#include "megzawicol/l6/handshake_msgs.hpp"
#include "megzawicol/l6/tls_connection.hpp"
#include "megzawicol/l7/http.hpp"
#include "tls_fixture.hpp"

namespace fs = std::filesystem;
using namespace mz;

namespace {

fs::path g_out;

void put(const std::string& target, const std::string& name, ByteView data) {
  fs::create_directories(g_out / target);
  std::ofstream f(g_out / target / name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

Bytes with_prefix(uint8_t b0, ByteView rest) {
  Bytes b(rest.size() + 1);
  b[0] = b0;
  if (!rest.empty()) std::memcpy(b.data() + 1, rest.data(), rest.size());
  return b;
}

Bytes str(const std::string& s) { return Bytes(s.begin(), s.end()); }

void gen_l1(const std::vector<Bytes>& frames) {
  l1::LineEncoder enc;
  Bytes stream;
  for (size_t i = 0; i < frames.size(); ++i) {
    l1::LineBits lb;
    l1::encode_frame(frames[i], lb);
    put("l1_line_decoder", "burst" + std::to_string(i), with_prefix(static_cast<uint8_t>((8 - lb.nbits % 8) % 8), lb.bits));
    enc.encode(frames[i], stream);
  }
  put("l1_line_decoder", "stream", with_prefix(0, stream));
  if (!frames.empty()) {
    // One bit error in the middle of a frame, and garbage before a frame.
    Bytes one;
    enc.encode(frames[0], one);
    Bytes damaged = one;
    damaged[damaged.size() / 2] ^= 0x10;
    put("l1_line_decoder", "bit_error", with_prefix(0, damaged));
    Bytes garbage{0x12, 0x34, 0x00, 0xff};
    garbage.insert(garbage.end(), one.begin(), one.end());
    put("l1_line_decoder", "garbage", with_prefix(0, garbage));
  }
}

void gen_tls() {
  using namespace l6;
  SeededRandom crng(fuzz::kClientSeed), srng(fuzz::kServerSeed);
  TlsConnection client(fuzz::client_config(), crng), server(fuzz::server_config(), srng);
  Bytes c2s, s2c;
  client.start();
  bool sent_app = false, answered = false;
  for (int i = 0; i < 20; ++i) {
    Bytes a = client.take_transport();
    c2s.insert(c2s.end(), a.begin(), a.end());
    server.handle_transport(a);
    Bytes b = server.take_transport();
    s2c.insert(s2c.end(), b.begin(), b.end());
    client.handle_transport(b);
    while (client.poll_event()) {
    }
    while (server.poll_event()) {
    }
    if (client.handshake_complete() && !sent_app) {
      client.write_app(str("GET / HTTP/1.1\r\n\r\n"));
      client.key_update(true);
      sent_app = true;
    }
    if (!server.take_app().empty() && !answered) {
      server.write_app(str("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
      server.close();
      answered = true;
    }
    if (answered && client.take_app().size() > 0) client.close();
  }
  if (!client.handshake_complete() || !server.handshake_complete()) {
    std::fprintf(stderr, "seedgen: TLS handshake did not complete\n");
    std::exit(1);
  }
  // b0 bit 0: server; bits 1-7: chunking seed.
  put("tls_connection", "server_whole", with_prefix(0x01, c2s));
  put("tls_connection", "server_chunked", with_prefix(0x01 | (37 << 1), c2s));
  put("tls_connection", "client_whole", with_prefix(0x00, s2c));
  put("tls_connection", "client_chunked", with_prefix(0x00 | (91 << 1), s2c));

  // Handshake messages (bodies, selector byte first), and the record stream (selector 6).
  ClientHello ch;
  for (size_t i = 0; i < 32; ++i) ch.random[i] = static_cast<uint8_t>(i);
  ch.legacy_session_id = Bytes(32, 0x5a);
  ch.cipher_suites = {kTlsAes128GcmSha256};
  ch.server_name = "server.example";
  ch.supported_versions = {kTls13};
  ch.supported_groups = {kGroupX25519};
  ch.signature_algorithms = {kSigEd25519};
  ch.key_shares = {KeyShareEntry{kGroupX25519, Bytes(32, 0x11)}};
  ch.has_key_share = true;
  ch.server_certificate_types = {kCertTypeRawPublicKey};
  ServerHello sh;
  sh.legacy_session_id_echo = ch.legacy_session_id;
  sh.cipher_suite = kTlsAes128GcmSha256;
  sh.selected_version = kTls13;
  sh.key_share = KeyShareEntry{kGroupX25519, Bytes(32, 0x22)};
  EncryptedExtensions ee;
  ee.server_certificate_type = kCertTypeRawPublicKey;
  ee.server_name_ack = true;
  Certificate cert;
  cert.entries.push_back(CertificateEntry{ed25519_spki(ed25519_public(fuzz::server_seed())), {}});
  CertificateVerify cv{kSigEd25519, Bytes(64, 0x33)};
  Finished fin{Bytes(32, 0x44)};
  KeyUpdate ku{true};
  auto body = [](const Bytes& m) { return ByteView(m).subspan(kHandshakeHeaderLen); };
  put("tls_handshake_messages", "client_hello", with_prefix(0, body(encode(ch))));
  put("tls_handshake_messages", "server_hello", with_prefix(1, body(encode(sh))));
  put("tls_handshake_messages", "encrypted_extensions", with_prefix(2, body(encode(ee))));
  put("tls_handshake_messages", "certificate", with_prefix(3, body(encode(cert))));
  put("tls_handshake_messages", "certificate_verify", with_prefix(4, body(encode(cv))));
  put("tls_handshake_messages", "finished", with_prefix(5, body(encode(fin))));
  put("tls_handshake_messages", "key_update", with_prefix(5, body(encode(ku))));
  put("tls_handshake_messages", "spki", with_prefix(6, cert.entries[0].data));
  put("tls_handshake_messages", "records", with_prefix(6, ByteView(s2c).first(std::min<size_t>(s2c.size(), 600))));
}

void gen_http() {
  using namespace l7;
  HttpRequest req = make_message_request("server.example", "Hello, server!", 1234, "sid=abc", "tok", true);
  Bytes r1 = serialize(req);
  put("http", "request", with_prefix(0, r1));
  Bytes two = r1;
  HttpRequest get{"GET", "/index.html", 10, {{"Host", "x"}, {"Connection", "keep-alive"}}, ""};
  Bytes r2 = serialize(get);
  two.insert(two.end(), r2.begin(), r2.end());
  put("http", "pipelined", with_prefix(0x20 << 2, two));
  put("http", "chunked_request",
      with_prefix(5 << 2, str("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\nhello\r\n0\r\n\r\n")));
  HttpResponse res = make_echo_response(req, 5'000'000'000, "megzawicol");
  put("http", "response", with_prefix(1, serialize(res)));
  put("http", "chunked_response",
      with_prefix(1 | (9 << 2), str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    "4;x=y\r\nabcd\r\n0\r\nTrailer: v\r\n\r\n")));
  put("http", "close_delimited", with_prefix(1 | 2, str("HTTP/1.0 200 OK\r\nServer: s\r\n\r\nbody until eof")));
}

void gen_session() {
  using namespace l5;
  Rng rng(3);
  Uuid id = Uuid::v4(rng);
  Bytes open, accept, data, refuse, close, stream;
  emit_session_frame(open, SessionType::kOpen, 0, id, Time::from_ns(1000), {});
  Bytes st{static_cast<uint8_t>(SessionState::kNew)};
  emit_session_frame(accept, SessionType::kAccept, 0, id, Time::from_ns(2000), st);
  emit_session_frame(data, SessionType::kData, 0, id, Time::from_ns(3000), str("\x17\x03\x03\x00\x05hello"));
  emit_session_frame(refuse, SessionType::kRefuse, 0, id, Time::from_ns(4000), str("unknown session id"));
  emit_session_frame(close, SessionType::kClose, kFlagEnd, id, Time::from_ns(5000), {});
  put("session_frame", "open", with_prefix(0, open));
  put("session_frame", "accept", with_prefix(1, accept));
  put("session_frame", "data", with_prefix(2, data));
  put("session_frame", "refuse", with_prefix(3, refuse));
  put("session_frame", "close", with_prefix(4, close));
  for (const Bytes* b : {&open, &accept, &data, &data, &close}) stream.insert(stream.end(), b->begin(), b->end());
  put("session_frame", "stream", with_prefix(77, stream));
}

// ipv4_reassembly records: flags, offset/8 (u16), length (u16), option words.
void frag(Bytes& b, uint8_t flags, uint16_t off8, uint16_t len, uint8_t opts = 0) {
  b.insert(b.end(), {flags, static_cast<uint8_t>(off8 >> 8), static_cast<uint8_t>(off8), static_cast<uint8_t>(len >> 8),
                     static_cast<uint8_t>(len), opts});
}

void gen_reassembly() {
  constexpr uint8_t MF = 4, DATA = 8, TIMEOUT = 0xf0;
  Bytes in_order{0x00};
  frag(in_order, MF, 0, 1480);
  frag(in_order, MF, 185, 1480);
  frag(in_order, 0, 370, 100);
  put("ipv4_reassembly", "in_order", in_order);
  Bytes reversed{0x00};
  frag(reversed, 0, 370, 100, 1);
  frag(reversed, MF | 0x10, 185, 1480);
  frag(reversed, MF, 0, 1480, 2);
  put("ipv4_reassembly", "reversed", reversed);
  Bytes overlap{0x01};
  frag(overlap, MF, 0, 64);
  frag(overlap, MF | DATA, 4, 64);
  for (int i = 0; i < 64; ++i) overlap.push_back(static_cast<uint8_t>(i * 7));
  frag(overlap, 0, 8, 16);
  put("ipv4_reassembly", "overlap_discard", overlap);
  Bytes interleaved{0x04};
  for (uint8_t id = 0; id < 4; ++id) frag(interleaved, MF | id, 0, 800);
  for (uint8_t id = 0; id < 4; ++id) frag(interleaved, id | 0x20, 100, 300);
  frag(interleaved, TIMEOUT, 0, 0);
  frag(interleaved, MF | 1, 0, 8);
  put("ipv4_reassembly", "interleaved_evict_timeout", interleaved);
}

Bytes read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUTDIR [FRAMEFILE...]\n", argv[0]);
    return 2;
  }
  g_out = argv[1];
  std::vector<Bytes> frames;
  for (int i = 2; i < argc; ++i) frames.push_back(read_file(argv[i]));
  gen_l1(frames);
  gen_tls();
  gen_http();
  gen_session();
  gen_reassembly();
  return 0;
}
