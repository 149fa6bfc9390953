// L7 HTTP/1.1 codec: the seed request on the wire, round trips through both codecs, outside
// forms (hand-written raw requests, Python's http.client), chunked bodies, chunking
// invariance, pipelining, persistence, limits, garbage, and JSON escaping of the message.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l7/http.hpp"

using namespace mz;
using namespace mz::l7;

// Readable doctest output for the events.
namespace mz::l7 {
std::ostream& operator<<(std::ostream& os, const HttpRequest& r) {
  os << "{" << r.method << " " << r.target << " v" << r.version << " headers=" << r.headers.size()
     << " body=" << r.body.size() << "B}";
  return os;
}
std::ostream& operator<<(std::ostream& os, const HttpResponse& r) {
  os << "{" << r.status << " " << r.reason << " v" << r.version << " headers=" << r.headers.size()
     << " body=" << r.body.size() << "B}";
  return os;
}
}  // namespace mz::l7

namespace {

Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
std::string to_str(const Bytes& b) { return std::string(b.begin(), b.end()); }

/// Splits `data` into the pieces a chunking gives.
using Chunker = std::function<std::vector<std::string>(const std::string&)>;

std::vector<std::string> whole(const std::string& s) { return {s}; }
std::vector<std::string> bytewise(const std::string& s) {
  std::vector<std::string> out;
  for (char c : s) out.emplace_back(1, c);
  return out;
}
Chunker random_chunks(uint64_t seed, uint64_t max_len) {
  return [seed, max_len](const std::string& s) {
    Rng rng(seed);
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
      size_t n = static_cast<size_t>(rng.uniform_int(1, max_len));
      out.push_back(s.substr(i, n));
      i += n;
    }
    return out;
  };
}

/// What a codec made of a byte stream: the messages, then the error if one came.
template <class Msg>
struct Outcome {
  std::vector<Msg> messages;
  std::optional<std::string> error;
  bool operator==(const Outcome&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    os << "[";
    for (const auto& m : o.messages) os << m << " ";
    return os << "error=" << o.error.value_or("none") << "]";
  }
};

template <class Codec, class Msg>
void drain(Codec& codec, Outcome<Msg>& out) {
  while (!out.error) {
    auto ev = codec.next();
    if (!ev) return;
    if (ev->ok()) {
      out.messages.push_back(ev->value());
    } else {
      out.error = ev->error().message;
    }
  }
}

Outcome<HttpRequest> serve(const std::string& data, const Chunker& chunker = whole, HttpLimits limits = {},
                           size_t* max_buffered = nullptr) {
  HttpServerCodec server(limits);
  Outcome<HttpRequest> out;
  for (const auto& piece : chunker(data)) {
    server.feed(to_bytes(piece));
    drain(server, out);
    if (max_buffered) *max_buffered = std::max(*max_buffered, server.buffered());
  }
  return out;
}

Outcome<HttpResponse> receive(const std::string& data, const Chunker& chunker = whole, bool eof = false) {
  HttpClientCodec client;
  Outcome<HttpResponse> out;
  for (const auto& piece : chunker(data)) {
    client.feed(to_bytes(piece));
    drain(client, out);
  }
  if (eof) {
    client.feed_eof();
    drain(client, out);
  }
  return out;
}

HttpRequest seed_request(bool keep_alive = true, const std::string& message = "Hello, server!") {
  return make_message_request("api.example.com", message, 1700000000123456789, "session=abc123; theme=dark",
                              "tok3n.payload.sig", keep_alive);
}

std::vector<std::string> split_lines(const std::string& head) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    lines.push_back(head.substr(pos, e - pos));
    pos = e + 2;
  }
  return lines;
}

const std::string kChunked =
    "POST /upload HTTP/1.1\r\n"
    "Host: files.example.com\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "5\r\nHello\r\n"
    "8;note=\"x\"\r\n, server\r\n"
    "1\r\n!\r\n"
    "0\r\n\r\n";

}  // namespace

TEST_CASE("seed request: exact start line and headers and Content-Length equal to the body size") {
  HttpRequest req = seed_request();
  std::string wire = to_str(serialize(req));
  size_t end = wire.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  std::string body = wire.substr(end + 4);
  CHECK(body == R"({"message":"Hello, server!","timestamp":1700000000123456789})");
  std::vector<std::string> lines = split_lines(wire.substr(0, end));
  std::vector<std::string> expected = {
      "POST /api/v1/messages HTTP/1.1",
      "Host: api.example.com",
      "User-Agent: megzawicol/0.1",
      "Content-Type: application/json",
      "Cookie: session=abc123; theme=dark",
      "Authorization: Bearer tok3n.payload.sig",
      "Accept: application/json",
      "Content-Length: " + std::to_string(body.size()),
  };
  CHECK(lines == expected);
  CHECK(*req.header("content-length") == std::to_string(req.body.size()));
  CHECK(req.keep_alive());

  HttpRequest closing = seed_request(false);
  CHECK_FALSE(closing.keep_alive());
  std::string wire2 = to_str(serialize(closing));
  CHECK(wire2.find("\r\nConnection: close\r\n") != std::string::npos);

  // Empty cookie and token: no Cookie and no Authorization.
  HttpRequest bare = make_message_request("h", "m", 0, "", "", true);
  CHECK(bare.header("Cookie") == nullptr);
  CHECK(bare.header("Authorization") == nullptr);
}

TEST_CASE("request round trip through the server codec gives the same request") {
  for (bool keep : {true, false}) {
    HttpRequest req = seed_request(keep);
    auto out = serve(to_str(serialize(req)));
    REQUIRE_FALSE(out.error);
    REQUIRE(out.messages.size() == 1);
    CHECK(out.messages[0] == req);
    CHECK(out.messages[0].keep_alive() == keep);
  }
  // Header spelling and order are kept; lookups ignore case.
  HttpRequest odd{"PUT", "/a/b?c=d&e=%20", 11, {{"x-lower", "1"}, {"X-UPPER", "2"}, {"X-Dup", "a"}, {"x-dup", "b"}},
                  "body"};
  odd.headers.push_back({"Content-Length", "4"});
  auto out = serve(to_str(serialize(odd)));
  REQUIRE(out.messages.size() == 1);
  CHECK(out.messages[0] == odd);
  CHECK(*out.messages[0].header("X-LOWER") == "1");
  CHECK(*out.messages[0].header("x-dup") == "a");
  CHECK(out.messages[0].header("missing") == nullptr);
}

TEST_CASE("echo response round trip through the client codec") {
  HttpServerCodec server;
  HttpClientCodec client;
  HttpRequest req = seed_request();
  server.feed(client.request(req));
  auto ev = server.next();
  REQUIRE(ev);
  REQUIRE(ev->ok());
  CHECK(server.next() == std::nullopt);
  HttpResponse res = make_echo_response(ev->value(), 5'000'000'000, "megzawicol-echo/0.1");
  CHECK(res.status == 200);
  CHECK(*res.header("Date") == "Thu, 01 Jan 1970 00:00:05 GMT");
  CHECK(*res.header("Server") == "megzawicol-echo/0.1");
  CHECK(*res.header("Content-Type") == "application/json");
  CHECK(*res.header("Connection") == "keep-alive");
  CHECK(*res.header("Content-Length") == std::to_string(res.body.size()));

  Bytes wire = server.respond(res);
  CHECK(to_str(wire).rfind("HTTP/1.1 200 OK\r\nServer: megzawicol-echo/0.1\r\n", 0) == 0);
  CHECK_FALSE(server.should_close());
  client.feed(wire);
  auto got = client.next();
  REQUIRE(got);
  REQUIRE(got->ok());
  CHECK(got->value() == res);
  CHECK_FALSE(client.should_close());

  auto j = nlohmann::json::parse(got->value().body);
  CHECK(j["method"] == "POST");
  CHECK(j["target"] == "/api/v1/messages");
  CHECK(j["path"] == "/api/v1/messages");
  CHECK(j["version"] == "HTTP/1.1");
  CHECK(j["message"] == "Hello, server!");
  CHECK(j["timestamp"] == 1700000000123456789);
  CHECK(j["body_length"] == req.body.size());
  CHECK(j["received_at_ns"] == 5'000'000'000);
  REQUIRE(j["headers"].size() == req.headers.size());
  for (size_t i = 0; i < req.headers.size(); ++i) {
    CHECK(j["headers"][i]["name"] == req.headers[i].name);
    CHECK(j["headers"][i]["value"] == req.headers[i].value);
  }
}

TEST_CASE("echo of a body that is not valid JSON is a 400 and a GET has a null message") {
  HttpRequest bad{"POST", "/api/v1/messages", 11, {{"Content-Type", "application/json"}}, "{\"message\": "};
  HttpResponse res = make_echo_response(bad, 0, "s");
  CHECK(res.status == 400);
  CHECK(res.reason == "Bad Request");
  auto j = nlohmann::json::parse(res.body);
  CHECK(j["error"] == "body is not valid JSON");
  CHECK(j["message"].is_null());

  HttpRequest get{"GET", "/api/v1/messages?since=3", 11, {{"Host", "h"}}, ""};
  HttpResponse ok = make_echo_response(get, 0, "s");
  CHECK(ok.status == 200);
  auto k = nlohmann::json::parse(ok.body);
  CHECK(k["path"] == "/api/v1/messages");
  CHECK(k["target"] == "/api/v1/messages?since=3");
  CHECK(k["message"].is_null());
  CHECK(k["body_length"] == 0);

  HttpResponse err = make_error_response(400, "Bad Request", "bad method", 0, "s");
  CHECK_FALSE(err.keep_alive());
  CHECK(nlohmann::json::parse(err.body)["error"] == "bad method");
}

TEST_CASE("a raw request as curl writes it is parsed") {
  const std::string raw =
      "POST /api/v1/messages HTTP/1.1\r\n"
      "Host: localhost:8080\r\n"
      "User-Agent: curl/7.88.1\r\n"
      "Accept: */*\r\n"
      "content-type: application/json\r\n"
      "Cookie: session=abc\r\n"
      "Authorization: Bearer xyz\r\n"
      "Content-Length: 29\r\n"
      "\r\n"
      "{\"message\": \"Hello, server!\"}";
  for (const Chunker& c : {Chunker(whole), Chunker(bytewise), random_chunks(7, 13)}) {
    auto out = serve(raw, c);
    REQUIRE_FALSE(out.error);
    REQUIRE(out.messages.size() == 1);
    const HttpRequest& r = out.messages[0];
    CHECK(r.method == "POST");
    CHECK(r.target == "/api/v1/messages");
    CHECK(r.version == 11);
    CHECK(r.headers.size() == 7);
    CHECK(r.headers[3] == HttpHeader{"content-type", "application/json"});
    CHECK(*r.header("Content-Type") == "application/json");
    CHECK(*r.header("user-agent") == "curl/7.88.1");
    CHECK(r.body == "{\"message\": \"Hello, server!\"}");
    CHECK(r.keep_alive());
    auto echo = nlohmann::json::parse(make_echo_response(r, 0, "s").body);
    CHECK(echo["message"] == "Hello, server!");
    CHECK(echo["timestamp"].is_null());
  }
  // Whitespace around a value is not part of it.
  auto out = serve("GET / HTTP/1.1\r\nHost:   padded  \t\r\n\r\n");
  REQUIRE(out.messages.size() == 1);
  CHECK(*out.messages[0].header("Host") == "padded");
}

TEST_CASE("chunked request body is decoded") {
  for (const Chunker& c : {Chunker(whole), Chunker(bytewise), random_chunks(3, 5)}) {
    auto out = serve(kChunked + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n", c);
    REQUIRE_FALSE(out.error);
    REQUIRE(out.messages.size() == 2);
    CHECK(out.messages[0].body == "Hello, server!");
    CHECK(*out.messages[0].header("Transfer-Encoding") == "chunked");
    CHECK(out.messages[1].target == "/next");
  }
  // Sent again, the body goes with a Content-Length instead.
  auto out = serve(kChunked);
  REQUIRE(out.messages.size() == 1);
  std::string wire = to_str(serialize(out.messages[0]));
  CHECK(wire.find("Transfer-Encoding") == std::string::npos);
  CHECK(wire.find("\r\nContent-Length: 14\r\n") != std::string::npos);
  auto again = serve(wire);
  REQUIRE(again.messages.size() == 1);
  CHECK(again.messages[0].body == "Hello, server!");
  // Trailer fields after the last chunk are read past (not reported).
  auto trailer = serve("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Sum: 1\r\n\r\n"
                       "GET /after HTTP/1.1\r\n\r\n",
                       bytewise);
  REQUIRE_FALSE(trailer.error);
  REQUIRE(trailer.messages.size() == 2);
  CHECK(trailer.messages[0].body == "ok");
  CHECK(trailer.messages[1].target == "/after");
  // A chunked response too.
  auto res = receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  REQUIRE(res.messages.size() == 1);
  CHECK(res.messages[0].body == "abc");
}

TEST_CASE("whole and one byte at a time and random chunks give identical events") {
  std::string stream = to_str(serialize(seed_request())) + "\r\n" + kChunked +
                       "GET /status HTTP/1.1\r\nHost: a\r\n\r\n" +
                       to_str(serialize(seed_request(true, "second \"one\"\n"))) +
                       "POST /x HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc";
  auto reference = serve(stream);
  REQUIRE_FALSE(reference.error);
  REQUIRE(reference.messages.size() == 5);
  CHECK(reference.messages[0] == seed_request());
  CHECK(serve(stream, bytewise) == reference);
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CHECK(serve(stream, random_chunks(seed, 1 + seed * 7)) == reference);
  }

  // Same for responses on the client side.
  std::string responses;
  for (const auto& r : reference.messages) responses += to_str(serialize(make_echo_response(r, 42, "s")));
  auto ref_res = receive(responses);
  REQUIRE_FALSE(ref_res.error);
  REQUIRE(ref_res.messages.size() == 5);
  CHECK(receive(responses, bytewise) == ref_res);
  for (uint64_t seed = 1; seed <= 10; ++seed) CHECK(receive(responses, random_chunks(seed, 50)) == ref_res);

  // And for malformed input: the same error whatever the chunking.
  std::string bad = to_str(serialize(seed_request())) + "GET / HTTP/1.1\r\nBad Header\r\n\r\n";
  auto bad_ref = serve(bad);
  REQUIRE(bad_ref.error);
  CHECK(bad_ref.messages.size() == 1);
  CHECK(serve(bad, bytewise) == bad_ref);
  CHECK(serve(bad, random_chunks(5, 9)) == bad_ref);
}

/// Every way of cutting `data` that matters for a short tail: whole, one byte at a time,
/// in two pieces at every offset, in three pieces around every pair of offsets among the
/// last 12 bytes, and in random pieces of 1 to 6 bytes.
std::vector<Chunker> tail_chunkings(const std::string& data) {
  std::vector<Chunker> out{Chunker(whole), Chunker(bytewise)};
  for (size_t i = 1; i < data.size(); ++i) {
    out.emplace_back([i](const std::string& s) { return std::vector<std::string>{s.substr(0, i), s.substr(i)}; });
  }
  size_t from = data.size() > 12 ? data.size() - 12 : 1;
  for (size_t i = from; i < data.size(); ++i) {
    for (size_t j = i + 1; j < data.size(); ++j) {
      out.emplace_back([i, j](const std::string& s) {
        return std::vector<std::string>{s.substr(0, i), s.substr(i, j - i), s.substr(j)};
      });
    }
  }
  for (uint64_t seed = 1; seed <= 30; ++seed) out.push_back(random_chunks(seed, 2 + seed % 5));
  return out;
}

const std::string kEmptyChunkedHead = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
const std::string kEmptyChunkedResponseHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST_CASE("a chunked body that is only the last chunk gives the same events however it is cut") {
  // The body starts with its last chunk ("0" CRLF): its tail is shorter than any other
  // chunked tail, and arrives here whole, split anywhere and in small pieces.
  struct Case {
    std::string body;               // after the header
    size_t messages;                // requests expected
    std::optional<std::string> error;
  };
  const std::vector<Case> cases = {
      {"0\r\n\r\n", 1, std::nullopt},
      {"0\r\n", 0, std::nullopt},      // the end of the trailer has not come yet
      {"0\r\n\r", 0, std::nullopt},
      {"00\r\n", 0, std::nullopt},
      {"00\r\n\r\n", 1, std::nullopt},
      {"000\r\n\r\n", 1, std::nullopt},
      {"0;x=1\r\n\r\n", 1, std::nullopt},
      {"0\r\nX-Sum: 1\r\n\r\n", 1, std::nullopt},
      {"0\r\n\r\nGET /after HTTP/1.1\r\n\r\n", 2, std::nullopt},
      {"0\r\n\r\n\r\nGET /after HTTP/1.1\r\n\r\n", 2, std::nullopt},
      {"0\r\n\r\n0\r\n", 1, std::string("bad method")},
      {"0x\r\n\r\n", 0, std::string("bad chunk extension")},
      {"0\r\nno colon\r\n\r\n", 0, std::string("bad field")},
      {"0\rX\r\n\r\n", 0, std::string("bad line ending")},
      {"zz\r\n", 0, std::string("bad chunk")},
      {"\r\n\r\n", 0, std::string("bad chunk")},
  };
  for (const auto& c : cases) {
    std::string data = kEmptyChunkedHead + c.body;
    CAPTURE(c.body);
    auto ref = serve(data);
    CHECK(ref.messages.size() == c.messages);
    CHECK(ref.error == c.error);
    if (!ref.messages.empty()) {
      CHECK(ref.messages[0].body.empty());
      CHECK(*ref.messages[0].header("Transfer-Encoding") == "chunked");
    }
    if (c.messages == 2) CHECK(ref.messages[1].target == "/after");
    size_t k = 0;
    for (const Chunker& chunker : tail_chunkings(data)) {
      CAPTURE(k++);
      CHECK(serve(data, chunker) == ref);
    }
  }
}

TEST_CASE("a short last chunk is held until the trailer ends and memory stays bounded") {
  HttpServerCodec server;
  server.feed(to_bytes(kEmptyChunkedHead + "0\r\n"));
  CHECK_FALSE(server.next());
  CHECK(server.buffered() == 3);
  for (char c : std::string("\r\n")) {
    server.feed(to_bytes(std::string(1, c)));
    if (c == '\r') {
      CHECK_FALSE(server.next());
      CHECK(server.buffered() == 4);
    }
  }
  auto ev = server.next();
  REQUIRE(ev);
  REQUIRE(ev->ok());
  CHECK(ev->value().body.empty());
  CHECK(server.buffered() == 0);
  CHECK_FALSE(server.next());

  // A trailer that never ends is bounded like a header.
  size_t max_buffered = 0;
  auto out = serve(kEmptyChunkedHead + "0\r\nX-Long: " + std::string(20000, 'v'), random_chunks(9, 5), {},
                   &max_buffered);
  REQUIRE(out.error);
  CHECK(max_buffered <= 8192);
}

TEST_CASE("a chunked response that is only the last chunk on the client side") {
  for (bool eof : {false, true}) {
    CAPTURE(eof);
    for (const std::string& tail : {std::string("0\r\n\r\n"), std::string("0\r\n"), std::string("0\r\n\r"),
                                    std::string("0;a\r\nX: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")}) {
      CAPTURE(tail);
      std::string data = kEmptyChunkedResponseHead + tail;
      auto ref = receive(data, whole, eof);
      bool complete = tail.size() >= 5;
      CHECK(ref.messages.size() == (complete ? (tail.size() > 20 ? 2u : 1u) : 0u));
      if (complete) {
        CHECK_FALSE(ref.error);
        CHECK(ref.messages[0].body.empty());
      } else {
        CHECK(ref.error == (eof ? std::optional<std::string>("partial message") : std::nullopt));
      }
      for (const Chunker& chunker : tail_chunkings(data)) CHECK(receive(data, chunker, eof) == ref);
    }
  }
}

TEST_CASE("pipelined requests in one chunk come out in order and are answered in order") {
  std::string stream;
  for (int i = 0; i < 5; ++i) {
    stream += to_str(serialize(seed_request(true, "message " + std::to_string(i))));
    if (i == 2) stream += "\r\n";  // a stray CRLF between requests is ignored (RFC 9112 2.2)
  }
  HttpServerCodec server;
  server.feed(to_bytes(stream));
  std::vector<HttpRequest> got;
  while (auto ev = server.next()) {
    REQUIRE(ev->ok());
    got.push_back(ev->value());
  }
  REQUIRE(got.size() == 5);
  CHECK(server.pending() == 5);
  CHECK(server.buffered() == 0);
  HttpClientCodec client;
  for (int i = 0; i < 5; ++i) {
    CHECK(nlohmann::json::parse(got[i].body)["message"] == "message " + std::to_string(i));
    client.feed(server.respond(make_echo_response(got[i], i, "s")));
  }
  CHECK(server.pending() == 0);
  CHECK_FALSE(server.should_close());
  for (int i = 0; i < 5; ++i) {
    auto ev = client.next();
    REQUIRE(ev);
    REQUIRE(ev->ok());
    CHECK(nlohmann::json::parse(ev->value().body)["message"] == "message " + std::to_string(i));
  }
  CHECK(client.next() == std::nullopt);
}

TEST_CASE("keep-alive versus Connection close") {
  auto keep = [](const std::string& head) {
    auto out = serve(head + "\r\n");
    REQUIRE(out.messages.size() == 1);
    return out.messages[0].keep_alive();
  };
  CHECK(keep("GET / HTTP/1.1\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.1\r\nConnection: close\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.0\r\n"));
  CHECK(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n"));
  CHECK(keep("GET / HTTP/1.1\r\nConnection: keep-alive\r\n"));

  // A closing request: later bytes are ignored, the reply says close, then should_close.
  HttpServerCodec server;
  server.feed(serialize(seed_request(false)));
  server.feed(serialize(seed_request(true)));
  auto ev = server.next();
  REQUIRE(ev);
  REQUIRE(ev->ok());
  CHECK(server.next() == std::nullopt);
  CHECK(server.buffered() == 0);
  CHECK_FALSE(server.should_close());  // the response is not out yet
  HttpResponse res{200, "OK", 11, {{"Connection", "keep-alive"}, {"Content-Length", "0"}}, ""};
  std::string wire = to_str(server.respond(res));
  CHECK(wire.find("Connection: close\r\n") != std::string::npos);
  CHECK(wire.find("keep-alive") == std::string::npos);
  CHECK(server.should_close());

  // A keep-alive request answered with "Connection: close" also ends the connection.
  HttpServerCodec s2;
  s2.feed(serialize(seed_request(true)));
  REQUIRE(s2.next());
  HttpResponse closing{200, "OK", 11, {{"Connection", "close"}}, "x"};
  HttpClientCodec client;
  client.feed(s2.respond(closing));
  CHECK(s2.should_close());
  client.feed(to_bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));  // after close: ignored
  auto got = client.next();
  REQUIRE(got);
  REQUIRE(got->ok());
  CHECK(got->value().body == "x");
  CHECK(client.should_close());
  CHECK(client.next() == std::nullopt);

  // The echo follows the request.
  CHECK(*make_echo_response(seed_request(false), 0, "s").header("Connection") == "close");
  HttpRequest old{"GET", "/", 10, {}, ""};
  HttpResponse old_res = make_echo_response(old, 0, "s");
  CHECK(old_res.version == 10);
  CHECK_FALSE(old_res.keep_alive());
}

TEST_CASE("header limit exceeded is an error and sticky with bounded memory") {
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n";
  for (const Chunker& c : {Chunker(whole), Chunker(bytewise), random_chunks(11, 100)}) {
    size_t max_buffered = 0;
    auto out = serve(big, c, {}, &max_buffered);
    REQUIRE(out.error);
    CHECK(*out.error == "header too large (limit 8192 bytes)");
    CHECK(out.messages.empty());
    CHECK(max_buffered <= 8192);  // measured after each drain
  }
  // A start line that never ends.
  size_t max_buffered = 0;
  auto out = serve("GET /" + std::string(20000, 'x'), random_chunks(2, 64), {}, &max_buffered);
  REQUIRE(out.error);
  CHECK(*out.error == "header too large (limit 8192 bytes)");
  CHECK(max_buffered <= 8192);

  // Sticky: the same error again, new input dropped, even a valid request.
  HttpServerCodec server({.max_header_bytes = 64, .max_body_bytes = 1024});
  server.feed(to_bytes("GET / HTTP/1.1\r\nX: " + std::string(100, 'b') + "\r\n\r\n"));
  auto ev = server.next();
  REQUIRE(ev);
  REQUIRE_FALSE(ev->ok());
  CHECK(ev->error().message == "header too large (limit 64 bytes)");
  CHECK(server.should_close());
  server.feed(to_bytes("GET / HTTP/1.1\r\n\r\n"));
  CHECK(server.buffered() == 0);
  auto again = server.next();
  REQUIRE(again);
  REQUIRE_FALSE(again->ok());
  CHECK(again->error().message == "header too large (limit 64 bytes)");
  // The 400 still goes out, with Connection: close.
  std::string wire = to_str(server.respond(make_error_response(400, "Bad Request", again->error().message, 0, "s")));
  CHECK(wire.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(wire.find("Connection: close") != std::string::npos);
}

TEST_CASE("body limit exceeded is an error") {
  auto out = serve("POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n");
  REQUIRE(out.error);
  CHECK(*out.error == "body too large (limit 1048576 bytes)");

  HttpLimits small{.max_header_bytes = 8192, .max_body_bytes = 10};
  auto fits = serve("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", whole, small);
  REQUIRE_FALSE(fits.error);
  CHECK(fits.messages[0].body == "0123456789");
  for (const Chunker& c : {Chunker(whole), Chunker(bytewise)}) {
    auto chunked = serve("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n",
                         c, small);
    REQUIRE(chunked.error);
    CHECK(*chunked.error == "body too large (limit 10 bytes)");
  }
  // A Content-Length over the limit is refused at the end of the header whether or not
  // body bytes come in the same piece (with them, Beast alone would go on into the body).
  for (bool client : {false, true}) {
    CAPTURE(client);
    std::string head = client ? "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n"
                              : "POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\n";
    for (const std::string& body : {std::string(), std::string("0123"), std::string(20, 'b')}) {
      CAPTURE(body.size());
      std::string data = head + body;
      for (const Chunker& c : {Chunker(whole), Chunker(bytewise), random_chunks(8, 30)}) {
        std::optional<std::string> error;
        if (client) {
          HttpClientCodec codec(small);
          Outcome<HttpResponse> res;
          for (const auto& piece : c(data)) {
            codec.feed(to_bytes(piece));
            drain(codec, res);
          }
          CHECK(res.messages.empty());
          error = res.error;
        } else {
          auto req = serve(data, c, small);
          CHECK(req.messages.empty());
          error = req.error;
        }
        CHECK(error == std::optional<std::string>("body too large (limit 10 bytes)"));
      }
    }
  }
  // A chunk extension that never ends is bounded like a header.
  size_t max_buffered = 0;
  auto ext = serve("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;" + std::string(20000, 'e'),
                   random_chunks(4, 200), {}, &max_buffered);
  REQUIRE(ext.error);
  CHECK(max_buffered <= 8192);
}

TEST_CASE("malformed start lines and headers give Beast's message") {
  auto err = [](const std::string& raw) {
    auto out = serve(raw);
    REQUIRE(out.error);
    CHECK(out.messages.empty());
    CHECK(serve(raw, bytewise) == out);
    return *out.error;
  };
  CHECK(err("G@T / HTTP/1.1\r\n\r\n") == "bad method");
  CHECK(err("GET / HTTP/2.0\r\n\r\n") == "bad version");
  CHECK(err("GET / HTTX/1.1\r\n\r\n") == "bad version");
  CHECK(err("GET /\x01 HTTP/1.1\r\n\r\n") == "bad target");
  CHECK(err("GET / HTTP/1.1\r\nNo-Colon\r\n\r\n") == "bad field");
  CHECK(err("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n") == "bad Content-Length");
  CHECK(err("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx") == "bad Content-Length");
  CHECK(err("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == "bad chunk");
  CHECK(err("HTTP/1.1 200 OK\r\n\r\n") == "bad method");
  CHECK_FALSE(err("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03").empty());  // a TLS ClientHello

  auto res = receive("HTTP/1.1 2x0 OK\r\n\r\n");
  REQUIRE(res.error);
  CHECK(*res.error == "bad status");
}

TEST_CASE("garbage and mutated messages give an error or events and never a crash") {
  Rng rng(0x5eed);
  std::string valid = to_str(serialize(seed_request())) + kChunked + "GET / HTTP/1.0\r\n\r\n";
  std::string valid_res = to_str(serialize(make_echo_response(seed_request(), 0, "s"))) +
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  auto mutate = [&](std::string data) {
    int flips = static_cast<int>(rng.uniform_int(1, 4));
    for (int f = 0; f < flips; ++f) {
      size_t pos = static_cast<size_t>(rng.uniform_int(0, data.size() - 1));
      data[pos] = static_cast<char>(data[pos] ^ (1 << rng.uniform_int(0, 7)));
    }
    return data;
  };
  for (int iter = 0; iter < 600; ++iter) {
    std::string data;
    if (iter % 3 == 0) {
      data.resize(static_cast<size_t>(rng.uniform_int(1, 600)));
      rng.fill(reinterpret_cast<uint8_t*>(data.data()), data.size());
    } else {
      data = mutate(iter % 3 == 1 ? valid : valid_res);
    }
    CAPTURE(iter);
    // h11's fuzz invariant: either events or an error, and the same whatever the chunking.
    auto a = serve(data);
    CHECK(serve(data, bytewise) == a);
    CHECK(serve(data, random_chunks(static_cast<uint64_t>(iter), 32)) == a);
    auto c = receive(data, whole, /*eof=*/true);
    CHECK(receive(data, bytewise, true) == c);
    CHECK(receive(data, random_chunks(static_cast<uint64_t>(iter), 32), true) == c);
  }
}

TEST_CASE("client: body delimited by the close and a response cut short") {
  auto res = receive("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", bytewise, /*eof=*/true);
  REQUIRE_FALSE(res.error);
  REQUIRE(res.messages.size() == 1);
  CHECK(res.messages[0].body == "until the end");

  auto cut = receive("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", whole, true);
  REQUIRE(cut.error);
  CHECK(*cut.error == "partial message");

  auto clean = receive("HTTP/1.1 204 No Content\r\n\r\n", whole, true);
  REQUIRE_FALSE(clean.error);
  CHECK(clean.messages.size() == 1);
  CHECK(clean.messages[0].reason == "No Content");
}

TEST_CASE("serialize sets Content-Length and drops Transfer-Encoding and neutralizes CR LF in values") {
  HttpRequest r{"POST", "/p", 11, {{"Content-Length", "99"}, {"Transfer-Encoding", "chunked"}, {"X-A", "1"}}, "abc"};
  std::string wire = to_str(serialize(r));
  CHECK(wire == "POST /p HTTP/1.1\r\nX-A: 1\r\nContent-Length: 3\r\n\r\nabc");

  HttpRequest get{"GET", "/", 11, {{"Host", "h"}}, ""};
  CHECK(to_str(serialize(get)) == "GET / HTTP/1.1\r\nHost: h\r\n\r\n");

  HttpRequest inject{"GET", "/", 11, {{"X-Evil", "a\r\nInjected: yes"}}, ""};
  auto out = serve(to_str(serialize(inject)));
  REQUIRE(out.messages.size() == 1);
  CHECK(out.messages[0].headers.size() == 1);
  CHECK(out.messages[0].header("Injected") == nullptr);

  HttpResponse res{404, "", 11, {}, "nope"};
  CHECK(to_str(serialize(res)) == "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
}

TEST_CASE("messages with quotes and backslashes and newlines and UTF-8 survive the JSON round trip") {
  const std::vector<std::string> messages = {
      "say \"hi\"",
      "C:\\path\\to\\file",
      "line one\nline two\r\n\ttabbed",
      std::string("nul\0inside", 10),
      "\x01\x1f control",
      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",       // café 日本語
      "emoji \xf0\x9f\x98\x80 \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",  // 😀 👍🏽
      "</script><script>alert(1)</script>",
      "{\"message\": \"nested\"}",
      "",
  };
  for (const auto& m : messages) {
    CAPTURE(m);
    HttpRequest req = seed_request(true, m);
    auto body = nlohmann::json::parse(req.body);
    CHECK(body["message"] == m);
    auto out = serve(to_str(serialize(req)), random_chunks(m.size(), 9));
    REQUIRE(out.messages.size() == 1);
    CHECK(out.messages[0] == req);
    HttpResponse echo = make_echo_response(out.messages[0], 0, "s");
    auto back = receive(to_str(serialize(echo)));
    REQUIRE(back.messages.size() == 1);
    CHECK(nlohmann::json::parse(back.messages[0].body)["message"] == m);
  }
  // Invalid UTF-8 cannot be JSON: it becomes U+FFFD rather than an exception.
  HttpRequest bad = seed_request(true, "bad \xff byte");
  CHECK(nlohmann::json::parse(bad.body)["message"] == "bad \xef\xbf\xbd byte");
  CHECK(make_message_json("\"", 1) == R"({"message":"\"","timestamp":1})");
}

TEST_CASE("http_date formats IMF-fixdate from nanoseconds since the epoch") {
  CHECK(http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(http_date(784111777LL * 1000000000 + 999) == "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110 example
  CHECK(http_date(-1) == "Wed, 31 Dec 1969 23:59:59 GMT");
  CHECK(http_date(951782400LL * 1000000000) == "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST_CASE("Python http.client parses our request and response") {
  if (std::system("python3 -c pass >/dev/null 2>&1") != 0) {
    MESSAGE("python3 not found: interop test skipped");
    return;
  }
  const std::string dir = MZ_BINARY_DIR;
  const std::string script = dir + "/test_http_interop.py";
  {
    std::ofstream f(script);
    f << R"PY(import sys, io, json, http.client
data = open(sys.argv[2], 'rb').read()
if sys.argv[1] == 'request':
    f = io.BytesIO(data)
    method, target, version = f.readline().decode('latin-1').rstrip('\r\n').split(' ')
    msg = http.client.parse_headers(f)
    body = f.read(int(msg['Content-Length']))
    out = {'method': method, 'target': target, 'version': version}
else:
    class Sock:
        def makefile(self, *a, **k):
            return io.BytesIO(data)
    r = http.client.HTTPResponse(Sock())
    r.begin()
    msg, body = r.msg, r.read()
    out = {'status': r.status, 'reason': r.reason, 'version': r.version}
out['headers'] = [[k, v] for k, v in msg.items()]
out['body'] = body.decode('utf-8')
print(json.dumps(out))
)PY";
  }
  auto run = [&](const std::string& kind, const Bytes& wire) {
    const std::string path = dir + "/test_http_interop_" + kind + ".bin";
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(wire.data()),
                                                 static_cast<std::streamsize>(wire.size()));
    std::string cmd = "python3 " + script + " " + kind + " " + path;
    std::string text;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    CHECK(pclose(p) == 0);
    return nlohmann::json::parse(text);
  };

  HttpRequest req = seed_request(true, "h\xc3\xa9llo \"py\"");
  auto j = run("request", serialize(req));
  CHECK(j["method"] == "POST");
  CHECK(j["target"] == "/api/v1/messages");
  CHECK(j["version"] == "HTTP/1.1");
  REQUIRE(j["headers"].size() == req.headers.size());
  for (size_t i = 0; i < req.headers.size(); ++i) {
    CHECK(j["headers"][i][0] == req.headers[i].name);
    CHECK(j["headers"][i][1] == req.headers[i].value);
  }
  CHECK(j["body"] == req.body);

  HttpResponse res = make_echo_response(req, 1'000'000'000, "megzawicol-echo/0.1");
  auto k = run("response", serialize(res));
  CHECK(k["status"] == 200);
  CHECK(k["reason"] == "OK");
  CHECK(k["version"] == 11);
  CHECK(k["headers"].size() == res.headers.size());
  CHECK(k["body"] == res.body);
  CHECK(nlohmann::json::parse(k["body"].get<std::string>())["message"] == "h\xc3\xa9llo \"py\"");
}
