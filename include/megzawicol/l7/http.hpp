// L7: HTTP/1.1 messages and a sans-I/O codec for each side of a connection (RFC 9110, RFC 9112).
//
// Theory of operation
// -------------------
// The codecs are h11-style state machines: bytes in, events out; messages in, bytes out.
// They never touch a socket or a clock; whatever carries the bytes (the simulated TCP of a
// host, or a real socket in socket mode) calls them.
//
//   server:  feed(bytes from the client) ... next() -> HttpRequest | Error | nullopt
//            respond(HttpResponse) -> bytes for the client;  should_close()
//   client:  request(HttpRequest) -> bytes for the server
//            feed(bytes from the server) [feed_eof()] ... next() -> HttpResponse | Error | nullopt
//
// Call order: after each feed(), call next() until it returns nullopt (it needs more bytes)
// or an Error. Events come out in the order the messages arrived, whatever the chunking of
// the input: a message split over many feed() calls gives one event, several pipelined
// messages in one feed() give several events. The same bytes give the same events however
// they are cut (tested with whole, one-byte and random chunkings).
//
// Rules:
//   1. Parsing and serializing are done by Boost.Beast inside src/l7/http.cpp; this header
//      holds plain types only, so including it costs nothing.
//   2. A malformed message is an Error carrying Beast's message ("bad method", "bad chunk",
//      ...); an oversized header or body is "header too large (limit N bytes)" / "body too
//      large (limit N bytes)". After an Error the codec stays in error: next() returns the
//      same Error again and further input is dropped (h11 ERROR). A server then sends a 400
//      (make_error_response) and closes.
//   3. Memory is bounded: unparsed bytes are kept only while a header (or a chunk header)
//      is incomplete, up to HttpLimits::max_header_bytes, plus whatever the last feed()
//      brought that next() has not drained yet; a body is bounded by max_body_bytes.
//   4. Persistence (RFC 9112 9.3): HTTP/1.1 keeps the connection unless a "close" token is
//      in Connection; HTTP/1.0 closes unless "keep-alive" is. After a request that closes,
//      the server codec ignores any further bytes (RFC 9112 9.6: a server MUST NOT process
//      further requests on that connection), answers with "Connection: close" and reports
//      should_close() once the response is out.
//   5. Bodies are sent with Content-Length (Beast's prepare_payload); a Transfer-Encoding
//      given by the caller is replaced. Received chunked bodies are decoded, and the
//      Transfer-Encoding header stays in the event as received.
//   6. Header names keep their spelling and order in both directions; lookups are
//      case-insensitive. Values are trimmed of surrounding whitespace (RFC 9110 5.5).
//
// Not done: 1xx interim responses, responses to HEAD, 204/304 bodies, Upgrade/CONNECT,
// trailers as fields, sending chunked bodies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/result.hpp"

namespace mz::l7 {

struct HttpHeader {
  std::string name, value;
  bool operator==(const HttpHeader&) const = default;
};

struct HttpRequest {
  std::string method, target;
  int version = 11;  ///< 11 = HTTP/1.1, 10 = HTTP/1.0
  std::vector<HttpHeader> headers;
  std::string body;

  /// RFC 9112 9.3, from the Connection tokens and the version (rule 4 above).
  bool keep_alive() const;
  /// The value of the first header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
  bool operator==(const HttpRequest&) const = default;
};

struct HttpResponse {
  int status = 200;
  std::string reason;  ///< empty: the standard phrase for the status is sent
  int version = 11;
  std::vector<HttpHeader> headers;
  std::string body;

  bool keep_alive() const;
  const std::string* header(std::string_view name) const;
  bool operator==(const HttpResponse&) const = default;
};

struct HttpLimits {
  size_t max_header_bytes = 8192;   ///< start line + fields + the blank line
  size_t max_body_bytes = 1 << 20;  ///< decoded body
};

/// The wire form of a message (Beast's serializer). Content-Length is set to the body size
/// unless the headers already carry the right one (then its position is kept).
/// Preconditions (asserted): names are non-empty tokens, names and values are shorter than
/// 64 KiB, the target has no SP/CR/LF, status is 100..999. CR, LF and NUL inside a value
/// are sent as SP so that a value can never inject a header (RFC 9110 5.5).
Bytes serialize(const HttpRequest& req);
Bytes serialize(const HttpResponse& res);

/// The seed's message request:
///   POST /api/v1/messages HTTP/1.1
///   Host, User-Agent, Content-Type: application/json, Cookie (if not empty),
///   Authorization: Bearer <token> (if not empty), Accept: application/json,
///   Connection: close (only when !keep_alive; HTTP/1.1 persists by default), Content-Length
///   {"message":"...","timestamp":<timestamp_ns>}
/// The message is JSON-escaped by nlohmann/json; invalid UTF-8 becomes U+FFFD.
HttpRequest make_message_request(const std::string& host, const std::string& message,
                                 int64_t timestamp_ns, const std::string& cookie,
                                 const std::string& bearer_token, bool keep_alive);

/// The JSON body of make_message_request.
std::string make_message_json(const std::string& message, int64_t timestamp_ns);

/// The echo reply for `req`: 200 OK (400 Bad Request when a JSON body does not parse), same
/// version as the request, headers Server, Date (from now_ns, see http_date),
/// Content-Type: application/json, Connection: keep-alive|close (as the request asked),
/// Content-Length; the body is a JSON object
///   {"method","target","path","version","headers":[{"name","value"}...],
///    "message" (the request's "message" string, or null),"timestamp" (or null),
///    "body_length","received_at_ns"[,"error"]}
HttpResponse make_echo_response(const HttpRequest& req, int64_t now_ns,
                                const std::string& server_name);
/// The same; an application/octet-stream body is moved into the reply instead of copied.
HttpResponse make_echo_response(HttpRequest&& req, int64_t now_ns, const std::string& server_name);

/// The path of the one-way upload: a POST of an application/octet-stream body that the
/// server consumes (it is not echoed) and acknowledges with make_upload_response.
inline constexpr const char* kUploadPath = "/api/v1/upload";

/// The reply to an upload: 200 OK, the request's version and persistence, headers as in
/// make_echo_response, body {"bytes":<body length>,"crc32":"<8 lowercase hex digits>"}
/// (the CRC-32 of IEEE 802.3 over the body, computed by the caller).
HttpResponse make_upload_response(const HttpRequest& req, uint32_t body_crc32, int64_t now_ns,
                                  const std::string& server_name);

/// A small JSON error reply ({"error": detail}) with Connection: close, e.g. the 400 a
/// server sends after the codec reported an Error.
HttpResponse make_error_response(int status, const std::string& reason, const std::string& detail,
                                 int64_t now_ns, const std::string& server_name);

/// IMF-fixdate (RFC 9110 5.6.7) of a time given as nanoseconds since the Unix epoch:
/// 0 -> "Thu, 01 Jan 1970 00:00:00 GMT". The simulator passes its virtual time, so a run
/// starting at 0 is dated 1970: deterministic, and never the host's clock.
std::string http_date(int64_t unix_ns);

/// Server side of one connection.
class HttpServerCodec {
 public:
  explicit HttpServerCodec(HttpLimits limits = {});
  ~HttpServerCodec();
  HttpServerCodec(HttpServerCodec&&) noexcept;
  HttpServerCodec& operator=(HttpServerCodec&&) noexcept;

  /// Bytes from the client, in any chunking. Dropped after an Error or a closing request.
  void feed(ByteView bytes);
  /// The next complete request; nullopt: more bytes are needed (or the connection is done);
  /// Error: malformed or too large, sticky.
  std::optional<Result<HttpRequest>> next();
  /// The bytes of the response to the oldest request not yet answered. When that request
  /// did not keep the connection alive, the response gets "Connection: close".
  Bytes respond(const HttpResponse& res);
  /// True once a response has gone out that ends the connection (its request or itself
  /// says close), or after an Error.
  bool should_close() const;
  /// Requests returned by next() and not answered yet.
  size_t pending() const;
  /// Bytes held, not yet parsed.
  size_t buffered() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Client side of one connection.
class HttpClientCodec {
 public:
  explicit HttpClientCodec(HttpLimits limits = {});
  ~HttpClientCodec();
  HttpClientCodec(HttpClientCodec&&) noexcept;
  HttpClientCodec& operator=(HttpClientCodec&&) noexcept;

  /// The bytes of `req` for the server.
  Bytes request(const HttpRequest& req);
  /// Bytes from the server, in any chunking. Dropped after an Error.
  void feed(ByteView bytes);
  /// The server closed its side: ends a body delimited by the close (RFC 9112 6.3 rule 8);
  /// a message cut short becomes Error "partial message".
  void feed_eof();
  std::optional<Result<HttpResponse>> next();
  /// True once a response said the connection ends (or after an Error).
  bool should_close() const;
  size_t buffered() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mz::l7
