// TLS 1.3 connections (records + handshake state machine) fed arbitrary transport bytes.
// Input: byte 0: bit 0 = server (else client), bits 1-7 = chunking seed; then the bytes from
// the peer. Both sides use fixed seeds, so a recorded peer flight (the seed corpus, written by
// mz_fuzz_seedgen) is valid again and the fuzzer starts deep inside the handshake.
// Invariants: no crash; Failed is sticky; the outgoing queue and the buffers stay bounded.
#include "fuzz_util.hpp"
#include "megzawicol/l6/tls_connection.hpp"
#include "tls_fixture.hpp"

using namespace mz::l6;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mz::fuzz::Input in(data, size);
  uint8_t b0 = in.u8();
  bool server = b0 & 1;
  mz::ByteView stream = in.rest();

  SeededRandom rng(server ? mz::fuzz::kServerSeed : mz::fuzz::kClientSeed);
  static const TlsConfig kServer = mz::fuzz::server_config(), kClient = mz::fuzz::client_config();
  TlsConnection c(server ? kServer : kClient, rng);
  c.start();
  (void)c.take_transport();

  mz::fuzz::Chunker ch(b0 >> 1, 700);
  size_t pos = 0;
  bool was_failed = false;
  while (pos < stream.size()) {
    size_t n = std::min(ch.next(), stream.size() - pos);
    c.handle_transport(stream.subspan(pos, n));
    pos += n;
    mz::Bytes out = c.take_transport();
    MZ_FUZZ_CHECK(out.size() <= 64 * 1024);
    while (auto ev = c.poll_event()) {
    }
    (void)c.take_app();
    if (was_failed) MZ_FUZZ_CHECK(c.state() == TlsConnection::State::Failed);
    was_failed = c.state() == TlsConnection::State::Failed;
    if (was_failed) MZ_FUZZ_CHECK(!c.error().empty());
  }
  // Exercise the send side in whatever state the connection ended up.
  static const uint8_t kMsg[] = "ping";
  (void)c.write_app(mz::ByteView(kMsg, sizeof kMsg));
  c.key_update(true);
  c.close();
  (void)c.take_transport();
  while (c.poll_event()) {
  }
  (void)c.keylog_lines();
  return 0;
}
