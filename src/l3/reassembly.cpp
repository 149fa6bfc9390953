#include "megzawicol/l3/reassembly.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

namespace mz::l3 {

const char* Reassembler::reason_name(DropReason r) {
  switch (r) {
    case DropReason::None: return "none";
    case DropReason::TooBig: return "datagram too big (over 65535 bytes)";
    case DropReason::EmptyFragment: return "zero-length fragment with MF set";
    case DropReason::BeyondEnd: return "data beyond the end set by the last fragment";
    case DropReason::InconsistentEnd: return "last fragment inconsistent with the data held";
    case DropReason::Overlap: return "overlapping fragment (datagram discarded)";
    case DropReason::OverMemory: return "reassembly memory bound reached";
  }
  return "?";
}

namespace {

// Copies the held bytes of [lo, hi) (which must be fully received) to `out`.
void copy_range(const std::map<uint32_t, Bytes>& pieces, uint32_t lo, uint32_t hi, uint8_t* out) {
  if (lo >= hi) return;
  auto p = pieces.upper_bound(lo);
  if (p != pieces.begin()) --p;
  for (; p != pieces.end() && p->first < hi; ++p) {
    const uint32_t pend = p->first + static_cast<uint32_t>(p->second.size());
    const uint32_t a = std::max(lo, p->first);
    const uint32_t b = std::min(hi, pend);
    if (a < b) std::memcpy(out + (a - lo), p->second.data() + (a - p->first), b - a);
  }
}

// True if a byte of `data` (at offset `off`) differs from the held byte at the same place.
bool conflicts(const std::map<uint32_t, Bytes>& pieces, uint32_t off, ByteView data) {
  const uint32_t end = off + static_cast<uint32_t>(data.size());
  auto p = pieces.upper_bound(off);
  if (p != pieces.begin()) --p;
  for (; p != pieces.end() && p->first < end; ++p) {
    const uint32_t pend = p->first + static_cast<uint32_t>(p->second.size());
    const uint32_t a = std::max(off, p->first);
    const uint32_t b = std::min(end, pend);
    if (a < b && std::memcmp(data.data() + (a - off), p->second.data() + (a - p->first), b - a) != 0) return true;
  }
  return false;
}

}  // namespace

std::optional<size_t> Reassembler::expected(const Datagram& d) {
  if (!d.end || d.longest == 0) return std::nullopt;
  return std::max<size_t>(1, (size_t{*d.end} + d.longest - 1) / d.longest);
}

void Reassembler::fill_progress(const Datagram& d, AddResult& r) const {
  r.fragments = d.fragments;
  r.bytes = d.bytes;
  r.total = d.end ? std::optional<size_t>(*d.end) : std::nullopt;
  r.expected_fragments = expected(d);
}

Reassembler::Expired Reassembler::give_up(Datagram& d) const {
  Expired e;
  e.key = d.key;
  e.created = d.created;
  e.fragments = d.fragments;
  e.bytes = d.bytes;
  if (d.end) e.total = *d.end;
  e.expected_fragments = expected(d);
  if (d.first_header) {
    // Fragment zero's bytes [0, first_len) were all received when it arrived.
    PacketBuf p = PacketBuf::with_reserve(PacketBuf::kDefaultHeadroom, d.first_len, 0);
    copy_range(d.pieces, 0, d.first_len, p.data());
    wire::emit_ipv4(p, *d.first_header);
    e.first_fragment = p.to_bytes();
  }
  return e;
}

void Reassembler::erase(std::map<ReassemblyKey, Datagram>::iterator it) {
  memory_ -= it->second.memory;
  order_.erase(it->second.order);
  map_.erase(it);
}

bool Reassembler::evict_oldest(const ReassemblyKey* keep, std::vector<Expired>& out) {
  for (const auto& k : order_) {
    if (keep && k == *keep) continue;
    auto it = map_.find(k);
    assert(it != map_.end());
    out.push_back(give_up(it->second));
    ++ctr_.evicted;
    erase(it);
    return true;
  }
  return false;
}

Reassembler::AddResult Reassembler::add(Time now, const wire::Ipv4Repr& h, ByteView payload) {
  ++ctr_.fragments;
  AddResult r;
  const ReassemblyKey key{h.src, h.dst, h.protocol, h.ident};
  auto it = map_.find(key);
  Datagram fresh;
  Datagram* d = it != map_.end() ? &it->second : &fresh;

  // Refuses the fragment; with `discard`, the datagram goes too.
  auto refuse = [&](DropReason reason, bool discard = false) {
    switch (reason) {
      case DropReason::TooBig: ++ctr_.drop_too_big; break;
      case DropReason::EmptyFragment: ++ctr_.drop_empty; break;
      case DropReason::BeyondEnd: ++ctr_.drop_beyond_end; break;
      case DropReason::InconsistentEnd: ++ctr_.drop_inconsistent_end; break;
      case DropReason::Overlap: ++ctr_.drop_overlap; break;
      case DropReason::OverMemory: ++ctr_.drop_over_memory; break;
      case DropReason::None: break;
    }
    r.status = Status::Dropped;
    r.reason = reason;
    fill_progress(*d, r);
    if (discard && it != map_.end()) {
      ++ctr_.discarded;
      r.datagram_discarded = true;  // r.fragments/bytes: what it held
      erase(it);
    }
    return std::move(r);
  };

  const bool last = !h.more_frags;
  size_t len = payload.size();
  if (!last && len % 8 != 0) {
    len &= ~size_t{7};
    r.truncated = true;
    ++ctr_.truncated;
  }
  if (!last && len == 0) return refuse(DropReason::EmptyFragment);
  if (size_t{h.frag_offset} + len > kMaxPayloadEnd) return refuse(DropReason::TooBig);
  const uint32_t off = h.frag_offset;
  const uint32_t fend = off + static_cast<uint32_t>(len);
  const ByteView data = payload.first(len);

  // The end: first-received wins.
  if (last) {
    if ((d->end && *d->end != fend) || fend < d->max_end) return refuse(DropReason::InconsistentEnd);
  } else if (d->end && fend > *d->end) {
    return refuse(DropReason::BeyondEnd);
  }
  // Header + payload over 65535, as soon as both the header and the end are known.
  {
    const std::optional<uint32_t> end = last ? std::optional<uint32_t>(fend) : d->end;
    std::optional<size_t> hl;
    if (d->first_header) hl = d->first_header->header_len();
    else if (off == 0) hl = h.header_len();
    if (end && hl && *hl + *end > 65535) return refuse(DropReason::TooBig, true);
  }

  // The parts of the holes this fragment fills: the only bytes it contributes.
  std::vector<std::pair<uint32_t, uint32_t>> fills;
  size_t new_bytes = 0;
  for (const auto& hole : d->holes) {
    const uint32_t a = std::max(hole.first, off);
    const uint32_t b = std::min(hole.end, fend);
    if (a < b) {
      fills.emplace_back(a, b);
      new_bytes += b - a;
    }
  }
  const bool new_end = last && !d->end;
  const bool new_first = off == 0 && !d->first_header;
  if (new_bytes == 0 && !new_end && !new_first) {
    ++ctr_.duplicates;
    r.status = Status::Duplicate;
    fill_progress(*d, r);
    return r;
  }
  const bool overlap = new_bytes < len;
  if (overlap) {
    if (cfg_.overlap == OverlapPolicy::DiscardDatagram) return refuse(DropReason::Overlap, true);
    if (conflicts(d->pieces, off, data)) ++ctr_.overlap_conflicts;
  }

  // Memory: make room by evicting the oldest other datagrams, or refuse.
  const size_t cost = new_bytes + kFragmentOverhead * fills.size();
  if (d->memory + cost > cfg_.max_bytes) return refuse(DropReason::OverMemory);
  if (it == map_.end()) {
    if (cfg_.max_datagrams == 0) return refuse(DropReason::OverMemory);
    while (map_.size() >= cfg_.max_datagrams && evict_oldest(nullptr, r.evicted)) {
    }
  }
  while (memory_ + cost > cfg_.max_bytes && evict_oldest(&key, r.evicted)) {
  }
  assert(memory_ + cost <= cfg_.max_bytes);

  if (it == map_.end()) {
    fresh.key = key;
    fresh.created = now;
    order_.push_back(key);
    fresh.order = std::prev(order_.end());
    it = map_.emplace(key, std::move(fresh)).first;
    d = &it->second;
  }

  for (const auto& [a, b] : fills) d->pieces.emplace(a, Bytes(data.begin() + (a - off), data.begin() + (b - off)));
  // RFC 815: each hole the fragment touches is replaced by what is left of it on either
  // side; the last fragment also cuts every hole at the end.
  std::vector<Hole> holes;
  holes.reserve(d->holes.size() + 1);
  for (const auto& hole : d->holes) {
    if (hole.first >= fend || hole.end <= off || off == fend) {
      holes.push_back(hole);
      continue;
    }
    if (hole.first < off) holes.push_back(Hole{hole.first, off});
    if (fend < hole.end) holes.push_back(Hole{fend, hole.end});
  }
  if (last) {
    std::erase_if(holes, [fend](const Hole& x) { return x.first >= fend; });
    for (auto& x : holes) x.end = std::min(x.end, fend);
    d->end = fend;
  }
  d->holes = std::move(holes);
  d->max_end = std::max(d->max_end, fend);
  if (!last) d->longest = std::max(d->longest, static_cast<uint32_t>(len));
  if (new_first) {
    d->first_header = h;
    d->first_len = fend;
  }
  ++d->fragments;
  d->bytes += new_bytes;
  d->memory += cost;
  memory_ += cost;
  peak_memory_ = std::max(peak_memory_, memory_);
  peak_datagrams_ = std::max(peak_datagrams_, map_.size());
  ++ctr_.accepted;
  r.new_bytes = new_bytes;
  if (overlap) {
    ++ctr_.overlaps;
    r.overlap = true;
  }
  fill_progress(*d, r);

  if (!d->end || !d->holes.empty()) {
    r.status = Status::Incomplete;
    return r;
  }
  // Complete: the offset-0 fragment's header, as if the datagram had never been split.
  assert(d->first_header);
  r.status = Status::Complete;
  r.header = *d->first_header;
  r.header.more_frags = false;
  r.header.frag_offset = 0;
  r.header.payload_len = static_cast<uint16_t>(*d->end);
  r.header.checksum = 0;
  r.payload = PacketBuf::with_reserve(PacketBuf::kDefaultHeadroom, *d->end, PacketBuf::kDefaultTailroom);
  copy_range(d->pieces, 0, *d->end, r.payload.data());
  ++ctr_.completed;
  erase(it);
  return r;
}

std::optional<Time> Reassembler::poll_timeout() const {
  if (order_.empty()) return std::nullopt;
  return map_.at(order_.front()).created + cfg_.timeout;
}

std::vector<Reassembler::Expired> Reassembler::handle_timeout(Time now) {
  std::vector<Expired> out;
  while (!order_.empty()) {
    auto it = map_.find(order_.front());
    assert(it != map_.end());
    if (it->second.created + cfg_.timeout > now) break;
    out.push_back(give_up(it->second));
    ++ctr_.timed_out;
    erase(it);
  }
  return out;
}

}  // namespace mz::l3
