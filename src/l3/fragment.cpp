#include "megzawicol/l3/fragment.hpp"

#include <cassert>

namespace mz::l3 {
namespace {

// Keeps only the options whose "copied" flag (bit 7 of the type) is set (RFC 791).
Bytes copied_options(const Bytes& opts) {
  Bytes out;
  size_t i = 0;
  while (i < opts.size()) {
    const uint8_t type = opts[i];
    if (type == 0) break;            // end of option list
    if (type == 1) { ++i; continue; }  // no-operation
    if (i + 1 >= opts.size()) break;
    const size_t len = opts[i + 1];
    if (len < 2 || i + len > opts.size()) break;
    if (type & 0x80) out.insert(out.end(), opts.begin() + static_cast<long>(i), opts.begin() + static_cast<long>(i + len));
    i += len;
  }
  while (out.size() % 4) out.push_back(0);
  return out;
}

}  // namespace

std::vector<PacketBuf> fragment_ipv4(const wire::Ipv4Repr& h, ByteView payload, size_t mtu) {
  std::vector<PacketBuf> out;
  wire::Ipv4Repr first = h;
  wire::Ipv4Repr rest = h;
  rest.options = copied_options(h.options);
  size_t off = 0;
  while (off < payload.size() || (payload.empty() && out.empty())) {
    wire::Ipv4Repr fh = out.empty() ? first : rest;
    assert(mtu >= fh.header_len() + 8);
    size_t room = (mtu - fh.header_len()) & ~size_t{7};
    size_t len = payload.size() - off;
    bool last = true;
    if (len > mtu - fh.header_len()) {
      len = room;
      last = false;
    }
    fh.frag_offset = static_cast<uint16_t>(h.frag_offset + off);
    fh.more_frags = last ? h.more_frags : true;
    PacketBuf p = PacketBuf::from(payload.subspan(off, len));
    wire::emit_ipv4(p, fh);
    out.push_back(std::move(p));
    off += len;
    if (payload.empty()) break;
  }
  return out;
}

}  // namespace mz::l3
