// pcap capture files with nanosecond timestamps from the virtual clock.
//
// Classic libpcap format, magic 0xa1b23c4d (nanosecond resolution), link type
// LINKTYPE_ETHERNET (1). Frames are captured as they are on the wire, FCS included;
// the header's link-type field says so (FCS-length bits, 4 bytes), and Wireshark
// should be told too (`-o eth.fcs:Always`) since not every version reads those bits.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/time.hpp"

namespace mz::trace {

class PcapWriter {
 public:
  /// Opens (truncates) `path`; check ok() / error().
  explicit PcapWriter(const std::string& path, uint32_t snaplen = 65535);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  bool ok() const { return f_ != nullptr; }
  const std::string& error() const { return error_; }
  void write(Time t, ByteView frame);
  void flush();
  uint64_t packets() const { return packets_; }

  static constexpr uint32_t kMagicNanos = 0xa1b23c4d;
  static constexpr uint32_t kLinkTypeEthernet = 1;
  /// Link-type field with the FCS-present flag (bit 26) and FCS length 2 (x16 bits) in bits 28-31.
  static constexpr uint32_t kLinkTypeEthernetWithFcs = kLinkTypeEthernet | (1u << 26) | (2u << 28);

 private:
  std::FILE* f_ = nullptr;
  std::string error_;
  uint32_t snaplen_;
  uint64_t packets_ = 0;
};

}  // namespace mz::trace
