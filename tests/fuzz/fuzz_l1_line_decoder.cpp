// L1 4B/5B line code: decode_frame on a burst, and the streaming LineDecoder.
// Input: byte 0 = how many bits to cut off the end of the burst (low 3 bits), then line bytes.
// Invariants: no crash; the stream decoder gives the same results fed whole or one byte at a
// time; its memory stays bounded by max_frame_len when drained after every feed.
#include <vector>

#include "fuzz_util.hpp"
#include "megzawicol/l1/line_code.hpp"

namespace {

using mz::l1::DecodedFrame;
using mz::l1::LineDecoder;

struct Event {
  bool ok;
  mz::Bytes frame;
  uint32_t symbol_errors, first_bad;
  std::string error;
  bool operator==(const Event&) const = default;
};

Event to_event(const mz::Result<DecodedFrame>& r) {
  if (!r) return {false, {}, 0, 0, r.error().message};
  return {true, r->frame, r->symbol_errors, r->symbol_errors ? r->first_bad_symbol : 0, {}};
}

constexpr size_t kMaxFrame = 1600;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mz::fuzz::Input in(data, size);
  unsigned cut = in.u8() & 7;
  mz::ByteView line = in.rest();

  // Burst: bits past nbits in the last byte are 1 (idle), as the contract says.
  mz::l1::LineBits lb;
  lb.bits.assign(line.begin(), line.end());
  lb.nbits = lb.bits.size() * 8;
  if (!lb.bits.empty() && cut) {
    lb.nbits -= cut;
    lb.bits.back() |= static_cast<uint8_t>((1u << cut) - 1);
  }
  auto burst = mz::l1::decode_frame(lb);
  if (burst) MZ_FUZZ_CHECK(burst->frame.size() <= line.size());

  // Stream: whole vs one byte at a time.
  std::vector<Event> whole, bytewise;
  LineDecoder a(kMaxFrame);
  a.feed(line);
  while (auto r = a.poll()) whole.push_back(to_event(*r));

  LineDecoder b(kMaxFrame);
  for (uint8_t byte : line) {
    b.feed(mz::ByteView(&byte, 1));
    while (auto r = b.poll()) {
      bytewise.push_back(to_event(*r));
      if (r->ok()) MZ_FUZZ_CHECK(r->value().frame.size() <= kMaxFrame);
    }
    MZ_FUZZ_CHECK(b.buffered_bytes() <= kMaxFrame + 64);
  }
  MZ_FUZZ_CHECK(whole == bytewise);
  MZ_FUZZ_CHECK(a.bits_discarded() == b.bits_discarded());
  MZ_FUZZ_CHECK(a.in_frame() == b.in_frame());
  return 0;
}
