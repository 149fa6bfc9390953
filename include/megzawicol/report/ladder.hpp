// A run as a ladder (sequence) diagram: every frame a node put on a link, from the
// sender's lane to the receiver's, at its virtual send and arrival times.
//
// Sources: DIR/trace.jsonl and the pcaps DIR/<node>-<iface>.pcap. Each capture holds the
// frames its interface sent and received, interleaved; the trace's L1 tx_bits and rx_bits
// events (which the simulator emits around each capture write, in the same order) tell
// which record is which. A port's peer (the capture facing it) comes from the link events'
// "link" field ("a:eth0 -> b:eth0") or, failing that, from which port sent the bytes it
// received. Receptions are paired with sent frames per link direction in arrival order:
// the earliest outstanding frame with identical bytes, else the earliest outstanding one
// (a link is FIFO unless jitter reorders it; damaged frames no longer match their bytes).
// Link "lost" events remove a frame at once; a line_error or an in-flight link_down_drop at
// the receiver consumes one like a reception does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "megzawicol/core/bytes.hpp"

namespace mz::report {

namespace frame_flag {
inline constexpr uint32_t kLost = 1;         // link "lost" event: dropped in transit
inline constexpr uint32_t kNotReceived = 2;  // no reception (in flight at the end, link went down)
inline constexpr uint32_t kBadFcs = 4;       // received with a bad FCS
inline constexpr uint32_t kRxError = 8;      // received with invalid code groups (symbol errors)
inline constexpr uint32_t kLineError = 16;   // the receiver could not decode the signal: not received
inline constexpr uint32_t kDuplicated = 32;  // the link delivered a second copy
inline constexpr uint32_t kBitErrors = 64;   // bits flipped on the line
inline constexpr uint32_t kLinkDown = 128;   // lost in flight: the link went down
}  // namespace frame_flag

struct LadderFrame {
  int64_t send_ns = 0;
  int64_t recv_ns = -1;   // arrival (end of reception / line error time); -1 if none
  int64_t recv2_ns = -1;  // the duplicate's arrival
  int64_t tx_ns = 0;      // serialisation time (tx_bits field)
  int from_port = -1, to_port = -1;
  uint32_t len = 0;       // frame length (FCS included)
  uint32_t flags = 0;     // frame_flag::*
  Bytes sent;             // bytes as sent (from the sender's capture; empty if none)
  Bytes received;         // bytes as received, when they differ from `sent`
  bool has_received = false;
};

struct LadderPort {
  std::string label;  // "a:eth0"
  std::string node;
  int lane = -1;
  int peer = -1;      // index of the facing port, -1 if unknown
  uint64_t pcap_records = 0;
  bool have_pcap = false;
};

struct Ladder {
  std::string dir;
  std::string scenario;            // from the trace's start event, if any
  std::vector<std::string> lanes;  // node names, in order of first appearance in the trace
  std::vector<LadderPort> ports;
  std::vector<LadderFrame> frames;  // in send order
  int64_t end_ns = 0;
  uint64_t receptions = 0;          // rx_bits events
  uint64_t unmatched_receptions = 0;  // receptions no sent frame could be paired with
  std::vector<std::string> warnings;

  int port_index(const std::string& label) const;
};

/// Builds the diagram of the run in `dir`. Throws inspect::InputError (a missing or
/// malformed trace) or PcapError.
Ladder build_ladder(const std::string& dir);

}  // namespace mz::report
