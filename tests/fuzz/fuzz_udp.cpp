// UDP datagrams. Input: source and destination IPv4 addresses (8 bytes), then the datagram.
// Invariant: a datagram that parses re-emits and re-parses to the same ports and payload.
#include "fuzz_util.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/wire/udp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mz::fuzz::Input in(data, size);
  mz::Ipv4Addr src{in.u32()}, dst{in.u32()};
  mz::ByteView dgram = in.rest();
  auto r = mz::wire::parse_udp(dgram, src, dst);
  if (!r) return 0;
  (void)r->repr.describe();
  MZ_FUZZ_CHECK(r->payload.size() + mz::wire::kUdpHeaderLen == r->repr.length);
  MZ_FUZZ_CHECK(r->repr.length <= dgram.size());
  auto pkt = mz::PacketBuf::from(r->payload);
  mz::wire::emit_udp(pkt, r->repr.src_port, r->repr.dst_port, src, dst);
  auto again = mz::wire::parse_udp(pkt.view(), src, dst);
  MZ_FUZZ_CHECK(again);
  MZ_FUZZ_CHECK(again->repr.src_port == r->repr.src_port && again->repr.dst_port == r->repr.dst_port);
  MZ_FUZZ_CHECK(again->repr.length == r->repr.length);
  MZ_FUZZ_CHECK(std::equal(again->payload.begin(), again->payload.end(), r->payload.begin(), r->payload.end()));
  return 0;
}
