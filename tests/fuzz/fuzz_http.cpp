// HTTP/1.1 server and client codecs.
// Input: byte 0: bit 0 = client codec (else server), bit 1 = feed_eof at the end (client),
// bits 2-7 = chunking seed; then the bytes from the peer.
// Invariants: the events (requests/responses and the sticky error) are the same fed whole,
// one byte at a time, in random chunks of up to 200 bytes or in random pieces of 1 to 6
// bytes; buffered bytes stay bounded by the header limit; the server can always answer
// what it parsed. Built with Boost's asserts on, so Beast's own checks run too.
#include <vector>

#include "fuzz_util.hpp"
#include "megzawicol/l7/http.hpp"

namespace {

using namespace mz::l7;

constexpr HttpLimits kLimits{1024, 4096};

template <class Msg>
struct Event {
  bool ok;
  Msg msg;
  std::string error;
  bool operator==(const Event&) const = default;
};

template <class Codec, class Msg, class ChunkFn>
std::vector<Event<Msg>> run(mz::ByteView s, bool eof, ChunkFn chunk) {
  Codec c(kLimits);
  std::vector<Event<Msg>> ev;
  bool failed = false;
  auto drain = [&] {
    while (auto r = c.next()) {
      if (!*r) {
        ev.push_back({false, {}, r->error().message});
        failed = true;
        return;
      }
      ev.push_back({true, r->value(), {}});
      if constexpr (std::is_same_v<Codec, HttpServerCodec>) {
        HttpResponse res = make_echo_response(r->value(), 0, "fuzz");
        (void)c.respond(res);
      }
    }
  };
  size_t pos = 0;
  while (pos < s.size() && !failed) {
    size_t n = std::min(chunk(), s.size() - pos);
    c.feed(s.subspan(pos, n));
    pos += n;
    drain();
    MZ_FUZZ_CHECK(c.buffered() <= kLimits.max_header_bytes + kLimits.max_body_bytes + n);
  }
  if constexpr (std::is_same_v<Codec, HttpClientCodec>) {
    if (eof && !failed) {
      c.feed_eof();
      drain();
    }
  }
  (void)c.should_close();
  return ev;
}

template <class Codec, class Msg>
void check(mz::ByteView s, bool eof, uint8_t seed) {
  auto whole = run<Codec, Msg>(s, eof, [&] { return s.size(); });
  auto bytewise = run<Codec, Msg>(s, eof, [] { return size_t{1}; });
  mz::fuzz::Chunker ch(seed, 200);
  auto random = run<Codec, Msg>(s, eof, [&] { return ch.next(); });
  // Pieces of 1 to 6 bytes: the short tails (a chunk header, the last chunk and the end of
  // the trailer) arrive split at every place, with more than one byte at a time.
  mz::fuzz::Chunker small_ch(seed ^ 0x2a, 6);
  auto small = run<Codec, Msg>(s, eof, [&] { return small_ch.next(); });
  MZ_FUZZ_CHECK(whole == bytewise);
  MZ_FUZZ_CHECK(whole == random);
  MZ_FUZZ_CHECK(whole == small);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mz::fuzz::Input in(data, size);
  uint8_t b0 = in.u8();
  mz::ByteView s = in.rest();
  if (b0 & 1)
    check<HttpClientCodec, HttpResponse>(s, (b0 & 2) != 0, b0 >> 2);
  else
    check<HttpServerCodec, HttpRequest>(s, false, b0 >> 2);
  return 0;
}
