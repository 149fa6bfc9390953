// bulk: one TCP transfer of a seeded pseudo-random byte stream, verified on arrival.
//
// The sender connects to target:port, writes `bytes` bytes (or writes for `send_for`),
// then closes. The receiver, listening on the target host, checks every byte against the
// same generator as it arrives and reports goodput, completion time and the content
// hash; a transfer that cannot finish (a link down for good) ends with the connection's
// error, never a hang.
#pragma once

#include <optional>
#include <string>

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
};

/// The byte stream both ends agree on: deterministic from `seed`, cheap to regenerate.
class BulkStream {
 public:
  explicit BulkStream(uint64_t seed) : rng_(seed) {}
  /// The next n bytes of the stream.
  void next(uint8_t* out, size_t n);

 private:
  Rng rng_;
  uint8_t buf_[8] = {};
  size_t have_ = 0;
};

class BulkSender : public stack::App, public stack::TcpHandler {
 public:
  explicit BulkSender(BulkConfig cfg) : cfg_(std::move(cfg)), stream_(cfg_.stream_seed) {}
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

 private:
  void fill(stack::Host& host, Time now);
  void finish(stack::Host& host, Time now, std::string error);

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
};

class BulkReceiver : public stack::App, public stack::TcpHandler {
 public:
  BulkReceiver(std::string name, uint16_t port, uint64_t stream_seed, l4::TcpConfig tcp, uint64_t expected_bytes)
      : name_(std::move(name)), port_(port), seed_(stream_seed), tcp_(tcp), expected_(expected_bytes), stream_(stream_seed) {}
  const std::string& name() const override { return name_; }
  const char* kind() const override { return "bulk_receiver"; }
  void start(stack::Host& host, Time now) override;
  std::optional<Time> poll_timeout() const override { return std::nullopt; }
  void handle_timeout(stack::Host&, Time) override {}
  void on_tcp(stack::Host& host, Time now, stack::ConnId id, const l4::TcpEvent& ev) override;
  std::vector<trace::Field> summary() const override;

  uint64_t received() const { return received_; }
  bool content_ok() const { return mismatch_at_ < 0; }
  bool complete() const { return complete_; }
  uint64_t hash() const { return hash_; }
  Duration elapsed() const { return last_at_ - first_at_; }

 private:
  void drain(stack::Host& host, Time now, stack::ConnId id);

  std::string name_;
  uint16_t port_;
  uint64_t seed_;
  l4::TcpConfig tcp_;
  uint64_t expected_;
  BulkStream stream_;
  uint64_t received_ = 0;
  int64_t mismatch_at_ = -1;
  uint64_t hash_ = 0xcbf29ce484222325ull;  // FNV-1a 64 of the received bytes
  Time accepted_at_{};
  Time first_at_{};
  Time last_at_{};
  bool complete_ = false;
  bool started_ = false;
  l4::TcpStats stats_;
  std::optional<stack::ConnId> conn_;
};

/// FNV-1a 64 of the first `n` bytes of the stream with `seed` (what the receiver should get).
uint64_t bulk_stream_hash(uint64_t seed, uint64_t n);

}  // namespace mz::app
