#include "megzawicol/app/bulk.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace mz::app {

using trace::Layer;

namespace {

constexpr size_t kChunk = 64 * 1024;

std::string hex64(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%016llx", static_cast<unsigned long long>(v));
  return b;
}

std::string mbps(uint64_t bytes, Duration d) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f Mbit/s", d.ns > 0 ? static_cast<double>(bytes) * 8e3 / static_cast<double>(d.ns) : 0.0);
  return b;
}

void fnv(uint64_t& h, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
}

}  // namespace

void BulkStream::next(uint8_t* out, size_t n) {
  while (n > 0) {
    if (have_ == 0) {
      const uint64_t v = rng_.next_u64();
      for (int i = 0; i < 8; ++i) buf_[i] = static_cast<uint8_t>(v >> (8 * i));
      have_ = 8;
    }
    const size_t k = std::min(n, have_);
    std::memcpy(out, buf_ + (8 - have_), k);
    have_ -= k;
    out += k;
    n -= k;
  }
}

uint64_t bulk_stream_hash(uint64_t seed, uint64_t n) {
  BulkStream s(seed);
  uint64_t h = 0xcbf29ce484222325ull;
  std::vector<uint8_t> buf(kChunk);
  while (n > 0) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(n, buf.size()));
    s.next(buf.data(), k);
    fnv(h, buf.data(), k);
    n -= k;
  }
  return h;
}

// ------------------------------------------------------------------ sender

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
          (cfg_.send_for.ns > 0 ? "for " + format_duration(cfg_.send_for) : std::to_string(cfg_.bytes) + " bytes"));
    return;
  }
  if (stop_at_ && *stop_at_ <= now && !closing_ && conn_) {
    closing_ = true;
    host.trace(now, Layer::Application, "bulk_stop", "sending time is up: closing after " + std::to_string(written_) + " bytes");
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
  return {{"target", cfg_.target.to_string() + ":" + std::to_string(cfg_.port)},
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
}

// ------------------------------------------------------------------ receiver

void BulkReceiver::start(stack::Host& host, Time now) {
  if (!host.tcp_listen(port_, this, tcp_)) {
    print("bind: port " + std::to_string(port_) + " is already in use");
    return;
  }
  started_ = true;
  host.trace(now, Layer::Application, "bulk_listen", "listening on TCP port " + std::to_string(port_));
}

void BulkReceiver::drain(stack::Host& host, Time now, stack::ConnId id) {
  uint8_t buf[16384];
  uint8_t want[16384];
  for (;;) {
    const size_t n = host.tcp_recv(now, id, MutByteView(buf, sizeof buf));
    if (n == 0) break;
    if (received_ == 0) first_at_ = now;
    last_at_ = now;
    stream_.next(want, n);
    if (mismatch_at_ < 0) {
      for (size_t i = 0; i < n; ++i) {
        if (buf[i] != want[i]) {
          mismatch_at_ = static_cast<int64_t>(received_ + i);
          host.trace(now, Layer::Application, "bulk_corrupt",
                     "received data differs from what was sent at byte " + std::to_string(mismatch_at_));
          break;
        }
      }
    }
    fnv(hash_, buf, n);
    received_ += n;
  }
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
  if (std::holds_alternative<l4::tcp_event::Connected>(ev)) {
    conn_ = id;
    accepted_at_ = now;
    if (const auto* c = host.tcp(id)) print("accepted a connection from " + c->remote().to_string());
  } else if (std::holds_alternative<l4::tcp_event::Readable>(ev)) {
    drain(host, now, id);
  } else if (std::holds_alternative<l4::tcp_event::PeerFin>(ev)) {
    drain(host, now, id);
    complete_ = true;
    const Duration d = last_at_ - accepted_at_;
    const bool ok = content_ok() && (expected_ == 0 || received_ == expected_);
    print("received " + std::to_string(received_) + " bytes in " + format_duration(d) + ": " + mbps(received_, d) +
          " goodput, content " + (ok ? "verified" : "CORRUPT") + " (hash " + hex64(hash_) + "), " +
          std::to_string(stats_.dup_bytes_received) + " duplicate bytes received");
    host.trace(now, Layer::Application, "bulk_done",
               "transfer complete: " + std::to_string(received_) + " bytes, content " + (ok ? "verified" : "CORRUPT"),
               {{"bytes", received_}, {"hash", hex64(hash_)}, {"goodput_bps", d.ns > 0 ? received_ * 8e9 / static_cast<double>(d.ns) : 0.0}});
    host.tcp_close(now, id);
  }
}

std::vector<trace::Field> BulkReceiver::summary() const {
  const Duration d = last_at_ - accepted_at_;
  return {{"port", uint64_t{port_}},
          {"complete", complete_},
          {"bytes_received", received_},
          {"content_ok", content_ok()},
          {"hash", hex64(hash_)},
          {"completion_time_ns", d.ns},
          {"goodput_bps", d.ns > 0 ? static_cast<double>(received_) * 8e9 / static_cast<double>(d.ns) : 0.0},
          {"duplicate_bytes_received", stats_.dup_bytes_received},
          {"out_of_order_segments", stats_.out_of_order_segs}};
}

}  // namespace mz::app
