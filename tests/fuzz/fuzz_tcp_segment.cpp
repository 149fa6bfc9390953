// TCP segments. Input: source and destination IPv4 addresses (8 bytes), then the segment.
// Invariant: a segment that parses re-emits (options in emit_tcp's layout) and re-parses to
// the same fields and payload; SACK blocks that emit_tcp has no room for are dropped.
#include <algorithm>

#include "fuzz_util.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/wire/tcp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mz::fuzz::Input in(data, size);
  mz::Ipv4Addr src{in.u32()}, dst{in.u32()};
  mz::ByteView seg = in.rest();
  auto r = mz::wire::parse_tcp(seg, src, dst);
  if (!r) return 0;
  const mz::wire::TcpRepr& h = r->repr;
  (void)h.describe(r->payload.size());
  (void)mz::wire::tcp_flags_string(h.flags);
  MZ_FUZZ_CHECK(r->payload.data() >= seg.data() && r->payload.data() + r->payload.size() == seg.data() + seg.size());

  size_t hl = h.header_len();
  MZ_FUZZ_CHECK(hl >= mz::wire::kTcpMinHeaderLen && hl <= mz::wire::kTcpMaxHeaderLen && hl % 4 == 0);
  if (hl + r->payload.size() > 65535) return 0;
  auto pkt = mz::PacketBuf::from(r->payload);
  mz::wire::emit_tcp(pkt, h, src, dst);
  MZ_FUZZ_CHECK(pkt.size() == hl + r->payload.size());
  auto again = mz::wire::parse_tcp(pkt.view(), src, dst);
  MZ_FUZZ_CHECK(again);
  mz::wire::TcpRepr a = again->repr, b = h;
  b.sack.resize(std::min(b.sack.size(), h.sack_blocks_emitted()));
  a.checksum = b.checksum = 0;
  MZ_FUZZ_CHECK(a == b);
  MZ_FUZZ_CHECK(std::equal(again->payload.begin(), again->payload.end(), r->payload.begin(), r->payload.end()));
  return 0;
}
