#include "megzawicol/trace/pcap.hpp"

#include <cerrno>
#include <cstring>

namespace mz::trace {

PcapWriter::PcapWriter(const std::string& path, uint32_t snaplen) : snaplen_(snaplen) {
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) {
    error_ = path + ": cannot create: " + std::strerror(errno);
    return;
  }
  uint8_t h[24];
  store_le32(h, kMagicNanos);
  h[4] = 2; h[5] = 0;  // version 2.4, little-endian fields
  h[6] = 4; h[7] = 0;
  store_le32(h + 8, 0);   // thiszone
  store_le32(h + 12, 0);  // sigfigs
  store_le32(h + 16, snaplen_);
  store_le32(h + 20, kLinkTypeEthernetWithFcs);
  std::fwrite(h, 1, sizeof h, f_);
}

PcapWriter::~PcapWriter() {
  if (f_) std::fclose(f_);
}

void PcapWriter::write(Time t, ByteView frame) {
  if (!f_) return;
  const uint32_t caplen = frame.size() > snaplen_ ? snaplen_ : static_cast<uint32_t>(frame.size());
  uint8_t h[16];
  const int64_t ns = t.ns < 0 ? 0 : t.ns;
  store_le32(h, static_cast<uint32_t>(ns / 1000000000));
  store_le32(h + 4, static_cast<uint32_t>(ns % 1000000000));
  store_le32(h + 8, caplen);
  store_le32(h + 12, static_cast<uint32_t>(frame.size()));
  std::fwrite(h, 1, sizeof h, f_);
  std::fwrite(frame.data(), 1, caplen, f_);
  ++packets_;
}

void PcapWriter::flush() {
  if (f_) std::fflush(f_);
}

}  // namespace mz::trace
