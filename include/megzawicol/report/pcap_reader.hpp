// Reading the simulator's pcap captures back: classic libpcap files, nanosecond
// timestamps (magic 0xa1b23c4d, either byte order), Ethernet link type (1) with or
// without the FCS-present bits. Microsecond files (0xa1b2c3d4) are read too.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "megzawicol/core/bytes.hpp"

namespace mz::report {

class PcapError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PcapRecord {
  int64_t time_ns = 0;
  uint32_t orig_len = 0;  // the frame's length on the wire
  Bytes data;             // the captured bytes (orig_len unless the snap length cut it)
};

struct PcapFile {
  uint32_t link_type = 0;  // the header's field, FCS bits included
  uint32_t snaplen = 0;
  bool has_fcs = false;    // FCS-present bit set (bit 26)
  std::vector<PcapRecord> records;
};

/// Reads a whole capture; throws PcapError naming the file on a bad header or a
/// truncated record.
PcapFile read_pcap(const std::string& path);

}  // namespace mz::report
