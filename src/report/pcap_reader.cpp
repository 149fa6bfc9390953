#include "megzawicol/report/pcap_reader.hpp"

#include <cstdio>
#include <memory>

namespace mz::report {

namespace {

uint32_t load32(const uint8_t* p, bool swap) {
  return swap ? (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]}
              : (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | uint32_t{p[0]};
}

}  // namespace

PcapFile read_pcap(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw PcapError(path + ": cannot open");
  uint8_t h[24];
  if (std::fread(h, 1, sizeof h, f.get()) != sizeof h) throw PcapError(path + ": too short for a pcap header");
  const uint32_t magic_le = load32(h, false);
  bool swap = false, nanos = false;
  if (magic_le == 0xa1b23c4d || magic_le == 0xa1b2c3d4) {
    nanos = magic_le == 0xa1b23c4d;
  } else {
    const uint32_t magic_be = load32(h, true);
    if (magic_be != 0xa1b23c4d && magic_be != 0xa1b2c3d4) throw PcapError(path + ": not a classic pcap file (bad magic)");
    swap = true;
    nanos = magic_be == 0xa1b23c4d;
  }
  PcapFile out;
  out.snaplen = load32(h + 16, swap);
  out.link_type = load32(h + 20, swap);
  if ((out.link_type & 0xffff) != 1) throw PcapError(path + ": link type " + std::to_string(out.link_type & 0xffff) + " is not Ethernet (1)");
  out.has_fcs = (out.link_type & (1u << 26)) != 0;
  uint8_t r[16];
  for (;;) {
    const size_t got = std::fread(r, 1, sizeof r, f.get());
    if (got == 0) break;
    if (got != sizeof r) throw PcapError(path + ": truncated record header after " + std::to_string(out.records.size()) + " records");
    PcapRecord rec;
    const uint32_t sec = load32(r, swap), frac = load32(r + 4, swap), caplen = load32(r + 8, swap);
    rec.orig_len = load32(r + 12, swap);
    if (caplen > (256u << 20)) throw PcapError(path + ": implausible record length " + std::to_string(caplen));
    rec.time_ns = int64_t{sec} * 1'000'000'000 + (nanos ? int64_t{frac} : int64_t{frac} * 1000);
    rec.data.resize(caplen);
    if (caplen && std::fread(rec.data.data(), 1, caplen, f.get()) != caplen)
      throw PcapError(path + ": truncated record " + std::to_string(out.records.size() + 1));
    out.records.push_back(std::move(rec));
  }
  return out;
}

}  // namespace mz::report
