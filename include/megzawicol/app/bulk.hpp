// bulk: one TCP transfer of a seeded pseudo-random byte stream, verified on arrival.
//
// The sender connects to target:port, writes `bytes` bytes (or writes for `send_for`),
// then closes. The receiver, listening on the target host, checks every byte against the
// same generator as it arrives and reports goodput, completion time and the content
// CRC-32; a transfer that cannot finish (a link down for good) ends with the connection's
// error, never a hang.
//
// TLS mode (`tls`): the same stream crosses the whole upper stack, as the http app's
// messages do:
//
//   bulk stream -> L6 TLS 1.3 (AES-128-GCM records of up to 16 KiB of plaintext) ->
//   L5 session DATA frames (one record per frame) -> L4 TCP -> ... L1
//
// The sender opens a session, runs the TLS client handshake (pinning the receiver's Ed25519
// key), writes the stream as application data, then sends close_notify and its FIN (TCP
// half-closed: it still listens). The receiver runs the TLS server and verifies the
// decrypted bytes exactly as in raw mode; once close_notify has arrived (an authenticated
// end of stream: a connection cut short is not mistaken for a whole one) it counts the
// transfer complete, answers with its own close_notify, ends the session and closes. That
// answer is what makes the sender's result "ok". Counts, goodput and the CRC are of
// application bytes. A failed handshake, a record that fails authentication or a refused
// session ends the transfer on both ends with the reason (the TLS alert goes to the peer
// first), never a crash or a hang.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/rng.hpp"
#include "megzawicol/stack/host.hpp"

namespace mz::app {

struct BulkConfig {
  std::string name = "bulk";
  Ipv4Addr target;
  uint16_t port = 5001;
  uint64_t bytes = 1'000'000;
  Duration send_for = Duration::zero();  // > 0: send for this long instead of `bytes`
  Time start = Time::zero();
  uint64_t stream_seed = 0;              // the content generator's seed (same on both sides)
  l4::TcpConfig tcp;
  // TLS mode (see the top of this file).
  bool tls = false;
  std::array<uint8_t, 32> pinned_server_key{};  // the receiver's Ed25519 public key
  uint64_t tls_seed = 0;                  // the session proposal, TLS randoms and key share
  std::string server_name;                // SNI; empty: none
  std::function<void(const std::string&)> keylog;  // NSS key log lines, if wanted
  bool tamper_after_handshake = false;    // test aid: flip one bit of the first data record
};

struct BulkReceiverConfig {
  std::string name = "bulk";
  uint16_t port = 5001;
  uint64_t stream_seed = 0;
  l4::TcpConfig tcp;
  uint64_t expected_bytes = 0;            // 0: any length is fine
  // TLS mode
  bool tls = false;
  std::array<uint8_t, 32> server_key{};   // Ed25519 private seed
  uint64_t tls_seed = 0;                  // session ids and TLS randoms
};

/// The byte stream both ends agree on: deterministic from `seed`, cheap to regenerate.
/// Four xoshiro256** generators (seeded by draws of one seeded with `seed`) take turns: the
/// stream is the little-endian bytes of draws from generator 0, 1, 2, 3, 0, 1, ... Four
/// independent generators run about four times faster than one, whose every draw waits
/// for the previous one.
class BulkStream {
 public:
  explicit BulkStream(uint64_t seed);
  /// The next n bytes of the stream.
  void next(uint8_t* out, size_t n);

 private:
  void block(uint8_t* out);  // 32 bytes: one draw of each generator

  Rng lanes_[4];
  uint8_t buf_[32] = {};
  size_t have_ = 0;
};

class BulkSender : public stack::App, public stack::TcpHandler {
 public:
  explicit BulkSender(BulkConfig cfg);
  ~BulkSender() override;
  const std::string& name() const override { return cfg_.name; }
  const char* kind() const override { return "bulk"; }
  void start(stack::Host& host, Time now) override;
  std::optional<Time> poll_timeout() const override;
  void handle_timeout(stack::Host& host, Time now) override;
  void on_tcp(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev) override;
  std::vector<trace::Field> summary() const override;

  bool finished() const { return done_; }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  uint64_t bytes_written() const { return written_; }
  const l4::TcpStats& stats() const { return stats_; }
  /// The transfer's connection once opened (the host may have dropped it since).
  std::optional<stack::ConnId> connection() const { return conn_; }
  /// TLS mode: from the TCP connection's establishment to the end of the handshake.
  Duration handshake_time() const { return handshake_time_; }

 private:
  struct Tls;
  void fill(stack::Host& host, Time now);
  void finish(stack::Host& host, Time now, std::string error);
  // TLS mode
  void on_tcp_tls(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev);
  void pump_tls(stack::Host& host, Time now);
  void fill_tls(stack::Host& host, Time now);
  void close_tls(stack::Host& host, Time now);
  void fail_tls(stack::Host& host, Time now, const std::string& error);
  void flush_tls(stack::Host& host, Time now);

  BulkConfig cfg_;
  BulkStream stream_;
  std::optional<stack::ConnId> conn_;
  std::optional<Time> start_at_;
  std::optional<Time> stop_at_;          // send_for mode
  Time connected_at_{};
  Time done_at_{};
  uint64_t written_ = 0;
  bool closing_ = false;
  bool done_ = false;
  std::string error_;
  l4::TcpStats stats_;
  std::vector<uint8_t> chunk_;
  uint64_t pending_len_ = 0;             // generated but not yet accepted by TCP
  // TLS mode
  std::unique_ptr<Tls> tls_;
  Duration handshake_time_{};
  bool confirmed_ = false;               // the receiver's close_notify answered ours
  bool fin_pending_ = false;             // close TCP once tcp_out is drained
  bool fin_sent_ = false;
};

class BulkReceiver : public stack::App, public stack::TcpHandler {
 public:
  explicit BulkReceiver(BulkReceiverConfig cfg);
  BulkReceiver(std::string name, uint16_t port, uint64_t stream_seed, l4::TcpConfig tcp, uint64_t expected_bytes);
  ~BulkReceiver() override;
  const std::string& name() const override { return cfg_.name; }
  const char* kind() const override { return "bulk_receiver"; }
  void start(stack::Host& host, Time now) override;
  std::optional<Time> poll_timeout() const override { return std::nullopt; }
  void handle_timeout(stack::Host&, Time) override {}
  void on_tcp(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev) override;
  std::vector<trace::Field> summary() const override;

  uint64_t received() const { return received_; }
  bool content_ok() const { return mismatch_at_ < 0; }
  bool complete() const { return complete_; }
  /// CRC-32 (the Ethernet/zlib CRC) of the bytes received.
  uint32_t crc() const { return crc_; }
  Duration elapsed() const { return last_at_ - first_at_; }
  /// Why the transfer failed (TLS mode: a TLS alert, a refused session, a stream cut short
  /// before close_notify); "" otherwise.
  const std::string& error() const { return error_; }

 private:
  struct Tls;
  void drain(stack::Host& host, Time now, stack::ConnId id);
  void verify(stack::Host& host, Time now, const uint8_t* data, size_t n);
  void report(stack::Host& host, Time now);
  // TLS mode
  void on_tcp_tls(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev);
  void pump_tls(stack::Host& host, Time now);
  void fail_tls(stack::Host& host, Time now, const std::string& error);
  void trace_session_states(stack::Host& host, Time now);

  BulkReceiverConfig cfg_;
  BulkStream stream_;
  uint64_t received_ = 0;
  int64_t mismatch_at_ = -1;
  uint32_t crc_ = 0;  // CRC-32 of the received bytes
  Time accepted_at_{};
  Time first_at_{};
  Time last_at_{};
  bool complete_ = false;
  bool started_ = false;
  l4::TcpStats stats_;
  std::optional<stack::ConnId> conn_;
  // TLS mode
  std::unique_ptr<Tls> tls_;
  std::string error_;
  bool closed_ = false;                  // our tcp_close was called
};

/// CRC-32 of the first `n` bytes of the stream with `seed` (what the receiver should get).
uint32_t bulk_stream_crc(uint64_t seed, uint64_t n);

}  // namespace mz::app
