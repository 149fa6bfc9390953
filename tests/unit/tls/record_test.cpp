// Record layer: framing limits, the bounded assembler, padding, sequence numbers.
#include <doctest/doctest.h>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l6/record.hpp"
#include "tls_test_util.hpp"

using namespace mz;
using namespace mz::l6;
using namespace mz::l6::test;

namespace {
TrafficKeys test_keys(uint8_t seed) {
  TrafficKeys k;
  k.key.fill(seed);
  k.iv.fill(static_cast<uint8_t>(seed + 1));
  return k;
}
}  // namespace

TEST_CASE("plaintext records are split at 2^14") {
  Bytes out;
  append_plaintext_records(ContentType::handshake, Bytes(40000, 7), out);
  // 16384 + 16384 + 7232, each with a 5-byte header.
  REQUIRE(out.size() == 40000 + 3 * 5);
  auto h = parse_record_header(out.data());
  CHECK(h.type == ContentType::handshake);
  CHECK(h.legacy_version == 0x0303);
  CHECK(h.length == 16384);
  CHECK(parse_record_header(out.data() + 5 + 16384 * 2 + 5).length == 7232);
}

TEST_CASE("seal and open with padding and increasing sequence numbers") {
  RecordProtection tx(test_keys(1)), rx(test_keys(1));
  Bytes wire;
  tx.seal(ContentType::application_data, Bytes{'h', 'i'}, wire, 100);
  tx.seal(ContentType::application_data, Bytes{}, wire);  // zero-length data is allowed
  tx.seal(ContentType::alert, Bytes{1, 0}, wire);
  CHECK(tx.sequence() == 3);
  ByteView v(wire);
  std::vector<std::pair<ContentType, Bytes>> got;
  while (!v.empty()) {
    const auto h = parse_record_header(v.data());
    CHECK(h.type == ContentType::application_data);
    ContentType t{};
    Bytes c;
    REQUIRE_FALSE(rx.open(v.first(5), v.subspan(5, h.length), t, c));
    got.emplace_back(t, c);
    v = v.subspan(5 + h.length);
  }
  REQUIRE(got.size() == 3);
  CHECK(got[0].second == Bytes{'h', 'i'});
  CHECK(got[1].first == ContentType::application_data);
  CHECK(got[1].second.empty());
  CHECK(got[2].first == ContentType::alert);

  // Replaying the first record under the next sequence number fails.
  RecordProtection rx2(test_keys(1));
  ContentType t{};
  Bytes c;
  const auto h0 = parse_record_header(wire.data());
  const Bytes first(wire.begin(), wire.begin() + 5 + h0.length);
  REQUIRE_FALSE(rx2.open(ByteView(first).first(5), ByteView(first).subspan(5), t, c));
  auto err = rx2.open(ByteView(first).first(5), ByteView(first).subspan(5), t, c);
  REQUIRE(err);
  CHECK(err->alert == AlertDescription::bad_record_mac);
}

TEST_CASE("opened records: all-zero inner plaintext and oversized inner plaintext") {
  RecordProtection tx(test_keys(3));
  Bytes wire;
  // content "" + type 0 + padding: the receiver finds no content type.
  tx.seal(ContentType::invalid, Bytes{}, wire, 10);
  RecordProtection rx(test_keys(3));
  ContentType t{};
  Bytes c;
  auto err = rx.open(ByteView(wire).first(5), ByteView(wire).subspan(5), t, c);
  REQUIRE(err);
  CHECK(err->alert == AlertDescription::unexpected_message);
  // A body shorter than a tag.
  RecordProtection rx2(test_keys(3));
  err = rx2.open(ByteView(wire).first(5), ByteView(wire).subspan(5, 10), t, c);
  REQUIRE(err);
  CHECK(err->alert == AlertDescription::bad_record_mac);
}

TEST_CASE("assembler: any chunking gives the same records and memory stays bounded") {
  RecordProtection tx(test_keys(9));
  Bytes wire;
  Rng rng(77);
  std::vector<Bytes> sent;
  for (int i = 0; i < 30; ++i) {
    Bytes d(rng.uniform_int(0, 20000 > kMaxPlaintext ? kMaxPlaintext : 20000));
    rng.fill(d.data(), d.size());
    tx.seal(ContentType::application_data, d, wire);
    sent.push_back(std::move(d));
  }
  for (int mode = 0; mode < 3; ++mode) {
    RecordAssembler a;
    RecordProtection rx(test_keys(9));
    std::vector<Bytes> got;
    size_t at = 0;
    size_t max_buffered = 0;
    while (at < wire.size()) {
      const size_t n = mode == 0 ? 1 : mode == 1 ? wire.size() : rng.uniform_int(1, 5000);
      ByteView chunk = ByteView(wire).subspan(at, std::min(n, wire.size() - at));
      at += chunk.size();
      while (!chunk.empty()) {
        chunk = chunk.subspan(a.feed(chunk));
        REQUIRE_FALSE(a.error());
        max_buffered = std::max(max_buffered, a.buffered());
        if (a.ready()) {
          ContentType t{};
          Bytes c;
          REQUIRE_FALSE(rx.open(a.header_bytes(), a.body(), t, c));
          got.push_back(std::move(c));
          a.clear();
        }
      }
    }
    CHECK(got == sent);
    CHECK(max_buffered <= kRecordHeaderLen + kMaxCiphertext);
  }
}

TEST_CASE("assembler: oversized or unknown records are refused on the header alone") {
  SUBCASE("ciphertext announcing 2^14 + 257") {
    RecordAssembler a;
    const Bytes h = {23, 3, 3, 0x41, 0x01};
    CHECK(a.feed(h) == 5);
    REQUIRE(a.error());
    CHECK(a.error()->alert == AlertDescription::record_overflow);
    CHECK(a.feed(Bytes(100, 0)) == 0);
  }
  SUBCASE("ciphertext of exactly 2^14 + 256 is accepted") {
    RecordAssembler a;
    a.feed(Bytes{23, 3, 3, 0x41, 0x00});
    CHECK_FALSE(a.error());
  }
  SUBCASE("plaintext handshake announcing 2^14 + 1") {
    RecordAssembler a;
    a.feed(Bytes{22, 3, 3, 0x40, 0x01});
    REQUIRE(a.error());
    CHECK(a.error()->alert == AlertDescription::record_overflow);
  }
  SUBCASE("a 2^16 - 1 announcement") {
    RecordAssembler a;
    a.feed(Bytes{23, 3, 3, 0xff, 0xff});
    REQUIRE(a.error());
    CHECK(a.error()->alert == AlertDescription::record_overflow);
  }
  SUBCASE("unknown content type (an HTTP request)") {
    RecordAssembler a;
    const std::string get = "GET / HTTP/1.1\r\n";
    a.feed(ByteView(reinterpret_cast<const uint8_t*>(get.data()), get.size()));
    REQUIRE(a.error());
    CHECK(a.error()->alert == AlertDescription::unexpected_message);
  }
}

TEST_CASE("alert names") {
  CHECK(alert_name(AlertDescription::bad_record_mac) == "bad_record_mac");
  CHECK(alert_name(static_cast<AlertDescription>(200)) == "alert(200)");
  CHECK(content_type_name(ContentType::handshake) == "handshake");
}
