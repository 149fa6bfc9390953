// L6 presentation: one TLS 1.3 endpoint (RFC 8446) as a sans-I/O state machine.
//
// Scope: TLS_AES_128_GCM_SHA256, x25519, ed25519 (0x0807) only. The server authenticates
// with an Ed25519 raw public key (RFC 7250, server_certificate_type = RawPublicKey); the
// client pins the expected key. No client authentication, no HelloRetryRequest, no PSK,
// resumption or 0-RTT (NewSessionTicket messages are read and dropped), no
// change_cipher_spec sent (one from the peer is accepted and ignored, RFC 8446 5 and D.4).
//
// Theory of operation
//   The connection owns no socket and no clock. The driver moves bytes:
//     start()                       client: queues the ClientHello (server: no-op)
//     handle_transport(bytes)       bytes from the peer, chunked in any way
//     take_transport()              bytes for the peer (records, possibly coalesced)
//     write_app(data) / take_app()  application plaintext in and out
//     poll_event()                  what happened, in order
//   After any call, drain take_transport(), then poll_event(), then take_app(). TLS has no
//   timers of its own (retransmission is TCP's), so there is no deadline to report.
//
// Client states:  Idle -start-> WaitServerHello -> WaitEncryptedExtensions ->
//                 WaitCertificate -> WaitCertificateVerify -> WaitFinished -> Connected
// Server states:  WaitClientHello -> (sends its whole flight) WaitClientFinished -> Connected
// Connected -> Closed when the peer's close_notify arrives. close() sends our close_notify
// and refuses further writes (half-close, RFC 8446 6.1): the peer may still send until its
// own close_notify.
// Any error -> Failed: the alert is queued for take_transport(), an Alert event is raised,
// error() explains, and every later handle_transport / write_app / close is a no-op
// (sticky, like h11's ERROR state and rustls).
//
// Bounds: at most one incoming record is buffered (5 + 2^14 + 256 bytes) and one incoming
// handshake message (kMaxHandshakeMessage); bigger announcements are refused with an alert
// before anything is stored. Decrypted application data waits in take_app() and outgoing
// bytes in take_transport(): draining them is the driver's job.
//
// Not done yet (notes for later):
//   - Resumption / PSK / 0-RTT: the key schedule already derives resumption_master (and
//     RFC 8448's "tls13 resumption" PSK is checked in the tests); what is missing is parsing
//     and storing NewSessionTicket (4.6.1), psk_key_exchange_modes + pre_shared_key with its
//     binder (4.2.11), the PSK branch of the early secret, and early data with
//     EndOfEarlyData. A server that rejects 0-RTT would also have to skip undecryptable
//     early records (4.2.10).
//   - HelloRetryRequest (a client offering only other groups gets handshake_failure), client
//     authentication (a CertificateRequest gets unexpected_message), X.509 certificates,
//     other suites/groups/signature schemes, record padding policy, an exporter API
//     (exporter_master is derived but not exposed), the middlebox-compatibility mode (D.4).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/l6/crypto.hpp"
#include "megzawicol/l6/handshake_msgs.hpp"
#include "megzawicol/l6/key_schedule.hpp"
#include "megzawicol/l6/record.hpp"

namespace mz::l6 {

struct TlsConfig {
  bool is_server = false;
  /// Server: the Ed25519 private seed (RFC 8032 secret key, 32 bytes).
  std::array<uint8_t, 32> server_ed25519_private{};
  /// Client: the server's Ed25519 public key it must present.
  std::array<uint8_t, 32> pinned_server_public{};
  /// Client: SNI host name (RFC 6066), sent if non-empty; at most 253 bytes.
  std::string server_name;
};

/// Key epochs, numbered as in QUIC / RFC 9001: 0 cleartext, 2 handshake, 3 application.
enum class Epoch : uint8_t { initial = 0, handshake = 2, application = 3 };
enum class Direction : uint8_t { read, write };

// ---- Events --------------------------------------------------------------------------
struct HandshakeDone {
  uint16_t cipher_suite = 0;
  std::string cipher;  // "TLS_AES_128_GCM_SHA256"
  /// Client: "sha256:" + hex(SHA-256(server SubjectPublicKeyInfo)). Server: empty (the
  /// client is not authenticated).
  std::string peer_key_fingerprint;
};
struct Alert {
  bool sent = false;  // true: we sent it; false: the peer did
  AlertLevel level = AlertLevel::fatal;
  AlertDescription description = AlertDescription::internal_error;
  std::string reason;  // ours: why; theirs: "received from peer"
};
struct Closed {};  // the peer's close_notify arrived
struct MessageSent {
  HandshakeType type{};
  size_t length = 0;  // whole message, header included
  std::string summary;
};
struct MessageReceived {
  HandshakeType type{};
  size_t length = 0;
  std::string summary;
};
struct KeysInstalled {
  Epoch epoch = Epoch::initial;
  Direction direction = Direction::read;
  uint32_t generation = 0;  // application keys: 0, then +1 per KeyUpdate
};
using TlsEvent = std::variant<HandshakeDone, Alert, Closed, MessageSent, MessageReceived, KeysInstalled>;

class TlsConnection {
 public:
  /// Records sent under one application key before we update it ourselves (RFC 8446 5.5
  /// allows 2^24.5 full-size records for AES-GCM).
  static constexpr uint64_t kRecordsPerKey = uint64_t{1} << 24;

  enum class State {
    Idle,  // client before start()
    ClientWaitServerHello,
    ClientWaitEncryptedExtensions,
    ClientWaitCertificate,
    ClientWaitCertificateVerify,
    ClientWaitFinished,
    ServerWaitClientHello,
    ServerWaitClientFinished,
    Connected,
    Closed,  // the peer's close_notify was received
    Failed,
  };

  /// `rng` must outlive the connection (SeededRandom in the simulator, SystemRandom over
  /// real sockets).
  TlsConnection(TlsConfig config, RandomSource& rng);

  /// Client: builds and queues the ClientHello. Server: nothing. Call once.
  void start();
  /// Feeds bytes received from the peer (any chunking: records may be split or coalesced).
  void handle_transport(ByteView bytes_from_peer);
  /// Bytes to send to the peer, in order; empties the queue.
  Bytes take_transport();
  /// Queues application data: sent at once when Connected, or as soon as the handshake
  /// completes. Split into records of at most 2^14 bytes. Returns the bytes accepted: all of
  /// them, or 0 after close() or a failure.
  size_t write_app(ByteView plaintext);
  /// Decrypted application data received so far; empties the buffer.
  Bytes take_app();
  std::optional<TlsEvent> poll_event();
  /// Sends close_notify (after any queued data) and refuses further writes.
  void close();
  /// Updates our sending keys (RFC 8446 4.6.3), optionally asking the peer to update its
  /// own. Only when Connected; otherwise ignored.
  void key_update(bool request_peer_update);

  State state() const { return state_; }
  bool is_server() const { return cfg_.is_server; }
  bool handshake_complete() const { return handshake_done_; }
  bool write_closed() const { return close_sent_; }
  /// Why the connection failed ("" while it has not).
  const std::string& error() const { return error_; }
  /// NSS key log lines for the secrets derived so far, "<LABEL> <client_random> <secret>\n"
  /// (CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET,
  /// CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0).
  std::string keylog_lines() const;

 private:
  // Receive path.
  /// Whether a record of this outer type may arrive now; checked on the header alone.
  bool header_acceptable();
  void process_record();
  void process_handshake_bytes(ByteView content);
  void process_handshake_message(HandshakeType type, ByteView msg);
  void process_alert(ByteView content);
  // Per-message handlers.
  void on_client_hello(ByteView msg, ByteView body);
  void on_server_hello(ByteView msg, ByteView body);
  void on_encrypted_extensions(ByteView msg, ByteView body);
  void on_certificate(ByteView msg, ByteView body);
  void on_certificate_verify(ByteView msg, ByteView body);
  void on_finished(ByteView msg, ByteView body);
  void on_post_handshake(HandshakeType type, ByteView msg, ByteView body);
  // Send path.
  void send_handshake(const Bytes& msg, std::string summary);
  void flush_handshake();
  void send_app_records(ByteView data);
  void send_alert(AlertDescription d, AlertLevel level, const std::string& reason);
  void send_close_notify();
  void install_read(Epoch e, const Secret& secret, uint32_t generation = 0);
  void install_write(Epoch e, const Secret& secret, uint32_t generation = 0);
  void enter_connected();
  /// Sends a fatal alert and enters Failed (once).
  void fail(AlertDescription d, const std::string& reason);
  bool failed() const { return state_ == State::Failed; }
  bool handshaking() const;

  TlsConfig cfg_;
  RandomSource& rng_;
  State state_;
  std::string error_;

  // Record layer.
  RecordAssembler rx_;
  bool rx_header_checked_ = false;
  std::optional<RecordProtection> read_;
  std::optional<RecordProtection> write_;
  Epoch read_epoch_ = Epoch::initial;
  Epoch write_epoch_ = Epoch::initial;
  Bytes hs_in_;   // incoming handshake bytes not yet forming a whole message
  Bytes hs_out_;  // outgoing handshake messages of the current flight, not yet in records
  Bytes tx_;      // records for the peer
  Bytes app_in_;
  Bytes app_pending_;  // written before the handshake completed
  std::deque<TlsEvent> events_;
  bool ccs_seen_ = false;
  bool close_sent_ = false;
  bool handshake_done_ = false;
  bool hello_seen_ = false;  // a ClientHello was sent (client) or received (server)

  // Handshake state.
  TranscriptHash transcript_;
  KeySchedule ks_;
  X25519KeyPair ephemeral_;
  std::array<uint8_t, 32> client_random_{};
  Bytes session_id_;
  Ed25519Key server_public_{};  // server: ours; client: the peer's once seen
  Secret read_app_secret_{};
  Secret write_app_secret_{};
  uint32_t read_generation_ = 0;
  uint32_t write_generation_ = 0;
  bool have_handshake_secrets_ = false;
  bool have_application_secrets_ = false;
  bool close_pending_ = false;  // close() during the handshake: send close_notify when connected
};

/// "TLS_AES_128_GCM_SHA256" for the one suite spoken here.
std::string cipher_suite_name(uint16_t suite);
/// "sha256:" + hex(SHA-256(SubjectPublicKeyInfo of `key`)).
std::string ed25519_key_fingerprint(const Ed25519Key& key);

}  // namespace mz::l6
