#include "megzawicol/app/bulk.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include "megzawicol/l5/session.hpp"
#include "megzawicol/l6/crypto.hpp"
#include "megzawicol/l6/tls_connection.hpp"
#include "megzawicol/wire/crc32.hpp"
#include "send_queue.hpp"
#include "upper_text.hpp"

namespace mz::app {

using trace::Layer;

namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kRecord = 16 * 1024;  // TLS mode: plaintext per record (2^14, the most TLS allows)

std::string hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", static_cast<unsigned>(v));
  return b;
}

std::string mbps(uint64_t bytes, Duration d) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f Mbit/s", d.ns > 0 ? static_cast<double>(bytes) * 8e3 / static_cast<double>(d.ns) : 0.0);
  return b;
}

inline void store_le64(uint8_t* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);  // one store (the byte-by-byte form compiled to eight here)
}



/// Why a TLS alert ended the connection.
std::string alert_reason(const l6::Alert& a) {
  return std::string("TLS ") + (a.sent ? "" : "peer ") + "alert " + l6::alert_name(a.description) + ": " + a.reason;
}

}  // namespace

// The upper layers of one TLS-mode transfer, sender side: L5 session client, L6 TLS client
// (created once the session is accepted) and the bytes waiting for TCP.
struct BulkSender::Tls {
  Rng rng;  // the session proposal
  l5::SessionClient session;
  l6::SeededRandom random;
  std::unique_ptr<l6::TlsConnection> conn;
  SendQueue tcp_out;
  bool tampered = false;

  explicit Tls(uint64_t seed) : rng(seed), session(rng), random(Rng::stream(seed, "tls").next_u64()) {}
};

// Receiver side: a session table of its own (one transfer, one session), the L5 server end
// and the L6 TLS server.
struct BulkReceiver::Tls {
  l5::SessionServer sessions;
  l5::SessionServerConn session;
  l6::SeededRandom random;
  l6::TlsConnection conn;
  SendQueue tcp_out;
  bool close_notify = false;  // the sender's close_notify arrived: its stream is whole

  Tls(const BulkReceiverConfig& c)
      : sessions(Rng(c.tls_seed)),
        session(sessions.accept_connection()),
        random(Rng::stream(c.tls_seed, "tls").next_u64()),
        conn(server_config(c), random) {}

  static l6::TlsConfig server_config(const BulkReceiverConfig& c) {
    l6::TlsConfig tc;
    tc.is_server = true;
    tc.server_ed25519_private = c.server_key;
    return tc;
  }
};

BulkStream::BulkStream(uint64_t seed) {
  Rng master(seed);
  for (Rng& lane : lanes_) lane = Rng(master.next_u64());
}

inline void BulkStream::block(uint8_t* out) {
  const uint64_t a = lanes_[0].next_u64();
  const uint64_t b = lanes_[1].next_u64();
  const uint64_t c = lanes_[2].next_u64();
  const uint64_t d = lanes_[3].next_u64();
  store_le64(out, a);
  store_le64(out + 8, b);
  store_le64(out + 16, c);
  store_le64(out + 24, d);
}

void BulkStream::next(uint8_t* out, size_t n) {
  // The rest of the last block first, then whole blocks straight into `out`, then the head
  // of one more. (n == 0 may come with a null `out`.)
  if (n == 0) return;
  const size_t k = std::min(n, have_);
  std::memcpy(out, buf_ + (sizeof buf_ - have_), k);
  have_ -= k;
  out += k;
  n -= k;
  if (n >= sizeof buf_) {
    // The generators run on local copies: stores through `out` (bytes, which may alias
    // anything) would otherwise force their state back to memory after every block.
    Rng l0 = lanes_[0], l1 = lanes_[1], l2 = lanes_[2], l3 = lanes_[3];
    for (; n >= sizeof buf_; n -= sizeof buf_, out += sizeof buf_) {
      const uint64_t a = l0.next_u64();
      const uint64_t b = l1.next_u64();
      const uint64_t c = l2.next_u64();
      const uint64_t d = l3.next_u64();
      store_le64(out, a);
      store_le64(out + 8, b);
      store_le64(out + 16, c);
      store_le64(out + 24, d);
    }
    lanes_[0] = l0;
    lanes_[1] = l1;
    lanes_[2] = l2;
    lanes_[3] = l3;
  }
  if (n > 0) {
    block(buf_);
    std::memcpy(out, buf_, n);
    have_ = sizeof buf_ - n;
  }
}

uint32_t bulk_stream_crc(uint64_t seed, uint64_t n) {
  BulkStream s(seed);
  uint32_t crc = 0;
  std::vector<uint8_t> buf(kChunk);
  while (n > 0) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(n, buf.size()));
    s.next(buf.data(), k);
    crc = wire::crc32_update(crc, ByteView(buf.data(), k));
    n -= k;
  }
  return crc;
}

// ------------------------------------------------------------------ sender

BulkSender::BulkSender(BulkConfig cfg) : cfg_(std::move(cfg)), stream_(cfg_.stream_seed) {
  if (cfg_.tls) tls_ = std::make_unique<Tls>(cfg_.tls_seed);
}
BulkSender::~BulkSender() = default;

void BulkSender::start(stack::Host&, Time now) { start_at_ = std::max(now, cfg_.start); }

std::optional<Time> BulkSender::poll_timeout() const {
  if (done_) return std::nullopt;
  if (start_at_) return start_at_;
  if (stop_at_ && !closing_) return stop_at_;
  return std::nullopt;
}

void BulkSender::handle_timeout(stack::Host& host, Time now) {
  if (start_at_ && *start_at_ <= now) {
    start_at_.reset();
    conn_ = host.tcp_connect(now, cfg_.target, cfg_.port, this, cfg_.tcp);
    if (!conn_) {
      finish(host, now, "connect: Network is unreachable");
      return;
    }
    print("connecting to " + cfg_.target.to_string() + ":" + std::to_string(cfg_.port) + " to send " +
          (cfg_.send_for.ns > 0 ? "for " + format_duration(cfg_.send_for) : std::to_string(cfg_.bytes) + " bytes") +
          (cfg_.tls ? " over TLS 1.3" : ""));
    return;
  }
  if (stop_at_ && *stop_at_ <= now && !closing_ && conn_) {
    host.trace(now, Layer::Application, "bulk_stop", "sending time is up: closing after " + std::to_string(written_) + " bytes");
    if (cfg_.tls) {
      close_tls(host, now);
      return;
    }
    closing_ = true;
    host.tcp_close(now, *conn_);
  }
}

void BulkSender::fill(stack::Host& host, Time now) {
  if (!conn_ || closing_) return;
  const bool by_time = cfg_.send_for.ns > 0;
  for (;;) {
    if (pending_len_ == 0) {
      const uint64_t left = by_time ? kChunk : cfg_.bytes - written_;
      if (left == 0) break;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, kChunk));
      chunk_.resize(n);
      stream_.next(chunk_.data(), n);
      pending_len_ = n;
    }
    const size_t off = chunk_.size() - static_cast<size_t>(pending_len_);
    const size_t took = host.tcp_send(now, *conn_, ByteView(chunk_.data() + off, static_cast<size_t>(pending_len_)));
    if (!host.tcp(*conn_)) return;  // the connection died inside tcp_send
    written_ += took;
    pending_len_ -= took;
    if (took == 0 || pending_len_ > 0) return;  // the send buffer is full: wait for Writable
  }
  if (!by_time && written_ == cfg_.bytes && !closing_) {
    closing_ = true;
    host.tcp_close(now, *conn_);
  }
}

void BulkSender::on_tcp(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev) {
  if (const auto* c = host.tcp(id)) stats_ = c->stats();
  if (cfg_.tls) {
    on_tcp_tls(host, now, id, ev);
    return;
  }
  if (std::holds_alternative<l4::tcp_event::Connected>(ev)) {
    connected_at_ = now;
    print("connected to " + cfg_.target.to_string() + ":" + std::to_string(cfg_.port) + " after " +
          format_duration(now - (cfg_.start > Time::zero() ? cfg_.start : Time::zero())));
    if (cfg_.send_for.ns > 0) stop_at_ = now + cfg_.send_for;
    fill(host, now);
  } else if (std::holds_alternative<l4::tcp_event::Writable>(ev)) {
    fill(host, now);
  } else if (std::holds_alternative<l4::tcp_event::Readable>(ev)) {
    uint8_t sink[4096];
    while (host.tcp_recv(now, id, MutByteView(sink, sizeof sink)) > 0) {
    }
  } else if (std::holds_alternative<l4::tcp_event::PeerFin>(ev)) {
    if (!closing_) {
      closing_ = true;
      host.tcp_close(now, id);
    } else if (const auto* c = host.tcp(id); c && c->state() == l4::TcpState::TimeWait) {
      // Our FIN is acknowledged (so is every byte before it) and the peer has closed too:
      // the transfer is over. TIME-WAIT only guards against old duplicates; waiting it out
      // (60 s by default) before reporting would leave most runs "unfinished".
      finish(host, now, "");
    }
  } else if (std::holds_alternative<l4::tcp_event::Closed>(ev)) {
    finish(host, now, closing_ ? "" : "connection closed before all data was sent");
  } else if (std::holds_alternative<l4::tcp_event::Reset>(ev)) {
    finish(host, now, connected_at_ == Time{} ? "connect: Connection refused" : "connection reset by peer");
  } else if (const auto* t = std::get_if<l4::tcp_event::TimedOut>(&ev)) {
    finish(host, now, "connection timed out: " + t->message);
  }
}

void BulkSender::finish(stack::Host& host, Time now, std::string error) {
  if (done_) return;
  done_ = true;
  done_at_ = now;
  error_ = std::move(error);
  if (!error_.empty()) {
    print("transfer failed after " + std::to_string(written_) + " bytes: " + error_);
    host.trace(now, Layer::Application, "bulk_failed", "bulk transfer failed: " + error_);
  } else {
    print("sent " + std::to_string(written_) + " bytes; " + std::to_string(stats_.retransmitted_segs) +
          " segments retransmitted (" + std::to_string(stats_.timeouts) + " timeouts, " +
          std::to_string(stats_.fast_retransmits) + " fast retransmits)");
  }
}

std::vector<trace::Field> BulkSender::summary() const {
  std::vector<trace::Field> f{
      {"target", cfg_.target.to_string() + ":" + std::to_string(cfg_.port)},
      {"result", error_.empty() ? std::string(done_ ? "ok" : "unfinished") : std::string("failed")},
      {"error", error_},
      {"bytes_sent", written_},
      {"connect_time_ns", (connected_at_ - cfg_.start).ns},
      {"segments_sent", stats_.segs_sent},
      {"retransmitted_segments", stats_.retransmitted_segs},
      {"retransmitted_bytes", stats_.retransmitted_bytes},
      {"timeouts", stats_.timeouts},
      {"fast_retransmits", stats_.fast_retransmits},
      {"sack_retransmits", stats_.sack_retransmits}};
  if (cfg_.tls) {
    f.push_back({"tls", true});
    f.push_back({"handshake_time_ns", handshake_time_.ns});
  }
  return f;
}

// ------------------------------------------------------------- sender, TLS mode

void BulkSender::on_tcp_tls(stack::Host& host, Time now, stack::ConnId, const l4::TcpEvent& ev) {
  Tls& t = *tls_;
  if (std::holds_alternative<l4::tcp_event::Connected>(ev)) {
    connected_at_ = now;
    print("connected to " + cfg_.target.to_string() + ":" + std::to_string(cfg_.port) + " after " +
          format_duration(now - (cfg_.start > Time::zero() ? cfg_.start : Time::zero())));
    Bytes open = t.session.open(now);
    host.trace(now, Layer::Session, "session_open", "opening a new session: " + std::to_string(open.size()) + "-byte frame");
    t.tcp_out.append(open);
    flush_tls(host, now);
  } else if (std::holds_alternative<l4::tcp_event::Readable>(ev) || std::holds_alternative<l4::tcp_event::Writable>(ev)) {
    pump_tls(host, now);
  } else if (std::holds_alternative<l4::tcp_event::PeerFin>(ev)) {
    pump_tls(host, now);
    // Not confirmed by now: the receiver closed without answering our close_notify.
    if (!done_) fail_tls(host, now, "the receiver closed the connection before the transfer ended");
  } else if (std::holds_alternative<l4::tcp_event::Closed>(ev)) {
    finish(host, now, "connection closed before all data was sent");
  } else if (std::holds_alternative<l4::tcp_event::Reset>(ev)) {
    finish(host, now, connected_at_ == Time{} ? "connect: Connection refused" : "connection reset by peer");
  } else if (const auto* to = std::get_if<l4::tcp_event::TimedOut>(&ev)) {
    finish(host, now, "connection timed out: " + to->message);
  }
}

void BulkSender::pump_tls(stack::Host& host, Time now) {
  Tls& t = *tls_;
  if (!conn_) return;
  const stack::ConnId id = *conn_;
  // L6 events, run after each DATA frame so that they keep their order with L5's. False:
  // the transfer has ended (failed, or confirmed by the receiver's close_notify).
  auto presentation = [&]() {
    while (auto ev = t.conn->poll_event()) {
      host.trace(now, Layer::Presentation, "tls", tls_event_text(*ev));
      if (auto* h = std::get_if<l6::HandshakeDone>(&*ev)) {
        handshake_time_ = now - connected_at_;
        print("TLS 1.3 handshake complete (" + h->cipher + ") in " + format_duration(handshake_time_));
        if (cfg_.keylog) cfg_.keylog(t.conn->keylog_lines());
        if (cfg_.send_for.ns > 0) stop_at_ = now + cfg_.send_for;
      } else if (auto* a = std::get_if<l6::Alert>(&*ev); a && a->description != l6::AlertDescription::close_notify &&
                                                            a->description != l6::AlertDescription::user_canceled) {
        fail_tls(host, now, alert_reason(*a));  // our alert, if any, goes out first
        return false;
      } else if (std::holds_alternative<l6::Closed>(*ev)) {
        if (!closing_) {
          fail_tls(host, now, "the receiver closed the TLS connection before the transfer ended");
          return false;
        }
        // The receiver's close_notify answers ours: it has the whole stream, authenticated.
        confirmed_ = true;
        finish(host, now, "");
        return false;
      }
    }
    (void)t.conn->take_app();  // the receiver sends no application data
    return true;
  };
  for (int round = 0; round < 64; ++round) {
    bool moved = false;
    // L4 -> L5
    uint8_t buf[16384];
    for (size_t n; (n = host.tcp_recv(now, id, MutByteView(buf, sizeof buf))) > 0;) {
      moved = true;
      if (!done_) t.session.feed(now, ByteView(buf, n));  // once done: read and drop
    }
    if (done_) {
      flush_tls(host, now);
      return;
    }
    // L5 events
    while (auto ev = t.session.poll_event()) {
      moved = true;
      if (auto* a = std::get_if<l5::Accepted>(&*ev)) {
        host.trace(now, Layer::Session, "session_accepted",
                   "session " + a->id.to_string() + " accepted by the receiver (" + session_state_name(a->state) + ")",
                   {{"session", a->id.to_string()}, {"state", std::string(session_state_name(a->state))}});
        l6::TlsConfig tc;
        tc.is_server = false;
        tc.pinned_server_public = cfg_.pinned_server_key;
        tc.server_name = cfg_.server_name;
        t.conn = std::make_unique<l6::TlsConnection>(tc, t.random);
        t.conn->start();
      } else if (auto* r = std::get_if<l5::Refused>(&*ev)) {
        host.trace(now, Layer::Session, "session_refused", "session refused by the receiver: " + r->reason);
        fail_tls(host, now, "session refused: " + r->reason);
        return;
      } else if (auto* d = std::get_if<l5::Data>(&*ev)) {
        if (t.conn) {
          t.conn->handle_transport(d->bytes);
          if (!presentation()) {
            flush_tls(host, now);
            return;
          }
        }
      } else if (std::get_if<l5::Closed>(&*ev)) {
        host.trace(now, Layer::Session, "session_closed", "the receiver closed the session connection");
        fail_tls(host, now, "the receiver closed the session before the transfer ended");
        return;
      } else if (auto* p = std::get_if<l5::ProtocolError>(&*ev)) {
        host.trace(now, Layer::Session, "session_error", "session protocol error: " + p->message);
        fail_tls(host, now, "session protocol error: " + p->message);
        return;
      }
    }
    if (t.conn) {
      if (!presentation()) {
        flush_tls(host, now);
        return;
      }
      // L6 -> L5: the handshake flight (data records are written by fill_tls)
      if (Bytes out = t.conn->take_transport(); !out.empty() && t.session.is_open()) {
        moved = true;
        t.tcp_out.append(t.session.send(now, out));
      }
    }
    const size_t before = t.tcp_out.size();
    const uint64_t written = written_;
    fill_tls(host, now);
    if (done_ || !host.tcp(id)) return;
    moved |= t.tcp_out.size() != before || written_ != written;
    if (!moved) break;
  }
}

void BulkSender::flush_tls(stack::Host& host, Time now) {
  Tls& t = *tls_;
  if (!conn_ || !host.tcp(*conn_)) return;
  if (!t.tcp_out.empty()) t.tcp_out.consume(host.tcp_send(now, *conn_, t.tcp_out.parts()));
  if (fin_pending_ && t.tcp_out.empty() && host.tcp(*conn_)) {
    fin_pending_ = false;
    fin_sent_ = true;
    host.tcp_close(now, *conn_);
  }
}

void BulkSender::fill_tls(stack::Host& host, Time now) {
  Tls& t = *tls_;
  flush_tls(host, now);
  if (!conn_ || !t.conn || !t.conn->handshake_complete() || closing_ || done_) return;
  const bool by_time = cfg_.send_for.ns > 0;
  // One record per session DATA frame; a new one only when TCP has taken the previous one,
  // so at most one record waits outside TCP's send buffer.
  while (t.tcp_out.empty() && host.tcp(*conn_)) {
    const uint64_t left = by_time ? kRecord : cfg_.bytes - written_;
    if (left == 0) break;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, kRecord));
    chunk_.resize(n);
    stream_.next(chunk_.data(), n);
    t.conn->write_app(chunk_);
    Bytes rec = t.conn->take_transport();
    if (cfg_.tamper_after_handshake && !t.tampered && !rec.empty()) {
      t.tampered = true;
      rec.back() ^= 0x01;  // the last byte of the record's authentication tag
      host.trace(now, Layer::Presentation, "tls_tampered",
                 "test aid: flipped one bit of an encrypted TLS record before sending it");
    }
    t.tcp_out.append(t.session.send(now, rec));
    written_ += n;
    flush_tls(host, now);
  }
  if (!by_time && written_ == cfg_.bytes) close_tls(host, now);
}

void BulkSender::close_tls(stack::Host& host, Time now) {
  Tls& t = *tls_;
  if (closing_ || done_ || !t.conn) return;
  closing_ = true;
  // close_notify, the authenticated end of the stream, then our FIN right behind it (a FIN
  // also lets the last short segment go at once, where Nagle would hold it back for an
  // ACK). TCP is only half-closed: the receiver's answer still arrives, its close_notify
  // (the transfer is confirmed; it then ends the session) or an alert (it failed).
  t.conn->close();
  if (Bytes out = t.conn->take_transport(); !out.empty()) t.tcp_out.append(t.session.send(now, out));
  while (auto ev = t.conn->poll_event()) host.trace(now, Layer::Presentation, "tls", tls_event_text(*ev));
  fin_pending_ = true;
  flush_tls(host, now);
}

void BulkSender::fail_tls(stack::Host& host, Time now, const std::string& error) {
  Tls& t = *tls_;
  if (done_) return;
  // Our alert (if we raised one) goes out after what is queued, then TCP closes.
  if (t.conn) {
    if (Bytes out = t.conn->take_transport(); !out.empty() && t.session.is_open())
      t.tcp_out.append(t.session.send(now, out));
  }
  finish(host, now, error);
  if (!fin_sent_) fin_pending_ = true;
  flush_tls(host, now);
}

// ------------------------------------------------------------------ receiver

BulkReceiver::BulkReceiver(BulkReceiverConfig cfg) : cfg_(std::move(cfg)), stream_(cfg_.stream_seed) {}

BulkReceiver::BulkReceiver(std::string name, uint16_t port, uint64_t stream_seed, l4::TcpConfig tcp, uint64_t expected_bytes)
    : BulkReceiver(BulkReceiverConfig{std::move(name), port, stream_seed, tcp, expected_bytes}) {}

BulkReceiver::~BulkReceiver() = default;

void BulkReceiver::start(stack::Host& host, Time now) {
  if (!host.tcp_listen(cfg_.port, this, cfg_.tcp)) {
    print("bind: port " + std::to_string(cfg_.port) + " is already in use");
    return;
  }
  started_ = true;
  host.trace(now, Layer::Application, "bulk_listen",
             "listening on TCP port " + std::to_string(cfg_.port) +
                 (cfg_.tls ? ", TLS 1.3, server key " + l6::ed25519_key_fingerprint(l6::ed25519_public(cfg_.server_key))
                           : std::string()));
}

void BulkReceiver::verify(stack::Host& host, Time now, const uint8_t* data, size_t len) {
  uint8_t want[16384];
  while (len > 0) {
    const size_t n = std::min(len, sizeof want);
    if (received_ == 0) first_at_ = now;
    last_at_ = now;
    stream_.next(want, n);
    if (mismatch_at_ < 0 && std::memcmp(data, want, n) != 0) {
      const size_t i = static_cast<size_t>(std::mismatch(data, data + n, want).first - data);
      mismatch_at_ = static_cast<int64_t>(received_ + i);
      host.trace(now, Layer::Application, "bulk_corrupt",
                 "received data differs from what was sent at byte " + std::to_string(mismatch_at_));
    }
    crc_ = wire::crc32_update(crc_, ByteView(data, n));
    received_ += n;
    data += n;
    len -= n;
  }
}

void BulkReceiver::drain(stack::Host& host, Time now, stack::ConnId id) {
  uint8_t buf[16384];
  for (;;) {
    const size_t n = host.tcp_recv(now, id, MutByteView(buf, sizeof buf));
    if (n == 0) break;
    verify(host, now, buf, n);
  }
}

void BulkReceiver::report(stack::Host& host, Time now) {
  const Duration d = last_at_ - accepted_at_;
  const bool ok = content_ok() && (cfg_.expected_bytes == 0 || received_ == cfg_.expected_bytes);
  print("received " + std::to_string(received_) + " bytes in " + format_duration(d) + ": " + mbps(received_, d) +
        " goodput, content " + (ok ? "verified" : "CORRUPT") + " (CRC-32 " + hex32(crc_) + "), " +
        std::to_string(stats_.dup_bytes_received) + " duplicate bytes received" + (cfg_.tls ? ", over TLS 1.3" : ""));
  host.trace(now, Layer::Application, "bulk_done",
             "transfer complete: " + std::to_string(received_) + " bytes, content " + (ok ? "verified" : "CORRUPT"),
             {{"bytes", received_}, {"crc32", hex32(crc_)}, {"goodput_bps", d.ns > 0 ? received_ * 8e9 / static_cast<double>(d.ns) : 0.0}});
}

void BulkReceiver::on_tcp(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev) {
  // One transfer per receiver: the first accepted connection. Any other is aborted, and
  // its remaining events (e.g. the Readable queued with its Connected when its first
  // segment carried data) are ignored.
  if (conn_ && id != *conn_) {
    if (std::holds_alternative<l4::tcp_event::Connected>(ev)) host.tcp_abort(now, id);
    return;
  }
  if (const auto* c = host.tcp(id)) stats_ = c->stats();
  if (cfg_.tls) {
    on_tcp_tls(host, now, id, ev);
    return;
  }
  if (std::holds_alternative<l4::tcp_event::Connected>(ev)) {
    conn_ = id;
    accepted_at_ = now;
    if (const auto* c = host.tcp(id)) print("accepted a connection from " + c->remote().to_string());
  } else if (std::holds_alternative<l4::tcp_event::Readable>(ev)) {
    drain(host, now, id);
  } else if (std::holds_alternative<l4::tcp_event::PeerFin>(ev)) {
    drain(host, now, id);
    complete_ = true;
    report(host, now);
    host.tcp_close(now, id);
  }
}

std::vector<trace::Field> BulkReceiver::summary() const {
  const Duration d = last_at_ - accepted_at_;
  std::vector<trace::Field> f{
      {"port", uint64_t{cfg_.port}},
      {"complete", complete_},
      {"bytes_received", received_},
      {"content_ok", content_ok()},
      {"crc32", hex32(crc_)},
      {"completion_time_ns", d.ns},
      {"goodput_bps", d.ns > 0 ? static_cast<double>(received_) * 8e9 / static_cast<double>(d.ns) : 0.0},
      {"duplicate_bytes_received", stats_.dup_bytes_received},
      {"out_of_order_segments", stats_.out_of_order_segs}};
  if (cfg_.tls) {
    f.push_back({"tls", true});
    f.push_back({"error", error_});
  }
  return f;
}

// ----------------------------------------------------------- receiver, TLS mode

void BulkReceiver::on_tcp_tls(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev) {
  if (std::holds_alternative<l4::tcp_event::Connected>(ev)) {
    conn_ = id;
    accepted_at_ = now;
    tls_ = std::make_unique<Tls>(cfg_);
    if (const auto* c = host.tcp(id)) print("accepted a connection from " + c->remote().to_string());
  } else if (std::holds_alternative<l4::tcp_event::Readable>(ev) || std::holds_alternative<l4::tcp_event::Writable>(ev)) {
    pump_tls(host, now);
  } else if (std::holds_alternative<l4::tcp_event::PeerFin>(ev)) {
    pump_tls(host, now);
    if (error_.empty() && !complete_)
      fail_tls(host, now, "the sender closed the connection before TLS close_notify: the stream may be truncated");
    if (!closed_) {
      closed_ = true;
      host.tcp_close(now, id);
    }
  } else if (std::holds_alternative<l4::tcp_event::Reset>(ev)) {
    if (!complete_ && error_.empty()) fail_tls(host, now, "connection reset by peer");
  } else if (const auto* to = std::get_if<l4::tcp_event::TimedOut>(&ev)) {
    if (!complete_ && error_.empty()) fail_tls(host, now, "connection timed out: " + to->message);
  }
}

void BulkReceiver::trace_session_states(stack::Host& host, Time now) {
  while (auto e = tls_->sessions.poll_event()) {
    host.trace(now, Layer::Session, "session_state",
               "session " + e->id.to_string() + ": " +
                   (e->from ? std::string(session_state_name(*e->from)) + " -> " : std::string("created ")) +
                   session_state_name(e->to),
               {{"session", e->id.to_string()}, {"to", std::string(session_state_name(e->to))}});
  }
}

void BulkReceiver::pump_tls(stack::Host& host, Time now) {
  if (!tls_ || !conn_) return;
  Tls& t = *tls_;
  const stack::ConnId id = *conn_;
  // Runs L6 after each DATA frame: its events and plaintext, in order. False: it failed.
  auto presentation = [&]() {
    while (auto ev = t.conn.poll_event()) {
      host.trace(now, Layer::Presentation, "tls", tls_event_text(*ev));
      if (auto* a = std::get_if<l6::Alert>(&*ev); a && a->description != l6::AlertDescription::close_notify &&
                                                     a->description != l6::AlertDescription::user_canceled) {
        fail_tls(host, now, alert_reason(*a));
        return false;
      }
      if (std::holds_alternative<l6::Closed>(*ev)) t.close_notify = true;  // after the handshake only
    }
    if (Bytes app = t.conn.take_app(); !app.empty()) verify(host, now, app.data(), app.size());
    if (t.close_notify && !complete_) {
      // The whole stream is in, authenticated. Our close_notify tells the sender so, and we
      // end the session (the sender, half-closed already, sends no CLOSE of its own).
      complete_ = true;
      report(host, now);
      t.conn.close();
      while (auto ev = t.conn.poll_event()) host.trace(now, Layer::Presentation, "tls", tls_event_text(*ev));
      if (Bytes out = t.conn.take_transport(); !out.empty() && t.session.is_attached())
        t.tcp_out.append(t.session.send(now, out));
      t.tcp_out.append(t.session.close(now, l5::CloseMode::kEnd));
      host.trace(now, Layer::Session, "session_close", "closing the session connection (ending the session)");
      trace_session_states(host, now);
    }
    return true;
  };
  for (int round = 0; round < 64; ++round) {
    bool moved = false;
    uint8_t buf[16384];
    for (size_t n; (n = host.tcp_recv(now, id, MutByteView(buf, sizeof buf))) > 0;) {
      moved = true;
      if (error_.empty()) t.session.feed(now, ByteView(buf, n));  // after a failure: read and drop
    }
    if (!error_.empty()) return;
    if (Bytes out = t.session.take_output(); !out.empty()) {
      moved = true;
      t.tcp_out.append(out);
    }
    trace_session_states(host, now);
    while (auto ev = t.session.poll_event()) {
      moved = true;
      if (auto* a = std::get_if<l5::Accepted>(&*ev)) {
        host.trace(now, Layer::Session, "session_accepted",
                   "session " + a->id.to_string() + " attached to this connection (" + session_state_name(a->state) + ")");
      } else if (auto* r = std::get_if<l5::Refused>(&*ev)) {
        host.trace(now, Layer::Session, "session_refused", "session refused: " + r->reason);
        fail_tls(host, now, "session refused: " + r->reason);
        return;
      } else if (auto* d = std::get_if<l5::Data>(&*ev)) {
        t.conn.handle_transport(d->bytes);
        if (!presentation()) return;
      } else if (std::get_if<l5::Closed>(&*ev)) {
        host.trace(now, Layer::Session, "session_closed", "the sender closed the session connection");
      } else if (auto* p = std::get_if<l5::ProtocolError>(&*ev)) {
        host.trace(now, Layer::Session, "session_error", "session protocol error: " + p->message);
        fail_tls(host, now, "session protocol error: " + p->message);
        return;
      }
    }
    trace_session_states(host, now);
    if (!presentation()) return;
    // L6 -> L5: our handshake flight.
    if (Bytes out = t.conn.take_transport(); !out.empty() && t.session.is_attached()) {
      moved = true;
      t.tcp_out.append(t.session.send(now, out));
    }
    if (!t.tcp_out.empty()) {
      const size_t before = t.tcp_out.size();
      t.tcp_out.consume(host.tcp_send(now, id, t.tcp_out.parts()));
      moved |= t.tcp_out.size() != before;
    }
    if (!moved || !host.tcp(id)) break;
  }
}

void BulkReceiver::fail_tls(stack::Host& host, Time now, const std::string& error) {
  if (!error_.empty()) return;
  error_ = error;
  print("transfer failed after " + std::to_string(received_) + " bytes: " + error_);
  host.trace(now, Layer::Application, "bulk_failed", "bulk transfer failed: " + error_);
  if (!tls_ || !conn_ || !host.tcp(*conn_)) return;
  Tls& t = *tls_;
  // The TLS alert (or the session's REFUSE) goes out first, then our FIN.
  if (Bytes out = t.session.take_output(); !out.empty()) t.tcp_out.append(out);
  if (Bytes out = t.conn.take_transport(); !out.empty() && t.session.is_attached()) t.tcp_out.append(t.session.send(now, out));
  if (!t.tcp_out.empty()) t.tcp_out.consume(host.tcp_send(now, *conn_, t.tcp_out.parts()));
  if (!closed_ && host.tcp(*conn_)) {
    closed_ = true;
    host.tcp_close(now, *conn_);
  }
}

}  // namespace mz::app
