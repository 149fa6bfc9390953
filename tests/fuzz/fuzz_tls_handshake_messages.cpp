// TLS 1.3 handshake message decoders (every decode_*), the handshake header, SPKI and record
// header parsers.
// Input: byte 0 selects the decoder (mod 8; 7 = all of them), then the message body.
// Invariant: a body that decodes re-encodes to a message that decodes again and re-encodes to
// the same bytes (encode o decode is stable after one round).
#include "fuzz_util.hpp"
#include "megzawicol/l6/handshake_msgs.hpp"
#include "megzawicol/l6/record.hpp"

namespace {

using namespace mz::l6;

mz::ByteView body_of(const mz::Bytes& msg) {
  auto h = peek_handshake_header(msg);
  MZ_FUZZ_CHECK(h && h->length + kHandshakeHeaderLen == msg.size());
  return mz::ByteView(msg).subspan(kHandshakeHeaderLen);
}

template <class Decode>
void round_trip(mz::ByteView body, Decode decode) {
  auto m = decode(body);
  if (!m) return;
  mz::Bytes e1 = encode(*m);
  auto m2 = decode(body_of(e1));
  MZ_FUZZ_CHECK(m2);
  mz::Bytes e2 = encode(*m2);
  MZ_FUZZ_CHECK(e1 == e2);
}

template <class Decode>
void with_summary(mz::ByteView body, Decode decode) {
  if (auto m = decode(body)) (void)summarize(*m);
  round_trip(body, decode);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mz::fuzz::Input in(data, size);
  unsigned which = in.u8() % 8;
  mz::ByteView body = in.rest();
  bool all = which == 7;

  if (all || which == 0) with_summary(body, decode_client_hello);
  if (all || which == 1) with_summary(body, decode_server_hello);
  if (all || which == 2) with_summary(body, decode_encrypted_extensions);
  if (all || which == 3) with_summary(body, decode_certificate);
  if (all || which == 4) with_summary(body, decode_certificate_verify);
  if (all || which == 5) {
    round_trip(body, [](mz::ByteView b) { return decode_finished(b); });
    round_trip(body, [](mz::ByteView b) { return decode_finished(b, 48); });
    round_trip(body, decode_key_update);
  }
  if (all || which == 6) {
    if (auto h = peek_handshake_header(body)) (void)handshake_type_name(h->type);
    if (body.size() >= kRecordHeaderLen) {
      auto rh = parse_record_header(body.data());
      (void)content_type_name(rh.type);
    }
    if (auto k = parse_ed25519_spki(body)) {
      mz::Bytes der = ed25519_spki(*k);
      MZ_FUZZ_CHECK(der.size() == body.size() && std::equal(der.begin(), der.end(), body.begin()));
    }
    // The record assembler, fed the input as a stream of records.
    RecordAssembler ra;
    mz::ByteView rest = body;
    while (!rest.empty()) {
      size_t n = ra.feed(rest);
      rest = rest.subspan(n);
      if (ra.error()) break;
      MZ_FUZZ_CHECK(ra.buffered() <= kRecordHeaderLen + kMaxCiphertext);
      if (ra.ready()) {
        MZ_FUZZ_CHECK(ra.body().size() == ra.header().length);
        ra.clear();
      } else {
        MZ_FUZZ_CHECK(n > 0 || rest.empty());
        if (n == 0) break;
      }
    }
  }
  return 0;
}
