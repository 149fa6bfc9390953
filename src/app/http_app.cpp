#include "megzawicol/app/http_app.hpp"

#include <cstdio>

#include "megzawicol/wire/crc32.hpp"
#include "send_queue.hpp"
#include "upper_text.hpp"

namespace mz::app {

using trace::Layer;

namespace {

std::string clip(const std::string& s, size_t n = 120) { return s.size() <= n ? s : s.substr(0, n) + "..."; }

/// The head of a POST whose body is `body_size` raw bytes (application/octet-stream): to
/// /api/v1/messages, echoed back verbatim, or to the upload path, acknowledged with a
/// count and a CRC-32. The caller puts the body in.
l7::HttpRequest make_raw_request(const std::string& host, const std::string& target, size_t body_size,
                                 const std::string& cookie, const std::string& bearer_token, bool keep_alive) {
  l7::HttpRequest r;
  r.method = "POST";
  r.target = target;
  r.version = 11;
  r.headers.push_back({"Host", host});
  r.headers.push_back({"User-Agent", "megzawicol/0.1"});
  r.headers.push_back({"Content-Type", "application/octet-stream"});
  if (!cookie.empty()) r.headers.push_back({"Cookie", cookie});
  if (!bearer_token.empty()) r.headers.push_back({"Authorization", "Bearer " + bearer_token});
  r.headers.push_back({"Accept", "application/octet-stream"});
  if (!keep_alive) r.headers.push_back({"Connection", "close"});
  r.headers.push_back({"Content-Length", std::to_string(body_size)});
  return r;
}

// Writes as much of `out` as TCP takes; keeps the rest.
void flush_tcp(stack::Host& host, Time now, stack::ConnId id, SendQueue& out) {
  if (out.empty()) return;
  out.consume(host.tcp_send(now, id, out.parts()));
}

}  // namespace

// ====================================================================== client

struct HttpClientApp::Conn {
  stack::ConnId id = 0;
  l5::SessionClient session;
  std::unique_ptr<l6::RandomSource> tls_rng;
  std::unique_ptr<l6::TlsConnection> tls;
  l7::HttpClientCodec http;
  SendQueue tcp_out;
  Time opened_at;
  bool tls_reported = false;
  bool closing = false;
  bool session_closed = false;  // the session's CLOSE is written: close TCP once it is handed over

  Conn(Rng& session_rng, std::optional<l5::Uuid> resume, uint64_t tls_seed, const TlsRandomFactory& random,
       const l7::HttpLimits& limits)
      : session(session_rng, resume),
        tls_rng(random ? random() : std::make_unique<l6::SeededRandom>(tls_seed)),
        http(limits) {}
};

HttpClientApp::HttpClientApp(HttpClientConfig cfg) : cfg_(std::move(cfg)), rng_(cfg_.rng_seed) {}
HttpClientApp::~HttpClientApp() = default;

void HttpClientApp::start(stack::Host&, Time now) { next_connect_ = std::max(now, cfg_.start); }

std::optional<Time> HttpClientApp::poll_timeout() const {
  if (done_) return std::nullopt;
  if (next_connect_) return next_connect_;
  return deadline_;
}

void HttpClientApp::handle_timeout(stack::Host& host, Time now) {
  if (next_connect_ && *next_connect_ <= now) {
    next_connect_.reset();
    connect(host, now);
    return;
  }
  if (deadline_ && *deadline_ <= now) {
    deadline_.reset();
    end_connection(host, now, "no answer within " + format_duration(cfg_.timeout));
  }
}

void HttpClientApp::connect(stack::Host& host, Time now) {
  auto id = host.tcp_connect(now, cfg_.target, cfg_.port, this, cfg_.tcp);
  if (!id) {
    error_ = "connect: Network is unreachable";
    print("[Client] " + error_);
    finish(host, now);
    return;
  }
  conn_ = std::make_unique<Conn>(rng_, session_id_, rng_.next_u64(), cfg_.tls_random, cfg_.http_limits);
  conn_->id = *id;
  conn_->opened_at = now;
  sent_ = 0;
  deadline_ = now + cfg_.timeout;
  print("[Client] Connecting to " + cfg_.target.to_string() + ":" + std::to_string(cfg_.port) + "...");
}

void HttpClientApp::send_request(stack::Host& host, Time now) {
  Conn& c = *conn_;
  const bool last = sent_ + 1 >= requests_per_connection();
  const std::string cookie = "session=" + (session_id_ ? session_id_->to_string() : std::string("none"));
  l7::HttpRequest req =
      cfg_.raw_body ? make_raw_request(cfg_.host_header, cfg_.upload ? l7::kUploadPath : "/api/v1/messages",
                                       cfg_.message.size(), cookie, "megzawicol-demo-token", cfg_.keep_alive && !last)
                    : l7::make_message_request(cfg_.host_header, cfg_.message, now.ns, cookie,
                                               "megzawicol-demo-token", cfg_.keep_alive && !last);
  // A raw body (up to 16 MiB, sent again on every request) is lent to the request rather
  // than copied, and given back once serialized.
  if (cfg_.raw_body) req.body.swap(cfg_.message);
  const bool corrupt = cfg_.corrupt_body && sent_total_ == 0 && !req.body.empty();
  if (corrupt) req.body[req.body.size() / 2] ^= 0x01;
  ++sent_;
  ++sent_total_;
  const Bytes wire = c.http.request(req);
  if (corrupt) {
    req.body[req.body.size() / 2] ^= 0x01;
    host.trace(now, Layer::Application, "http_corrupted",
               "test aid: flipped one bit of the request body before serializing it");
  }
  host.trace(now, Layer::Application, "http_request",
             "HTTP request #" + std::to_string(sent_) + ": " + req.method + " " + req.target + " HTTP/1.1, " +
                 std::to_string(req.headers.size()) + " headers, " + std::to_string(req.body.size()) +
                 (cfg_.raw_body ? "-byte octet-stream body -> " : "-byte JSON body " + clip(req.body) + " -> ") +
                 std::to_string(wire.size()) + " bytes handed to the presentation layer",
             {{"method", req.method}, {"target", req.target}, {"bytes", uint64_t{wire.size()}}});
  if (cfg_.raw_body) req.body.swap(cfg_.message);
  if (cfg_.raw_body)
    print("[Client] Sending: " + std::to_string(cfg_.message.size()) + " bytes (application/octet-stream" +
          (cfg_.upload ? std::string(") to ") + l7::kUploadPath : std::string(")")));
  else
    print("[Client] Sending: " + clip(cfg_.message, 200) +
          (cfg_.message.size() > 200 ? " (" + std::to_string(cfg_.message.size()) + " bytes)" : std::string()));
  c.tls->write_app(wire);
}

void HttpClientApp::pump(stack::Host& host, Time now) {
  for (int round = 0; round < 64 && conn_; ++round) {
    Conn& c = *conn_;
    bool moved = false;
    // L4 -> L5
    uint8_t buf[16384];
    for (size_t n; (n = host.tcp_recv(now, c.id, MutByteView(buf, sizeof buf))) > 0;) {
      c.session.feed(now, ByteView(buf, n));
      moved = true;
    }
    // L5 events
    while (auto ev = c.session.poll_event()) {
      moved = true;
      if (auto* a = std::get_if<l5::Accepted>(&*ev)) {
        session_id_ = a->id;
        session_states_.push_back(session_state_name(a->state));
        host.trace(now, Layer::Session, "session_accepted",
                   "session " + a->id.to_string() + " accepted by the server (" + session_state_name(a->state) + ")",
                   {{"session", a->id.to_string()}, {"state", std::string(session_state_name(a->state))}});
        l6::TlsConfig tc;
        tc.is_server = false;
        tc.pinned_server_public = cfg_.pinned_server_key;
        tc.server_name = cfg_.host_header;
        c.tls = std::make_unique<l6::TlsConnection>(tc, *c.tls_rng);
        c.tls->start();
      } else if (auto* r = std::get_if<l5::Refused>(&*ev)) {
        host.trace(now, Layer::Session, "session_refused", "session refused by the server: " + r->reason);
        end_connection(host, now, "session refused: " + r->reason);
        return;
      } else if (auto* d = std::get_if<l5::Data>(&*ev)) {
        host.trace(now, Layer::Session, "session_data",
                   "session DATA frame: " + std::to_string(d->bytes.size()) + " bytes for the presentation layer");
        if (c.tls) c.tls->handle_transport(d->bytes);
      } else if (std::get_if<l5::Closed>(&*ev)) {
        host.trace(now, Layer::Session, "session_closed", "the server closed the session connection");
      } else if (auto* p = std::get_if<l5::ProtocolError>(&*ev)) {
        host.trace(now, Layer::Session, "session_error", "session protocol error: " + p->message);
        end_connection(host, now, "session protocol error: " + p->message);
        return;
      }
    }
    if (c.tls) {
      // L6 events
      while (auto ev = c.tls->poll_event()) {
        moved = true;
        host.trace(now, Layer::Presentation, "tls", tls_event_text(*ev));
        if (auto* h = std::get_if<l6::HandshakeDone>(&*ev)) {
          handshake_time_ = now - c.opened_at;
          print("[Client] TLS 1.3 handshake complete (" + h->cipher + ") in " + format_duration(handshake_time_));
          if (cfg_.keylog) cfg_.keylog(c.tls->keylog_lines());
          send_request(host, now);
        } else if (auto* a = std::get_if<l6::Alert>(&*ev); a && a->description != l6::AlertDescription::close_notify) {
          const std::string why = std::string("TLS ") + (a->sent ? "" : "peer ") + "alert " +
                                  l6::alert_name(a->description) + ": " + a->reason;
          // Our alert goes out first, then the connection ends.
          Bytes out = c.tls->take_transport();
          if (!out.empty() && c.session.is_open()) {
            Bytes f = c.session.send(now, out);
            c.tcp_out.append(std::move(f));
            flush_tcp(host, now, c.id, c.tcp_out);
          }
          end_connection(host, now, why);
          return;
        }
      }
      // L6 -> L7
      if (Bytes app = c.tls->take_app(); !app.empty()) {
        moved = true;
        host.trace(now, Layer::Presentation, "tls_decrypted",
                   "decrypted " + std::to_string(app.size()) + " bytes of application data for HTTP");
        c.http.feed(app);
        while (auto r = c.http.next()) {
          if (!r->ok()) {
            end_connection(host, now, "bad HTTP response: " + r->error().message);
            return;
          }
          l7::HttpResponse& res = r->value();
          ++responses_;
          deadline_ = now + cfg_.timeout;  // progress: the timer restarts
          host.trace(now, Layer::Application, "http_response",
                     "HTTP response " + std::to_string(res.status) + " " + res.reason + ", " +
                         std::to_string(res.body.size()) + "-byte body " + clip(res.body),
                     {{"status", int64_t{res.status}}, {"bytes", uint64_t{res.body.size()}}});
          print("[Client] Received response: " + std::to_string(res.status) + " " + res.reason + " " + clip(res.body, 200));
          if (cfg_.on_response)
            cfg_.on_response(res);
          else
            received_.push_back(std::move(res));
          if (sent_ < requests_per_connection()) {
            send_request(host, now);
          } else if (!c.closing) {
            c.closing = true;
            c.tls->close();
          }
        }
      }
      // L6 -> L5
      if (Bytes out = c.tls->take_transport(); !out.empty() && c.session.is_open()) {
        moved = true;
        if (cfg_.tamper_after_handshake && !tampered_ && c.tls->handshake_complete()) {
          tampered_ = true;
          out.back() ^= 0x01;  // the last byte of the last record's authentication tag
          host.trace(now, Layer::Presentation, "tls_tampered",
                     "test aid: flipped one bit of an encrypted TLS record before sending it");
        }
        Bytes f = c.session.send(now, out);
        host.trace(now, Layer::Session, "session_send",
                   "session " + (session_id_ ? session_id_->to_string() : std::string("?")) + ": " +
                       std::to_string(out.size()) + " bytes of TLS in DATA frame(s), " + std::to_string(f.size()) +
                       " bytes with the 33-byte header(s), timestamp " + format_time(now));
        c.tcp_out.append(std::move(f));
      }
    }
    if (c.closing && c.tls && c.tls->write_closed() && c.tcp_out.empty()) {
      const bool last = connections_done_ + 1 >= total_connections();
      Bytes f = c.session.close(now, last ? l5::CloseMode::kEnd : l5::CloseMode::kSuspend);
      host.trace(now, Layer::Session, "session_close",
                 std::string("closing the session connection (") + (last ? "ending the session" : "session kept for resumption") + ")");
      c.tcp_out.append(std::move(f));
      c.closing = false;
      c.tls.reset();  // nothing more to say at L6
      c.session_closed = true;
      moved = true;
    }
    if (conn_ && !conn_->tcp_out.empty()) {
      const size_t before = conn_->tcp_out.size();
      flush_tcp(host, now, conn_->id, conn_->tcp_out);
      moved |= conn_->tcp_out.size() != before;
    }
    if (conn_ && conn_->session_closed && conn_->tcp_out.empty()) {
      // Every response of this connection arrived, and TCP holds our last bytes: close,
      // and the exchange on this connection is complete. TCP finishes the close in the
      // background, as after close() on a socket. Waiting for the server's FIN instead
      // let a lost FIN turn a complete exchange into "no answer within ...".
      host.tcp_close(now, conn_->id);
      end_connection(host, now, "");
      return;
    }
    if (!moved) break;
  }
}

void HttpClientApp::on_tcp(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev) {
  if (!conn_ || conn_->id != id) return;
  if (std::holds_alternative<l4::tcp_event::Connected>(ev)) {
    print("[Client] Connected.");
    Bytes open = conn_->session.open(now);
    host.trace(now, Layer::Session, "session_open",
               std::string(session_id_ ? "resuming session " + session_id_->to_string() : std::string("opening a new session")) +
                   ": " + std::to_string(open.size()) + "-byte frame");
    conn_->tcp_out.append(std::move(open));
    flush_tcp(host, now, id, conn_->tcp_out);
  } else if (std::holds_alternative<l4::tcp_event::Readable>(ev) || std::holds_alternative<l4::tcp_event::Writable>(ev)) {
    pump(host, now);
  } else if (std::holds_alternative<l4::tcp_event::PeerFin>(ev)) {
    pump(host, now);
    if (!conn_) return;
    // The server has finished too: our side of the exchange is over (TIME-WAIT, if any,
    // is the TCP layer's business, as with a real socket after close()).
    host.tcp_close(now, id);
    const bool complete = sent_ >= requests_per_connection() && responses_ >= (connections_done_ + 1) * requests_per_connection();
    end_connection(host, now, complete ? "" : "the server closed the connection before answering");
  } else if (std::holds_alternative<l4::tcp_event::Closed>(ev)) {
    const bool complete = sent_ >= requests_per_connection() && responses_ >= (connections_done_ + 1) * requests_per_connection();
    end_connection(host, now, complete ? "" : "connection closed before the response");
  } else if (std::holds_alternative<l4::tcp_event::Reset>(ev)) {
    end_connection(host, now, "connection refused or reset by the server");
  } else if (auto* t = std::get_if<l4::tcp_event::TimedOut>(&ev)) {
    end_connection(host, now, "connection timed out: " + t->message);
  }
}

void HttpClientApp::end_connection(stack::Host& host, Time now, const std::string& error) {
  if (!conn_) return;
  // Detached first: the Closed event the abort raises must not end the connection again
  // (as a clean close).
  const stack::ConnId id = conn_->id;
  conn_.reset();
  if (host.tcp(id) && !error.empty()) host.tcp_abort(now, id);
  deadline_.reset();
  ++connections_done_;
  if (!error.empty()) {
    error_ = error;
    print("[Client] Error: " + error);
    host.trace(now, Layer::Application, "http_failed", "the exchange failed: " + error);
    finish(host, now);
    return;
  }
  print("[Client] Connection closed.");
  if (connections_done_ < total_connections()) {
    next_connect_ = now;  // reconnect and resume the session
  } else {
    finish(host, now);
  }
}

void HttpClientApp::finish(stack::Host&, Time) { done_ = true; }

std::vector<trace::Field> HttpClientApp::summary() const {
  std::string states;
  for (const auto& s : session_states_) states += (states.empty() ? "" : ",") + s;
  return {{"target", cfg_.target.to_string() + ":" + std::to_string(cfg_.port)},
          {"result", error_.empty() ? std::string(done_ ? "ok" : "unfinished") : std::string("failed")},
          {"error", error_},
          {"requests_sent", uint64_t{sent_total_}},
          {"responses", uint64_t{responses_}},
          {"connections", uint64_t{connections_done_}},
          {"session", session_id_ ? session_id_->to_string() : std::string()},
          {"session_states", states},
          {"handshake_time_ns", handshake_time_.ns}};
}

// ====================================================================== server

struct HttpServerApp::Conn {
  l5::SessionServerConn session;
  std::unique_ptr<l6::RandomSource> tls_rng;
  l6::TlsConnection tls;
  l7::HttpServerCodec http;
  SendQueue tcp_out;
  bool closing = false;

  Conn(l5::SessionServer& s, uint64_t seed, const l6::TlsConfig& tc, const TlsRandomFactory& random,
       const l7::HttpLimits& limits)
      : session(s.accept_connection()),
        tls_rng(random ? random() : std::make_unique<l6::SeededRandom>(seed)),
        tls(tc, *tls_rng),
        http(limits) {}
};

HttpServerApp::HttpServerApp(HttpServerConfig cfg)
    : cfg_(std::move(cfg)),
      sessions_(cfg_.shared_sessions ? cfg_.shared_sessions
                                     : std::make_shared<l5::SessionServer>(Rng(cfg_.rng_seed), cfg_.sessions)) {}
HttpServerApp::~HttpServerApp() = default;

void HttpServerApp::start(stack::Host& host, Time now) {
  if (!host.tcp_listen(cfg_.port, this, cfg_.tcp)) {
    print("[Server] bind: port " + std::to_string(cfg_.port) + " is already in use");
    return;
  }
  if (cfg_.announce_listen) print("[Server] Listening on " + host.primary_address().to_string() + ":" + std::to_string(cfg_.port) + "...");
  host.trace(now, Layer::Application, "listen", "HTTP server listening on TCP port " + std::to_string(cfg_.port) +
                                                    ", server key " + l6::ed25519_key_fingerprint(l6::ed25519_public(cfg_.server_key)));
}

std::optional<Time> HttpServerApp::poll_timeout() const { return sessions_->poll_timeout(); }

void HttpServerApp::handle_timeout(stack::Host& host, Time now) {
  sessions_->handle_timeout(now);
  trace_session_events(host, now);
}

void HttpServerApp::trace_session_events(stack::Host& host, Time now) {
  while (auto e = sessions_->poll_event()) {
    host.trace(now, Layer::Session, "session_state",
               "session " + e->id.to_string() + ": " + (e->from ? std::string(session_state_name(*e->from)) + " -> " : std::string("created ")) +
                   session_state_name(e->to),
               {{"session", e->id.to_string()}, {"to", std::string(session_state_name(e->to))}});
  }
}

void HttpServerApp::drop(stack::Host& host, Time now, stack::ConnId id, const std::string& why) {
  host.trace(now, Layer::Application, "conn_dropped", "closing the connection: " + why);
  print("[Server] Closing a connection: " + why);
  auto it = conns_.find(id);
  if (it != conns_.end()) {
    flush_tcp(host, now, id, it->second->tcp_out);
    conns_.erase(it);
  }
  host.tcp_close(now, id);
}

void HttpServerApp::pump(stack::Host& host, Time now, stack::ConnId id, Conn& c) {
  for (int round = 0; round < 64; ++round) {
    bool moved = false;
    uint8_t buf[16384];
    for (size_t n; (n = host.tcp_recv(now, id, MutByteView(buf, sizeof buf))) > 0;) {
      c.session.feed(now, ByteView(buf, n));
      moved = true;
    }
    if (Bytes out = c.session.take_output(); !out.empty()) {
      c.tcp_out.append(std::move(out));
      moved = true;
    }
    trace_session_events(host, now);
    while (auto ev = c.session.poll_event()) {
      moved = true;
      if (auto* a = std::get_if<l5::Accepted>(&*ev)) {
        host.trace(now, Layer::Session, "session_accepted",
                   "session " + a->id.to_string() + " attached to this connection (" + session_state_name(a->state) + ")");
        print(std::string("[Server] Session ") + a->id.to_string() + " " + session_state_name(a->state));
      } else if (auto* r = std::get_if<l5::Refused>(&*ev)) {
        ++refused_;
        host.trace(now, Layer::Session, "session_refused", "session refused: " + r->reason);
        drop(host, now, id, "session refused: " + r->reason);
        return;
      } else if (auto* d = std::get_if<l5::Data>(&*ev)) {
        host.trace(now, Layer::Session, "session_data",
                   "session DATA frame: " + std::to_string(d->bytes.size()) + " bytes for the presentation layer");
        c.tls.handle_transport(d->bytes);
      } else if (std::get_if<l5::Closed>(&*ev)) {
        host.trace(now, Layer::Session, "session_closed", "the client closed the session connection");
        drop(host, now, id, "client done");
        return;
      } else if (auto* p = std::get_if<l5::ProtocolError>(&*ev)) {
        host.trace(now, Layer::Session, "session_error", "session protocol error: " + p->message);
        drop(host, now, id, "session protocol error: " + p->message);
        return;
      }
    }
    while (auto ev = c.tls.poll_event()) {
      moved = true;
      host.trace(now, Layer::Presentation, "tls", tls_event_text(*ev));
      if (std::holds_alternative<l6::HandshakeDone>(*ev)) {
        ++handshakes_;
        if (cfg_.keylog) cfg_.keylog(c.tls.keylog_lines());
      } else if (auto* a = std::get_if<l6::Alert>(&*ev); a && a->description != l6::AlertDescription::close_notify) {
        ++alerts_;
        if (Bytes out = c.tls.take_transport(); !out.empty() && c.session.is_attached()) {
          Bytes f = c.session.send(now, out);
          c.tcp_out.append(std::move(f));
        }
        drop(host, now, id, "TLS failure: " + c.tls.error());
        return;
      }
    }
    if (Bytes app = c.tls.take_app(); !app.empty()) {
      moved = true;
      host.trace(now, Layer::Presentation, "tls_decrypted",
                 "decrypted " + std::to_string(app.size()) + " bytes of application data for HTTP");
      c.http.feed(app);
      while (auto r = c.http.next()) {
        if (!r->ok()) {
          host.trace(now, Layer::Application, "http_bad_request", "malformed HTTP request: " + r->error().message);
          c.tls.write_app(c.http.respond(l7::make_error_response(400, "Bad Request", r->error().message, now.ns, cfg_.server_name)));
          c.closing = true;
          break;
        }
        l7::HttpRequest& req = r->value();
        ++request_count_;
        if (cfg_.keep_requests) requests_.push_back(req);
        const auto* ua = req.header("User-Agent");
        host.trace(now, Layer::Application, "http_request",
                   "HTTP request " + req.method + " " + req.target + " from " + (ua ? *ua : std::string("?")) + ", " +
                       std::to_string(req.body.size()) + "-byte body " + clip(req.body),
                   {{"method", req.method}, {"target", req.target}, {"bytes", uint64_t{req.body.size()}}});
        print("[Server] Received: " + req.method + " " + req.target + " " + clip(req.body, 200));
        const bool upload = req.method == "POST" && req.target == l7::kUploadPath;
        // An upload is consumed: only its length and CRC-32 go back. Anything else is
        // echoed; the request is not needed afterwards, so a raw body moves into the echo.
        const l7::HttpResponse res =
            upload ? l7::make_upload_response(req, wire::crc32(ByteView(reinterpret_cast<const uint8_t*>(req.body.data()),
                                                                          req.body.size())),
                                              now.ns, cfg_.server_name)
                   : l7::make_echo_response(std::move(req), now.ns, cfg_.server_name);
        const Bytes wire = c.http.respond(res);
        host.trace(now, Layer::Application, "http_response",
                   "HTTP response " + std::to_string(res.status) + " " + res.reason + ": " + std::to_string(wire.size()) +
                       " bytes handed to the presentation layer");
        c.tls.write_app(wire);
        if (c.http.should_close()) c.closing = true;
      }
    }
    if (Bytes out = c.tls.take_transport(); !out.empty() && c.session.is_attached()) {
      moved = true;
      Bytes f = c.session.send(now, out);
      host.trace(now, Layer::Session, "session_send",
                 "session " + (c.session.session_id() ? c.session.session_id()->to_string() : std::string("?")) + ": " +
                     std::to_string(out.size()) + " bytes of TLS in DATA frame(s), " + std::to_string(f.size()) +
                     " bytes with header(s)");
      c.tcp_out.append(std::move(f));
    }
    if (!c.tcp_out.empty()) {
      const size_t before = c.tcp_out.size();
      flush_tcp(host, now, id, c.tcp_out);
      moved |= c.tcp_out.size() != before;
    }
    if (!moved) break;
  }
}

void HttpServerApp::on_tcp(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev) {
  if (std::holds_alternative<l4::tcp_event::Connected>(ev)) {
    l6::TlsConfig tc;
    tc.is_server = true;
    tc.server_ed25519_private = cfg_.server_key;
    const uint64_t seed = Rng::stream(cfg_.rng_seed, "tls-conn:" + std::to_string(id)).next_u64();
    conns_[id] = std::make_unique<Conn>(*sessions_, seed, tc, cfg_.tls_random, cfg_.http_limits);
    if (const auto* t = host.tcp(id)) print("[Server] Connection from " + t->remote().to_string());
    return;
  }
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  if (std::holds_alternative<l4::tcp_event::Readable>(ev) || std::holds_alternative<l4::tcp_event::Writable>(ev)) {
    pump(host, now, id, *it->second);
  } else if (std::holds_alternative<l4::tcp_event::PeerFin>(ev)) {
    pump(host, now, id, *it->second);
    if (conns_.count(id)) drop(host, now, id, "client closed the connection");
  } else if (std::holds_alternative<l4::tcp_event::Closed>(ev) || std::holds_alternative<l4::tcp_event::Reset>(ev) ||
             std::holds_alternative<l4::tcp_event::TimedOut>(ev)) {
    conns_.erase(it);
  }
}

std::vector<trace::Field> HttpServerApp::summary() const {
  return {{"port", uint64_t{cfg_.port}},
          {"requests", request_count_},
          {"handshakes", handshakes_},
          {"tls_alerts", alerts_},
          {"sessions_refused", refused_},
          {"sessions", uint64_t{sessions_->table().size()}}};
}

}  // namespace mz::app
