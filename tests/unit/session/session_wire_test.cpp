#include "megzawicol/l5/session_wire.hpp"

#include <doctest/doctest.h>

#include "megzawicol/core/rng.hpp"
#include "session_test_util.hpp"

using namespace mz;
using namespace mz::l5;
using mz::l5::test::error_contains;
using mz::l5::test::hex;
using mz::l5::test::text;

namespace {

const Uuid kId = *Uuid::parse("1b4e28ba-2fa1-41d2-883f-0016d3cca427");
const char* kIdHex = "1b4e28ba 2fa1 41d2 883f 0016d3cca427";

// ACCEPT, session kId, sent at 12.5 s (12500000000 ns = 0x2e90edd00), state NEW. Written by
// hand from the diagram in session_wire.hpp.
const std::string kAcceptHex = std::string("4d5a 01 03 00 00000001 ") + kIdHex + " 00000002e90edd00 01";

Bytes emit(SessionType t, uint8_t flags, const Uuid& id, int64_t ts, ByteView payload) {
  Bytes out;
  emit_session_frame(out, t, flags, id, Time{ts}, payload);
  return out;
}

}  // namespace

TEST_CASE("session wire: ACCEPT encodes byte for byte") {
  const uint8_t st = 1;
  CHECK(emit(SessionType::kAccept, 0, kId, 12500000000, ByteView(&st, 1)) == hex(kAcceptHex));
  auto f = parse_session_frame(hex(kAcceptHex));
  REQUIRE(f.ok());
  CHECK(f->type == SessionType::kAccept);
  CHECK(f->flags == 0);
  CHECK(f->id == kId);
  CHECK(f->timestamp_ns == 12500000000u);
  CHECK(f->accept_state() == SessionState::kNew);
  CHECK(f->wire_len() == 34);
  CHECK(f->describe() == "SESSION ACCEPT 1b4e28ba-2fa1-41d2-883f-0016d3cca427 ts 12.500000000 len 1 state NEW");
}

TEST_CASE("session wire: DATA REFUSE CLOSE and OPEN encode byte for byte") {
  CHECK(emit(SessionType::kData, 0, kId, 0, text("hi")) ==
        hex(std::string("4d5a 01 05 00 00000002 ") + kIdHex + " 0000000000000000 6869"));
  CHECK(emit(SessionType::kRefuse, 0, kId, 1, text("unknown session id")) ==
        hex(std::string("4d5a 01 04 00 00000012 ") + kIdHex + " 0000000000000001 756e6b6e6f776e2073657373696f6e206964"));
  CHECK(emit(SessionType::kClose, kFlagEnd, kId, 0x0102030405060708, {}) ==
        hex(std::string("4d5a 01 06 01 00000000 ") + kIdHex + " 0102030405060708"));
  CHECK(emit(SessionType::kOpen, 0, Uuid::nil(), 0, {}) ==
        hex("4d5a 01 01 00 00000000 00000000000000000000000000000000 0000000000000000"));
  auto r = parse_session_frame(emit(SessionType::kRefuse, 0, kId, 1, text("unknown session id")));
  REQUIRE(r.ok());
  CHECK(r->refuse_reason() == "unknown session id");
  CHECK(r->describe() ==
        "SESSION REFUSE 1b4e28ba-2fa1-41d2-883f-0016d3cca427 ts 0.000000001 len 18 reason \"unknown session id\"");
  auto c = parse_session_frame(emit(SessionType::kClose, kFlagEnd, kId, 2000000000, {}));
  REQUIRE(c.ok());
  CHECK(c->describe() == "SESSION CLOSE 1b4e28ba-2fa1-41d2-883f-0016d3cca427 ts 2.000000000 len 0 END");
}

TEST_CASE("session wire: round trips of every type") {
  Rng rng(5);
  for (int i = 0; i < 200; ++i) {
    SessionFrame f;
    f.type = static_cast<SessionType>(rng.uniform_int(1, 6));
    f.id = Uuid::v4(rng);
    f.timestamp_ns = rng.next_u64() >> 1;
    switch (f.type) {
      case SessionType::kAccept: f.payload = {static_cast<uint8_t>(rng.uniform_int(1, 3))}; break;
      case SessionType::kRefuse: f.payload = text("session expired \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"); break;
      case SessionType::kData:
        f.payload.resize(rng.uniform_int(0, 3000));
        rng.fill(f.payload.data(), f.payload.size());
        break;
      case SessionType::kClose: f.flags = rng.bernoulli(0.5) ? kFlagEnd : 0; break;
      default: break;
    }
    Bytes wire;
    emit_session_frame(wire, f);
    CHECK(wire.size() == f.wire_len());
    auto p = parse_session_frame(wire);
    REQUIRE(p.ok());
    CHECK(*p == f);
  }
}

TEST_CASE("session wire: malformed frames give precise errors") {
  const Bytes good = hex(kAcceptHex);
  auto with = [&](size_t at, uint8_t v) {
    Bytes b = good;
    b[at] = v;
    return b;
  };
  CHECK(error_contains(parse_session_frame(with(0, 0x47)), "bad session magic 0x475a, expected 0x4d5a"));
  CHECK(error_contains(parse_session_frame(with(2, 2)), "unsupported session version 2, expected 1"));
  CHECK(error_contains(parse_session_frame(with(3, 0)), "unknown session frame type 0"));
  CHECK(error_contains(parse_session_frame(with(3, 7)), "unknown session frame type 7"));
  CHECK(error_contains(parse_session_frame(with(4, 0x80)), "reserved session flags set: 0x80"));
  CHECK(error_contains(parse_session_frame(with(4, kFlagEnd)), "flag END on a ACCEPT frame"));
  CHECK(error_contains(parse_session_frame(with(33, 0)), "bad ACCEPT state 0"));
  CHECK(error_contains(parse_session_frame(with(33, 4)), "bad ACCEPT state 4"));
  Bytes longer = good;
  longer.push_back(0);
  CHECK(error_contains(parse_session_frame(longer), "1 trailing bytes after the session frame"));
  longer[8] = 2;  // ACCEPT with two payload bytes
  CHECK(error_contains(parse_session_frame(longer), "ACCEPT payload of 2 bytes, expected 1"));
  CHECK(error_contains(parse_session_frame(emit(SessionType::kOpen, 0, kId, 0, text("x"))),
                       "OPEN frame with a 1-byte payload, expected none"));
  CHECK(error_contains(parse_session_frame(emit(SessionType::kRefuse, 0, kId, 0, hex("c0af"))),
                       "REFUSE reason is not valid UTF-8"));
  for (const char* bad : {"ff", "c3", "eda080", "f4908080", "e282", "80"}) {
    INFO(bad);
    CHECK(error_contains(parse_session_frame(emit(SessionType::kRefuse, 0, kId, 0, hex(bad))), "not valid UTF-8"));
  }
  // The payload limit is checked on the length field alone.
  Bytes big = emit(SessionType::kData, 0, kId, 0, Bytes(100));
  CHECK(error_contains(parse_session_frame(big, 99), "payload length 100 exceeds limit 99"));
  CHECK(parse_session_frame(big, 100).ok());
  store_be32(big.data() + 5, 0xFFFFFFFFu);
  CHECK(error_contains(parse_session_frame(big), "payload length 4294967295 exceeds limit 1048576"));
}

TEST_CASE("session wire: every truncation is an error and never reads past the end") {
  for (const Bytes& frame : {hex(kAcceptHex), emit(SessionType::kData, 0, kId, 7, text("hello")),
                             emit(SessionType::kClose, kFlagEnd, kId, 7, {})}) {
    for (size_t n = 0; n < frame.size(); ++n) {
      // A heap copy of exactly n bytes, so ASan catches an over-read.
      const Bytes prefix(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK_FALSE(check_session_header_prefix(prefix));  // a valid start is never an error
      auto r = parse_session_frame(prefix);
      CHECK_FALSE(r.ok());
      CHECK(r.error().message.find("truncated") != std::string::npos);
    }
    CHECK(parse_session_frame(frame).ok());
  }
}

TEST_CASE("session wire: random buffers never crash and what parses re-emits identically") {
  Rng rng(9001);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes b(rng.uniform_int(0, 64));
    rng.fill(b.data(), b.size());
    // Most of the time keep a valid start so that the deeper checks are reached too.
    if (b.size() >= 3 && rng.bernoulli(0.8)) b[0] = 0x4d, b[1] = 0x5a, b[2] = 1;
    if (b.size() >= 5 && rng.bernoulli(0.7)) b[3] = static_cast<uint8_t>(rng.uniform_int(1, 6)), b[4] = 0;
    if (b.size() >= 33 && rng.bernoulli(0.7)) store_be32(b.data() + 5, static_cast<uint32_t>(b.size() - 33));
    auto r = parse_session_frame(b);
    if (!r.ok()) {
      CHECK_FALSE(r.error().message.empty());
      continue;
    }
    ++parsed;
    Bytes again;
    emit_session_frame(again, *r);
    CHECK(again == b);
    (void)r->describe();
  }
  CHECK(parsed > 100);
}
