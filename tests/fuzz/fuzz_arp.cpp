// ARP packets. Invariant: a packet that parses re-emits and re-parses to the same fields.
#include "fuzz_util.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/wire/arp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = mz::wire::parse_arp(mz::ByteView(data, size));
  if (!r) return 0;
  (void)r->describe();
  mz::PacketBuf pkt;
  mz::wire::emit_arp(pkt, *r);
  MZ_FUZZ_CHECK(pkt.size() == mz::wire::kArpLen);
  MZ_FUZZ_CHECK(std::memcmp(pkt.view().data(), data, mz::wire::kArpLen) == 0);
  auto again = mz::wire::parse_arp(pkt.view());
  MZ_FUZZ_CHECK(again && *again == *r);
  return 0;
}
