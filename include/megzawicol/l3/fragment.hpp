// IPv4 fragmentation (RFC 791 section 3.2, "Fragmentation and Reassembly").
#pragma once

#include <vector>

#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/wire/ipv4.hpp"

namespace mz::l3 {

/// Splits a datagram (header `h`, its `payload`) into fragments that each fit `mtu`
/// bytes, headers included. Every fragment but the last carries a multiple of 8
/// payload bytes and MF; offsets continue from h.frag_offset, and a fragment of a
/// fragment keeps the original MF on its last piece (re-fragmentation at a router).
/// Options whose copy flag is clear go in the first fragment only. Returns complete
/// IPv4 packets (headers emitted, checksums computed). Precondition: !h.dont_frag and
/// mtu >= header length + 8.
std::vector<PacketBuf> fragment_ipv4(const wire::Ipv4Repr& h, ByteView payload, size_t mtu);

}  // namespace mz::l3
