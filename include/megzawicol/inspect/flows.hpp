// TCP connections reconstructed from a trace: who talked to whom, what was sent,
// retransmitted and acknowledged, and (optionally) the time series the plots draw.
//
// A flow is one connection, named by its 4-tuple and oriented client (the SYN sender)
// to server. Endpoints come from the event messages ("sending A > B ...", "received
// A > B ...", "connection A > B: ..."), which name addresses the fields do not carry.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "megzawicol/inspect/reader.hpp"

namespace mz::inspect {

struct SeqPoint {
  int64_t t_ns;
  uint32_t rel_seq;  // sequence number relative to the ISN (the SYN is 0, the first data byte 1)
  uint32_t len;      // payload bytes
  uint8_t flags;
  bool retransmission;  // starts below the highest sequence number sent before
};
struct AckPoint {
  int64_t t_ns;
  uint32_t rel_ack;  // relative to this direction's ISN
};
struct CwndPoint {
  int64_t t_ns;
  uint64_t cwnd, ssthresh;
};
struct RttPoint {
  int64_t t_ns;
  int64_t rtt_ns, srtt_ns, rttvar_ns, rto_ns;
};
struct DeliveryPoint {
  int64_t t_ns;
  uint64_t bytes;  // newly acknowledged payload bytes
};

/// One direction of a connection: what `src` sent to `dst`.
struct TcpDirection {
  std::string src, dst;  // "10.0.0.1:61559"
  std::string node;      // the node that sent (tx_segment events)
  bool have_isn = false;
  uint32_t isn = 0;
  uint64_t segments = 0;       // tx_segment events
  uint64_t data_segments = 0;  // ... with payload
  uint64_t bytes_sent = 0;     // payload bytes put on the wire, retransmissions included
  uint64_t retransmits = 0;    // retransmit events
  uint64_t retransmitted_bytes = 0;
  uint64_t rtx_timeout = 0, rtx_fast = 0, rtx_sack = 0;  // retransmit events by reason
  /// Retransmission timer expiries, inferred: a retransmission for reason "timeout" at a
  /// time when no segment of this connection arrived at the sender (an ACK-clocked
  /// go-back-N retransmission after an RTO arrives with an ACK).
  uint64_t timeouts = 0;
  uint64_t delivered = 0;  // payload bytes cumulatively acknowledged by the receiver
  int64_t first_data_ns = -1;     // first payload byte sent
  int64_t last_delivery_ns = -1;  // the receiver's ACK that acknowledged the last of `delivered`
  std::vector<int64_t> rtt_samples;  // rtt_ns of the sender's RTT samples
  uint64_t max_cwnd = 0;

  // Series (filled when the tracker was asked to keep them).
  std::vector<SeqPoint> seq;
  std::vector<AckPoint> acks;  // ACKs from the receiver, as the sender got them
  std::vector<CwndPoint> cwnd;
  std::vector<RttPoint> rtt;
  std::vector<DeliveryPoint> deliveries;

  // Tracking state.
  uint32_t snd_max_rel = 0;   // highest relative seq end sent
  uint32_t ack_max_rel = 0;   // highest relative ack sent by the receiver
  bool any_ack = false;
  bool fin_sent = false;
  uint32_t fin_rel = 0;
  int64_t last_rx_ns = -1;    // last segment of this connection that arrived at `node`

  /// Goodput in bit/s: delivered bytes over first data sent .. last byte acknowledged.
  double goodput_bps() const;
};

struct TcpFlow {
  std::string client, server;            // "ip:port"
  std::string client_node, server_node;  // "" if unknown
  int64_t syn_ns = -1;          // the client's first SYN
  int64_t established_ns = -1;  // the client reached ESTABLISHED
  int64_t first_ns = -1, last_ns = -1;
  std::string final_state;      // the client's last state
  TcpDirection up;    // client -> server
  TcpDirection down;  // server -> client

  /// "10.0.0.1:61559 > 10.0.0.2:5001"
  std::string label() const { return client + " > " + server; }
  /// Safe in a file name: "10.0.0.1_61559-10.0.0.2_5001".
  std::string file_id() const;
  std::optional<int64_t> handshake_ns() const {
    if (syn_ns < 0 || established_ns < 0) return std::nullopt;
    return established_ns - syn_ns;
  }
};

class FlowTracker {
 public:
  explicit FlowTracker(bool keep_series = false) : keep_series_(keep_series) {}
  /// Looks at one event (only L4 TCP events matter).
  void add(const TraceRecord& r);
  const std::vector<TcpFlow>& flows() const { return flows_; }

 private:
  // The flow of endpoints a and b; `client_hint` (if not empty) names the SYN sender.
  TcpFlow& flow_for(const std::string& a, const std::string& b, const std::string& client_hint, bool tx_syn,
                    uint32_t syn_seq);
  TcpDirection& dir(TcpFlow& f, const std::string& src);

  bool keep_series_;
  std::vector<TcpFlow> flows_;
  std::map<std::pair<std::string, std::string>, size_t> index_;
};

/// Endpoints "A > B" from a TCP event message ("sending A > B ...", "received A > B ...",
/// "connection A > B: ..."): {A, B}, or nothing if the message has another shape.
std::optional<std::pair<std::string, std::string>> tcp_endpoints(const std::string& event, const std::string& msg);

}  // namespace mz::inspect
