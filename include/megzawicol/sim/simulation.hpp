// The simulator backend: builds hosts, routers and links from a Scenario and runs them
// on the discrete-event kernel.
//
// Each link direction is a channel: a drop-tail queue in front of a transmitter that
// sends one frame at a time (transmission time = (preamble + frame) bits / bandwidth,
// then a 96-bit-time inter-frame gap), a propagation delay, whole-frame loss and bit
// errors on the line bits. The PHY at each end line-codes frames (see l1/line_code.hpp);
// the receiving PHY decodes what arrives, damaged or not, and hands it to the host.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "megzawicol/scenario/scenario.hpp"
#include "megzawicol/stack/host.hpp"
#include "megzawicol/stack/switch.hpp"

namespace mz::sim {

struct RunOptions {
  std::string out_dir;               // where trace files go; empty: write no files
  std::optional<Time> until;         // overrides the scenario's duration
  bool echo_trace = false;           // also print trace.log lines on the console
  std::ostream* console = nullptr;   // application output (ping lines); null: discard
  uint64_t max_events = 0;           // watchdog: stop after this many events (0: none)
};

/// Counters of one direction of one link.
struct ChannelCounters {
  uint64_t offered = 0;      // frames handed to the transmitter
  uint64_t sent = 0;         // frames put on the wire
  uint64_t bytes_sent = 0;
  uint64_t delivered = 0;    // frames decoded by the receiving PHY and handed to its host
  uint64_t drop_queue = 0;   // drop-tail: queue full
  uint64_t drop_loss = 0;    // lost in transit (loss probability)
  uint64_t drop_line = 0;    // the receiving PHY could not decode the line signal
  uint64_t drop_down = 0;    // offered, queued or in flight while the link was down
  uint64_t duplicated = 0;   // frames delivered twice (duplication probability)
  uint64_t bit_errors = 0;   // bits flipped
  uint64_t damaged = 0;      // frames hit by at least one bit error
};

class Simulation {
 public:
  /// Builds the network. Throws scenario::ScenarioError if the scenario cannot be built
  /// (e.g. an unresolvable route), std::runtime_error if an output file cannot be created.
  Simulation(const scenario::Scenario& sc, RunOptions opts);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  /// Runs to the end (duration, or until no event is left). Writes summary.json and
  /// flushes the traces if an out dir was given.
  void run();

  Time now() const;
  uint64_t events_executed() const;
  /// True if the run stopped on RunOptions::max_events rather than by itself or at its end.
  bool watchdog_fired() const;
  stack::Host& host(const std::string& name);
  const stack::Host& host(const std::string& name) const;
  const stack::Switch& switch_node(const std::string& name) const;
  /// Counters of link `index`, direction a->b (`forward`) or b->a.
  const ChannelCounters& channel(size_t link_index, bool forward) const;
  /// summary.json's content.
  std::string summary_json() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mz::sim
