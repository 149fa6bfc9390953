// IPv4 reassembly (RFC 791 section 3.2), with the hole bookkeeping of RFC 815.
//
// A sans-I/O machine: the host feeds it every fragment addressed to it with add(),
// asks poll_timeout() when to wake it, and calls handle_timeout() then. It never reads
// a clock and never sends anything: what to do with an expired datagram (an ICMP time
// exceeded, a trace) is the caller's business.
//
// A datagram is identified by (source, destination, protocol, identification).
//
// Bookkeeping (RFC 815): every datagram keeps a sorted list of holes, the byte ranges
// not received yet; it starts as one hole [0, infinity). Each fragment fills the parts
// of the holes it covers, and only those bytes are stored, so nothing is ever stored
// twice. The last fragment (MF = 0) fixes the end: holes past it vanish. The datagram
// is complete when the end is known and no hole is left.
//
// Policies (each one is counted and reported in AddResult):
//   * Overlaps: by default (OverlapPolicy::KeepFirst) a fragment that overlaps data
//     already held is accepted and only its new bytes are used: the first-received
//     bytes win (RFC 815's algorithm, and Linux before 4.19). Overlapping bytes that
//     differ from the held ones are counted as conflicts. OverlapPolicy::DiscardDatagram
//     does what Linux does since 4.19 (and RFC 5722 requires for IPv6): a fragment that
//     partially overlaps held data makes the whole datagram be discarded.
//   * A fragment that brings no new byte (and no new information about the end) is a
//     duplicate: ignored, the datagram is kept (under both policies).
//   * A non-last fragment whose length is not a multiple of 8 is cut down to a multiple
//     of 8, as Linux does (the next fragment can only start at a multiple of 8).
//   * Refused fragments (the datagram is kept, the first-received information wins):
//     end beyond 65515 (no room left for a 20-byte header in 65535), a zero-length
//     non-last fragment, data beyond the end set by an earlier last fragment, and a last
//     fragment whose end differs from an earlier one or falls before data already held.
//     A datagram that could never complete this way just times out.
//   * A datagram whose header (that of fragment zero) plus payload would exceed 65535
//     bytes is discarded as soon as both are known (Linux's ip_frag_reasm drops such
//     oversized datagrams too, when it would complete them).
//   * Memory: `max_bytes` bounds the memory held by incomplete datagrams (payload bytes
//     stored plus kFragmentOverhead per stored piece), `max_datagrams` their number. When
//     accepting a fragment would exceed a bound, the OLDEST incomplete datagrams are
//     evicted (returned in AddResult::evicted, the caller traces them as drops), as Linux
//     did before 4.17 with its LRU evictor; fresh datagrams, whose fragments usually come
//     in a burst, get a chance to complete. A fragment that cannot fit even after
//     evicting every other datagram is refused.
//   * Timer: each datagram expires `timeout` after its first fragment arrived, and the
//     timer is not restarted by later fragments (Linux's ipfrag_time). RFC 791's
//     "max(timer, TTL)" refresh is not used.
// Precondition: `now` never decreases from one call to the next.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/packet_buf.hpp"
#include "megzawicol/core/time.hpp"
#include "megzawicol/wire/ipv4.hpp"

namespace mz::l3 {

struct ReassemblyKey {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint8_t protocol = 0;
  uint16_t ident = 0;
  auto operator<=>(const ReassemblyKey&) const = default;
};

class Reassembler {
 public:
  /// Memory charged per stored piece on top of its bytes (a map node and its vector).
  static constexpr size_t kFragmentOverhead = 64;
  /// Largest payload end a fragment may have: 65535 minus a minimal 20-byte header.
  static constexpr size_t kMaxPayloadEnd = 65535 - wire::kIpv4MinHeaderLen;

  enum class OverlapPolicy { KeepFirst, DiscardDatagram };

  struct Config {
    Duration timeout = Duration::seconds(30);  // Linux net.ipv4.ipfrag_time
    size_t max_bytes = 4u << 20;               // memory held by incomplete datagrams
    size_t max_datagrams = 1024;               // incomplete datagrams held at once
    OverlapPolicy overlap = OverlapPolicy::KeepFirst;
  };

  enum class Status {
    Incomplete,  // accepted (maybe with overlap), holes remain
    Complete,    // the datagram is whole: header and payload are set
    Duplicate,   // no new byte: ignored, the datagram is kept
    Dropped,     // refused (see reason); `datagram_discarded` if the datagram went with it
  };

  enum class DropReason {
    None,
    TooBig,          // offset + length > kMaxPayloadEnd, or header + payload > 65535
    EmptyFragment,   // zero-length fragment with MF set
    BeyondEnd,       // data past the end set by an earlier last fragment
    InconsistentEnd, // a last fragment with another end, or before data already held
    Overlap,         // OverlapPolicy::DiscardDatagram and a partial overlap
    OverMemory,      // cannot fit in max_bytes even after evicting every other datagram
  };
  static const char* reason_name(DropReason r);

  /// A datagram given up (expired or evicted), with what had been received.
  struct Expired {
    ReassemblyKey key;
    Time created;                    // arrival of its first fragment
    size_t fragments = 0;            // fragments that brought data (duplicates excluded)
    size_t bytes = 0;                // payload bytes held
    std::optional<size_t> total;     // payload length, if the last fragment arrived
    std::optional<size_t> expected_fragments;  // estimate, see AddResult
    /// The fragment with offset 0 as a complete IPv4 packet (its header, re-emitted with
    /// a valid checksum, and its payload as held), what an ICMP time exceeded quotes.
    /// Empty if fragment zero never arrived (then RFC 792 sends no ICMP).
    Bytes first_fragment;
  };

  struct AddResult {
    Status status = Status::Incomplete;
    DropReason reason = DropReason::None;
    /// Dropped and the whole datagram was discarded with it; `fragments` and `bytes`
    /// then tell what the discarded datagram held.
    bool datagram_discarded = false;
    bool overlap = false;             // accepted, but some bytes were already held
    bool truncated = false;           // length cut to a multiple of 8
    size_t new_bytes = 0;             // bytes this fragment added
    // The datagram after this fragment (for traces):
    size_t fragments = 0;             // fragments held (that brought data)
    size_t bytes = 0;                 // payload bytes held
    std::optional<size_t> total;      // payload length, once the last fragment arrived
    /// Fragment count if every fragment is as long as the longest non-last one seen:
    /// ceil(total / longest). Known once both a non-last and the last fragment arrived.
    std::optional<size_t> expected_fragments;
    // Complete only:
    wire::Ipv4Repr header;  // the offset-0 fragment's header, MF clear, payload_len set
    PacketBuf payload;      // the whole payload
    /// Datagrams evicted to make room for this fragment (oldest first).
    std::vector<Expired> evicted;
  };

  struct Counters {
    uint64_t fragments = 0;          // add() calls
    uint64_t accepted = 0;           // fragments that brought data or the end
    uint64_t duplicates = 0;
    uint64_t overlaps = 0;           // accepted fragments that overlapped held data
    uint64_t overlap_conflicts = 0;  // ... whose overlapping bytes differed
    uint64_t truncated = 0;          // non-last fragments cut to a multiple of 8
    uint64_t completed = 0;          // datagrams reassembled
    uint64_t timed_out = 0;          // datagrams expired
    uint64_t evicted = 0;            // datagrams evicted by max_bytes / max_datagrams
    uint64_t discarded = 0;          // datagrams discarded (overlap policy, oversize)
    // Fragments refused, by reason (sum: dropped()).
    uint64_t drop_too_big = 0, drop_empty = 0, drop_beyond_end = 0, drop_inconsistent_end = 0;
    uint64_t drop_overlap = 0, drop_over_memory = 0;
    uint64_t dropped() const {
      return drop_too_big + drop_empty + drop_beyond_end + drop_inconsistent_end + drop_overlap + drop_over_memory;
    }
  };

  Reassembler() : Reassembler(Config{}) {}
  explicit Reassembler(Config cfg) : cfg_(cfg) {}

  /// Adds one fragment: header `h` (as parsed: frag_offset in bytes, more_frags) and
  /// its `payload`. A non-fragment (offset 0, MF clear) completes at once.
  AddResult add(Time now, const wire::Ipv4Repr& h, ByteView payload);

  /// When the oldest incomplete datagram expires; nullopt if none is held.
  std::optional<Time> poll_timeout() const;
  /// Gives up every datagram whose timer ran out at `now` (oldest first).
  std::vector<Expired> handle_timeout(Time now);

  const Config& config() const { return cfg_; }
  const Counters& counters() const { return ctr_; }
  size_t datagrams() const { return map_.size(); }
  size_t memory() const { return memory_; }
  /// Highest value memory() and datagrams() ever reached.
  size_t peak_memory() const { return peak_memory_; }
  size_t peak_datagrams() const { return peak_datagrams_; }

 private:
  struct Hole {
    uint32_t first;  // first missing byte
    uint32_t end;    // one past the last missing byte; kOpenEnd while the end is unknown
  };
  static constexpr uint32_t kOpenEnd = 0x10000;

  struct Datagram {
    ReassemblyKey key;
    Time created;
    std::vector<Hole> holes{Hole{0, kOpenEnd}};  // sorted, disjoint, non-empty
    std::map<uint32_t, Bytes> pieces;            // offset -> bytes, disjoint
    std::optional<uint32_t> end;                 // set by the last fragment
    uint32_t max_end = 0;                        // highest byte end received
    uint32_t longest = 0;                        // longest non-last fragment
    std::optional<wire::Ipv4Repr> first_header;  // header of the offset-0 fragment
    uint32_t first_len = 0;                      // its payload length
    size_t fragments = 0;
    size_t bytes = 0;
    size_t memory = 0;
    std::list<ReassemblyKey>::iterator order;    // position in order_
  };

  static std::optional<size_t> expected(const Datagram& d);
  void fill_progress(const Datagram& d, AddResult& r) const;
  Expired give_up(Datagram& d) const;
  void erase(std::map<ReassemblyKey, Datagram>::iterator it);
  /// Evicts the oldest datagram other than `keep` into `out`; false if there is none.
  bool evict_oldest(const ReassemblyKey* keep, std::vector<Expired>& out);
  AddResult drop(DropReason reason, AddResult r);

  Config cfg_;
  Counters ctr_;
  std::map<ReassemblyKey, Datagram> map_;
  std::list<ReassemblyKey> order_;  // by creation, oldest first
  size_t memory_ = 0;
  size_t peak_memory_ = 0;
  size_t peak_datagrams_ = 0;
};

}  // namespace mz::l3
