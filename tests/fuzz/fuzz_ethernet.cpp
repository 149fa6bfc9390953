// Ethernet II frames with FCS. Invariant: a frame that parses re-emits to the same bytes.
#include "fuzz_util.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/wire/ethernet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mz::ByteView frame(data, size);
  bool fcs = mz::wire::fcs_ok(frame);
  auto r = mz::wire::parse_ethernet(frame);
  if (!r) return 0;
  MZ_FUZZ_CHECK(fcs);
  (void)r->repr.describe();
  (void)mz::wire::ethertype_name(r->repr.ethertype);
  MZ_FUZZ_CHECK(r->payload.data() >= data && r->payload.data() + r->payload.size() <= data + size);
  auto pkt = mz::PacketBuf::from(r->payload);
  mz::wire::emit_ethernet(pkt, r->repr);
  mz::ByteView out = pkt.view();
  MZ_FUZZ_CHECK(out.size() == size && std::memcmp(out.data(), data, size) == 0);
  return 0;
}
