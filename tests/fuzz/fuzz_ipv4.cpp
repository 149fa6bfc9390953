// IPv4 headers. Invariants: a packet that parses re-emits and re-parses to the same fields;
// a router's incremental TTL decrement keeps the checksum valid.
#include "fuzz_util.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/wire/ipv4.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = mz::wire::parse_ipv4(mz::ByteView(data, size));
  if (!r) return 0;
  const mz::wire::Ipv4Repr& h = r->repr;
  (void)h.describe();
  (void)mz::wire::ipproto_name(h.protocol);
  MZ_FUZZ_CHECK(h.header_len() + h.payload_len <= size);
  MZ_FUZZ_CHECK(r->payload.size() == h.payload_len);
  MZ_FUZZ_CHECK(r->payload.data() == data + h.header_len());

  auto pkt = mz::PacketBuf::from(r->payload);
  mz::wire::emit_ipv4(pkt, h);
  auto again = mz::wire::parse_ipv4(pkt.view());
  MZ_FUZZ_CHECK(again);
  mz::wire::Ipv4Repr a = again->repr, b = h;
  a.checksum = b.checksum = 0;
  MZ_FUZZ_CHECK(a == b);

  if (h.ttl > 0) {
    mz::Bytes copy(data, data + size);
    mz::wire::ipv4_decrement_ttl(copy.data());
    auto dec = mz::wire::parse_ipv4(copy);
    MZ_FUZZ_CHECK(dec && dec->repr.ttl == h.ttl - 1);
  }
  return 0;
}
