// `megzawicol trace filter` and `megzawicol trace diff`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "megzawicol/inspect/reader.hpp"

namespace mz::inspect {

/// Which events to keep. Empty lists match everything; several values of one option
/// match any of them; all options must match.
struct FilterSpec {
  std::vector<std::string> nodes;
  std::vector<trace::Layer> layers;
  std::vector<std::string> events;
  std::optional<int64_t> from_ns;  // inclusive
  std::optional<int64_t> to_ns;    // inclusive
  std::string grep;                // substring of the message (case-sensitive)
  bool json = false;               // print trace.jsonl lines instead of trace.log lines

  bool matches(const TraceRecord& r) const;
};

/// Prints the matching events of DIR's trace to `out` (trace.log lines, or the original
/// trace.jsonl lines with `json`); returns how many matched.
uint64_t filter_trace(const std::string& dir, const FilterSpec& spec, std::ostream& out);

struct DiffCount {
  std::string layer, event;
  uint64_t a = 0, b = 0;
};

struct DiffResult {
  bool identical = true;
  uint64_t events_a = 0, events_b = 0;
  std::optional<uint64_t> first_index;      // 0-based index of the first differing event
  std::optional<TraceRecord> first_a, first_b;  // absent if that run had no more events
  std::vector<std::string> differences;     // what differs in the first differing pair
  std::vector<DiffCount> counts;            // (layer, event) whose counts differ
};

/// Compares two runs' traces event by event (streaming both).
DiffResult diff_traces(const std::string& dir_a, const std::string& dir_b);
/// The report; the runs are called run1 (dir_a) and run2 (dir_b).
std::string format_diff_text(const DiffResult& d, const std::string& dir_a, const std::string& dir_b);

}  // namespace mz::inspect
