// `megzawicol trace summary DIR`: what happened in a run, from its trace.jsonl (and
// summary.json, when present, for counters the trace cannot show).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "megzawicol/inspect/flows.hpp"

namespace mz::inspect {

/// Per node and layer. "Sent" and "delivered" are the layer's own unit: L1/L2 frames
/// (tx_bits/rx_bits, tx_frame/rx_frame), L3 packets (tx_packet and tx_fragment /
/// rx_packet), L4 TCP segments and UDP datagrams (bytes: TCP payload, UDP datagram with
/// its header), L7 ping and UDP flow messages. Bytes are those the events report.
struct LayerCounts {
  uint64_t events = 0;
  uint64_t sent = 0, sent_bytes = 0;
  uint64_t delivered = 0, delivered_bytes = 0;
  uint64_t forwarded = 0;  // L3 forward/forward_fragment, L2 switch forward/flood
};

struct DropCount {
  std::string cause;
  std::string description;
  std::optional<uint64_t> trace;    // counted from trace events (none: no such event)
  std::optional<uint64_t> summary;  // from summary.json's counters (none: no such counter)
  std::map<std::string, uint64_t> by_node;  // trace counts per node
};

/// Nearest-rank percentiles of a set of durations (ns).
struct Percentiles {
  uint64_t count = 0;
  int64_t min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
  double mean = 0;
};
/// Sorts `samples`.
Percentiles percentiles(std::vector<int64_t>& samples);

struct RttSummary {
  std::string source;  // "ping", "tcp", "tcp 10.0.0.1:61559 > 10.0.0.2:5001"
  Percentiles p;
};

struct RunSummary {
  std::string dir;
  std::string trace_file;
  bool have_summary_json = false;
  std::string scenario;               // from summary.json or the sim start event
  std::optional<std::string> seed;    // from summary.json
  uint64_t events = 0;
  int64_t first_ns = 0, last_ns = 0;
  std::map<std::string, std::map<trace::Layer, LayerCounts>> layers;  // node -> layer
  std::vector<DropCount> drops;       // by cause, in a fixed order
  std::vector<TcpFlow> flows;
  std::vector<RttSummary> rtt;        // ping, tcp, then each TCP flow direction
};

/// Reads DIR/trace.jsonl (TraceError if malformed) and DIR/summary.json if it exists.
RunSummary summarize(const std::string& dir);

std::string format_summary_text(const RunSummary& s);
nlohmann::ordered_json summary_to_json(const RunSummary& s);

/// "3.47 Mbit/s", "820 kbit/s", "12 bit/s".
std::string format_rate(double bps);
/// format_duration for ns counts.
std::string format_ns(int64_t ns);

}  // namespace mz::inspect
