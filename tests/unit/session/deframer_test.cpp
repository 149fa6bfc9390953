#include <doctest/doctest.h>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l5/session_wire.hpp"
#include "session_test_util.hpp"

using namespace mz;
using namespace mz::l5;
using mz::l5::test::hex;
using mz::l5::test::text;

namespace {

// What a deframer produced: each frame's describe() plus a payload digest, then the error.
struct Outcome {
  std::vector<std::string> items;
  bool operator==(const Outcome&) const = default;
};

void drain_into(SessionDeframer& d, Outcome& o, bool& failed) {
  while (!failed) {
    auto r = d.next();
    if (!r) return;
    if (!r->ok()) {
      o.items.push_back("error: " + r->error().message);
      failed = true;
      return;
    }
    o.items.push_back(r->value().describe() + " " + to_hex(r->value().payload));
  }
}

// Feeds `stream` in chunks whose sizes come from `next_chunk`.
template <class F>
Outcome run(ByteView stream, F next_chunk, size_t max_payload = kDefaultMaxPayload) {
  SessionDeframer d(max_payload);
  Outcome o;
  bool failed = false;
  size_t off = 0;
  while (off < stream.size() && !failed) {
    const size_t n = std::min(stream.size() - off, next_chunk());
    d.feed(stream.subspan(off, n));
    off += n;
    drain_into(d, o, failed);
  }
  return o;
}

Bytes sample_stream(Rng& rng, int frames) {
  Bytes s;
  for (int i = 0; i < frames; ++i) {
    const Uuid id = Uuid::v4(rng);
    const Time ts{static_cast<int64_t>(rng.uniform_int(0, 1000000000000))};
    switch (rng.uniform_int(0, 3)) {
      case 0: emit_session_frame(s, SessionType::kOpen, 0, id, ts, {}); break;
      case 1: {
        const uint8_t st = 3;
        emit_session_frame(s, SessionType::kAccept, 0, id, ts, ByteView(&st, 1));
        break;
      }
      case 2: emit_session_frame(s, SessionType::kRefuse, 0, id, ts, text("no")); break;
      default: {
        Bytes p(rng.uniform_int(0, 700));
        rng.fill(p.data(), p.size());
        emit_session_frame(s, SessionType::kData, 0, id, ts, p);
      }
    }
  }
  return s;
}

}  // namespace

TEST_CASE("deframer: same frames whole or byte by byte or in random chunks") {
  Rng rng(77);
  for (int round = 0; round < 20; ++round) {
    Bytes stream = sample_stream(rng, 2 + static_cast<int>(rng.uniform_int(0, 12)));
    // Some rounds end in garbage, a bad version, an oversized length or a partial frame.
    switch (round % 5) {
      case 1: stream.insert(stream.end(), {0x47, 0x45, 0x54, 0x20}); break;  // "GET "
      case 2: stream.insert(stream.end(), {0x4d, 0x5a, 0x09}); break;
      case 3: {
        const Bytes big = hex("4d5a 0105 00 00200001");  // DATA of 1 MiB + 1
        stream.insert(stream.end(), big.begin(), big.end());
        break;
      }
      case 4: stream.pop_back(); break;
      default: break;
    }
    const Outcome whole = run(stream, [&] { return stream.size(); });
    CHECK_FALSE(whole.items.empty());
    CHECK(run(stream, [] { return size_t{1}; }) == whole);
    Rng chunks(static_cast<uint64_t>(round));
    CHECK(run(stream, [&] { return static_cast<size_t>(chunks.uniform_int(1, 97)); }) == whole);
    CHECK(run(stream, [&] { return static_cast<size_t>(chunks.uniform_int(1, 2000)); }) == whole);
    if (round % 5 == 3) CHECK(whole.items.back() == "error: payload length 2097153 exceeds limit 1048576");
    if (round % 5 == 2) CHECK(whole.items.back() == "error: unsupported session version 9, expected 1");
    if (round % 5 == 1) CHECK(whole.items.back() == "error: bad session magic 0x4745, expected 0x4d5a (\"MZ\")");
    if (round % 5 == 4) CHECK(whole.items.back().rfind("error:", 0) != 0);  // just waits
  }
}

TEST_CASE("deframer: errors are sticky and the buffer is released") {
  SessionDeframer d(1000);
  Bytes s;
  emit_session_frame(s, SessionType::kData, 0, Uuid::nil(), Time{5}, text("ok"));
  d.feed(s);
  auto r = d.next();
  REQUIRE(r);
  REQUIRE(r->ok());
  CHECK(d.buffered() == 0);
  // The length field alone is enough to refuse: no waiting for 5000 bytes that never fit.
  d.feed(hex("4d5a 0105 00 00001388"));
  auto e = d.next();
  REQUIRE(e);
  REQUIRE_FALSE(e->ok());
  CHECK(e->error().message == "payload length 5000 exceeds limit 1000");
  CHECK(d.failed());
  d.feed(s);  // discarded
  CHECK(d.buffered() == 0);
  for (int i = 0; i < 3; ++i) {
    auto again = d.next();
    REQUIRE(again);
    REQUIRE_FALSE(again->ok());
    CHECK(again->error().message == "payload length 5000 exceeds limit 1000");
  }
}

TEST_CASE("deframer: memory stays bounded by one frame when drained") {
  SessionDeframer d;
  Rng rng(3);
  const Bytes stream = sample_stream(rng, 200);
  size_t peak = 0;
  size_t frames = 0;
  for (size_t off = 0; off < stream.size(); off += 13) {
    d.feed(ByteView(stream).subspan(off, std::min<size_t>(13, stream.size() - off)));
    while (auto r = d.next()) {
      REQUIRE(r->ok());
      ++frames;
    }
    peak = std::max(peak, d.buffered());
  }
  CHECK(frames == 200);
  CHECK(d.buffered() == 0);
  CHECK(peak <= kSessionHeaderLen + 700 + 13);
}
