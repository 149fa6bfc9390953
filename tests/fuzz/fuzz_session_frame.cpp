// L5 session frames: parse_session_frame and the SessionDeframer.
// Input: byte 0 = chunking seed, then the byte stream.
// Invariants: a frame that parses re-emits to the same bytes; the deframer gives the same
// frames and error fed whole, one byte at a time or in random chunks; it buffers at most
// one bounded frame.
#include <vector>

#include "fuzz_util.hpp"
#include "megzawicol/l5/session_wire.hpp"

namespace {

using mz::l5::SessionDeframer;
using mz::l5::SessionFrame;
constexpr size_t kMaxPayload = 4096;

struct Event {
  bool ok;
  SessionFrame frame;
  std::string error;
  bool operator==(const Event&) const = default;
};

// Drains the deframer; stops after the (sticky) error.
bool drain(SessionDeframer& d, std::vector<Event>& out) {
  while (auto r = d.next()) {
    if (!*r) {
      out.push_back({false, {}, r->error().message});
      return false;
    }
    out.push_back({true, r->value(), {}});
  }
  return true;
}

template <class ChunkFn>
std::vector<Event> deframe(mz::ByteView s, ChunkFn chunk) {
  SessionDeframer d(kMaxPayload);
  std::vector<Event> ev;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t n = std::min(chunk(), s.size() - pos);
    d.feed(s.subspan(pos, n));
    pos += n;
    if (!drain(d, ev)) break;
    MZ_FUZZ_CHECK(d.buffered() <= mz::l5::kSessionHeaderLen + kMaxPayload + n);
  }
  return ev;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mz::fuzz::Input in(data, size);
  uint8_t seed = in.u8();
  mz::ByteView s = in.rest();

  auto one = mz::l5::parse_session_frame(s, kMaxPayload);
  if (one) {
    (void)one->describe();
    (void)one->accept_state();
    (void)one->refuse_reason();
    (void)mz::l5::to_string(one->type);
    mz::Bytes out;
    mz::l5::emit_session_frame(out, *one);
    MZ_FUZZ_CHECK(out.size() == s.size() && std::equal(out.begin(), out.end(), s.begin()));
  }

  auto whole = deframe(s, [&] { return s.size(); });
  auto bytewise = deframe(s, [] { return size_t{1}; });
  mz::fuzz::Chunker ch(seed, 64);
  auto random = deframe(s, [&] { return ch.next(); });
  MZ_FUZZ_CHECK(whole == bytewise);
  MZ_FUZZ_CHECK(whole == random);
  // A single whole frame comes out of the deframer as parse_session_frame sees it.
  if (one) MZ_FUZZ_CHECK(!whole.empty() && whole[0].ok && whole[0].frame == *one);
  return 0;
}
