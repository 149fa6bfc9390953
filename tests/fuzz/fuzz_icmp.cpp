// ICMP messages. Invariant: an echo request/reply that parses is rebuilt byte for byte by
// make_icmp.
#include "fuzz_util.hpp"
#include "megzawicol/wire/icmp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = mz::wire::parse_icmp(mz::ByteView(data, size));
  if (!r) return 0;
  (void)r->describe();
  MZ_FUZZ_CHECK(r->data.size() + mz::wire::kIcmpHeaderLen == size);
  if (r->type == mz::wire::icmptype::kEchoRequest || r->type == mz::wire::icmptype::kEchoReply) {
    auto pkt = mz::wire::make_icmp(*r);
    MZ_FUZZ_CHECK(pkt.size() == size);
    // The checksum may differ (0x0000 vs 0xffff both verify); compare the rest.
    MZ_FUZZ_CHECK(std::memcmp(pkt.data(), data, 2) == 0);
    MZ_FUZZ_CHECK(std::memcmp(pkt.data() + 4, data + 4, size - 4) == 0);
  }
  return 0;
}
