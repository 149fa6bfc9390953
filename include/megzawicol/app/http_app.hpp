// The seed's whole story: an HTTP POST that goes down all seven layers and back.
//
//   L7 HTTP/1.1 (l7/http)  ->  L6 TLS 1.3 records (l6/tls_connection)  ->
//   L5 session frames (l5/session)  ->  L4 TCP (the host)  -> L3 ... L1
//
// The client opens a TCP connection to the server, opens (or resumes) a session, runs the
// TLS 1.3 handshake (pinning the server's Ed25519 key), sends `requests` POSTs of
// `message` to /api/v1/messages, prints each response, then closes; with `connections` >
// 1 it reconnects and resumes the same session. With keep_alive false every request
// carries "Connection: close" and gets a connection of its own: requests x connections
// connections of one request each, one after another, on the one session. Either way the
// client expects requests x connections responses. The server answers every request with
// a JSON echo. Every layer boundary is traced, so the trace reads top-down like a lecture.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "megzawicol/l5/session.hpp"
#include "megzawicol/l6/tls_connection.hpp"
#include "megzawicol/l7/http.hpp"
#include "megzawicol/stack/host.hpp"

namespace mz::app {

/// Receives NSS key log lines (SSLKEYLOGFILE format) when the user asks for them.
using KeylogSink = std::function<void(const std::string& lines)>;
/// Makes the random source of one TLS connection; empty: seeded from the app's rng_seed.
using TlsRandomFactory = std::function<std::unique_ptr<l6::RandomSource>()>;

struct HttpClientConfig {
  std::string name = "http";
  Ipv4Addr target;
  std::string host_header = "server";
  uint16_t port = 65432;
  std::string message = "Hello, server!";
  // false: the seed's JSON {"message", "timestamp"} body; true: `message` itself as an
  // application/octet-stream body (any bytes, e.g. a binary file), which the server echoes
  // back verbatim.
  bool raw_body = false;
  uint32_t requests = 1;      // per connection (keep_alive false: connections of one request each)
  uint32_t connections = 1;   // > 1: reconnect and resume the session
  bool keep_alive = true;     // requests after the first reuse the connection; false: one
                              // request per connection, each with "Connection: close"
  Time start = Time::zero();
  Duration timeout = Duration::seconds(30);  // per connection: give up after this
  std::array<uint8_t, 32> pinned_server_key{};
  uint64_t rng_seed = 0;
  l4::TcpConfig tcp;
  KeylogSink keylog;
  // Socket mode: TLS randoms and keys from `tls_random` (the driver passes the OS RNG,
  // l6::SystemRandom) instead of a stream seeded from rng_seed; larger HTTP limits; a test
  // aid that flips one bit of the first TLS record sent after the handshake (the server
  // must reject it).
  TlsRandomFactory tls_random;
  l7::HttpLimits http_limits;
  bool tamper_after_handshake = false;
  // With raw_body: POST the bytes to l7::kUploadPath, where the server consumes them and
  // answers with their count and CRC-32 instead of echoing them (a one-way transfer).
  bool upload = false;
  // Test aid: one bit of the first request's body is flipped on its way into HTTP, so what
  // the server receives differs from `message` (an upload's digest check must catch it).
  bool corrupt_body = false;
  // When set, each response is handed to this callback as it arrives and is not kept in
  // received(): a long exchange of large bodies then holds one response at a time.
  std::function<void(const l7::HttpResponse&)> on_response;
};

struct HttpServerConfig {
  std::string name = "http";
  uint16_t port = 65432;
  std::string server_name = "megzawicol";
  std::array<uint8_t, 32> server_key{};  // Ed25519 private seed
  uint64_t rng_seed = 0;
  l4::TcpConfig tcp;
  l5::SessionTableConfig sessions;
  KeylogSink keylog;
  TlsRandomFactory tls_random;  // as in HttpClientConfig
  l7::HttpLimits http_limits;
  /// Socket mode: one session table shared by many server apps (one per accepted socket),
  /// so a client that comes back on another connection resumes its session. Null: the app
  /// owns a table of its own (built from `sessions` and `rng_seed`).
  std::shared_ptr<l5::SessionServer> shared_sessions;
  bool announce_listen = true;  // print "[Server] Listening on ..." at start
  /// false: requests() stays empty (a long-lived server would otherwise keep every body).
  bool keep_requests = true;
};

class HttpClientApp : public stack::App, public stack::TcpHandler {
 public:
  explicit HttpClientApp(HttpClientConfig cfg);
  ~HttpClientApp() override;
  const std::string& name() const override { return cfg_.name; }
  const char* kind() const override { return "http"; }
  void start(stack::Host& host, Time now) override;
  std::optional<Time> poll_timeout() const override;
  void handle_timeout(stack::Host& host, Time now) override;
  void on_tcp(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev) override;
  std::vector<trace::Field> summary() const override;

  uint32_t responses() const { return responses_; }
  const std::vector<l7::HttpResponse>& received() const { return received_; }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  bool finished() const { return done_; }
  std::optional<l5::Uuid> session_id() const { return session_id_; }

 private:
  struct Conn;
  void connect(stack::Host& host, Time now);
  void pump(stack::Host& host, Time now);  // run every layer until nothing moves
  void send_request(stack::Host& host, Time now);
  void end_connection(stack::Host& host, Time now, const std::string& error);
  void finish(stack::Host& host, Time now);
  /// Requests on each connection, and connections in all (keep_alive false: one request
  /// per connection, so requests x connections connections).
  uint32_t requests_per_connection() const { return cfg_.keep_alive ? cfg_.requests : 1; }
  uint32_t total_connections() const { return cfg_.keep_alive ? cfg_.connections : cfg_.connections * cfg_.requests; }

  HttpClientConfig cfg_;
  Rng rng_;
  std::unique_ptr<Conn> conn_;
  std::optional<Time> next_connect_;
  std::optional<Time> deadline_;
  uint32_t connections_done_ = 0;
  uint32_t sent_ = 0;         // requests sent on the current connection
  uint32_t sent_total_ = 0;   // over all connections
  uint32_t responses_ = 0;    // over all connections
  std::vector<l7::HttpResponse> received_;
  std::optional<l5::Uuid> session_id_;
  std::vector<std::string> session_states_;
  Duration handshake_time_{};
  bool tampered_ = false;
  std::string error_;
  bool done_ = false;
};

class HttpServerApp : public stack::App, public stack::TcpHandler {
 public:
  explicit HttpServerApp(HttpServerConfig cfg);
  ~HttpServerApp() override;
  const std::string& name() const override { return cfg_.name; }
  const char* kind() const override { return "http_server"; }
  void start(stack::Host& host, Time now) override;
  std::optional<Time> poll_timeout() const override;
  void handle_timeout(stack::Host& host, Time now) override;
  void on_tcp(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev) override;
  std::vector<trace::Field> summary() const override;

  /// Every request the server's application received, in order (empty unless keep_requests).
  const std::vector<l7::HttpRequest>& requests() const { return requests_; }
  uint64_t request_count() const { return request_count_; }
  const l5::SessionTable& sessions() const { return sessions_->table(); }

 private:
  struct Conn;
  void pump(stack::Host& host, Time now, stack::ConnId id, Conn& c);
  void drop(stack::Host& host, Time now, stack::ConnId id, const std::string& why);
  void trace_session_events(stack::Host& host, Time now);

  HttpServerConfig cfg_;
  std::shared_ptr<l5::SessionServer> sessions_;
  std::map<stack::ConnId, std::unique_ptr<Conn>> conns_;
  std::vector<l7::HttpRequest> requests_;
  uint64_t request_count_ = 0;
  uint64_t handshakes_ = 0, alerts_ = 0, refused_ = 0;
};

}  // namespace mz::app
