// Socket mode: the simulator's stack between two real processes over a real TCP
// connection (loopback by default), driven by Boost.Asio.
//
// Each process plays one host (client 192.168.1.10/24, server 192.168.1.20/24). The real
// TCP byte stream is the wire: every frame from Host::poll_transmit goes through the L1
// LineEncoder (4B/5B) and out with async_write; bytes that come in go through the
// LineDecoder and the frames into Host::handle_frame. The host's timers run on one
// steady_timer re-armed after every call at poll_timeout(); Time is nanoseconds since the
// process started (steady_clock). Impairments (--loss, --ber, --delay) act on the sending
// side, at L1/L2, before the bytes reach the socket.
//
// The server accepts many sockets on one io_context; each gets its own virtual server
// Host (so many clients may all use 192.168.1.10) running an HttpServerApp, and all of
// them share one session table.
//
// Asio stays inside src/io/socket_mode.cpp; this header holds plain types only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "megzawicol/core/addr.hpp"
#include "megzawicol/core/time.hpp"

namespace mz::io {

/// Exit statuses of `megzawicol server` and `megzawicol client` (see README "Socket mode").
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // any other failure (the server closed early, bad HTTP, ...)
  kExitUsage = 2,        // bad command line
  kExitRefused = 3,      // connection refused: no server listening
  kExitTls = 4,          // TLS handshake failed (e.g. pinned key mismatch) or TLS alert
  kExitTimeout = 5,      // no answer within --timeout
  kExitMismatch = 6,     // the echoed message (or the upload's count or CRC-32) differs from what was sent
};

/// Impairments applied by the sending side of a process.
struct LinkOptions {
  double loss = 0;           // probability of dropping a whole frame
  double ber = 0;            // bit error rate on the line bits
  uint32_t mtu = 1500;       // IP MTU of the virtual interface (both ends should agree)
  Duration delay{};          // frames are held this long before they are written
  std::optional<uint64_t> seed;  // loss/BER randomness; default: from the OS RNG
};

struct CommonOptions {
  LinkOptions link;
  bool quiet = false;        // no per-layer lines on stdout
  std::string out_dir;       // trace.log, trace.jsonl, <host>-eth0.pcap (and keylog.txt)
  bool keylog = false;       // write keylog.txt (0600) in out_dir
  Ipv4Cidr client_addr{Ipv4Addr::from_octets(192, 168, 1, 10), 24};
  Ipv4Cidr server_addr{Ipv4Addr::from_octets(192, 168, 1, 20), 24};
  uint16_t port = 65432;     // the virtual TCP port of the HTTP server
};

struct ServerOptions : CommonOptions {
  std::string listen = "127.0.0.1:65432";
  size_t max_clients = 256;
  Duration idle_timeout = Duration::seconds(30);
  std::optional<std::array<uint8_t, 32>> key;  // Ed25519 private seed; default: the demo key
  size_t max_garbage_bytes = 64 * 1024;         // undecodable bytes tolerated in a row
};

struct ClientOptions : CommonOptions {
  std::string connect = "127.0.0.1:65432";
  std::string message = "Hello, server!";
  bool raw = false;          // send `message` verbatim as application/octet-stream (--file)
  bool upload = false;       // with raw: a one-way upload, checked by the server's count and CRC-32 (--upload)
  uint32_t count = 1;        // requests on the connection
  Duration timeout = Duration::seconds(30);
  std::optional<std::array<uint8_t, 32>> pin;  // server's Ed25519 public key; default: the demo key's
  bool tamper = false;       // test aid: corrupt the first TLS record after the handshake
  bool corrupt_body = false; // test aid: flip a bit of the first request body before HTTP (--corrupt-body)
};

/// The built-in demo server key (a fixed, public value: replace it with --key).
std::array<uint8_t, 32> demo_server_key();

/// Runs until SIGINT/SIGTERM; returns the exit status.
int run_server(const ServerOptions& opts);
/// One exchange; returns the exit status.
int run_client(const ClientOptions& opts);

/// "127.0.0.1:65432" -> address and port; false if malformed.
bool parse_endpoint(const std::string& s, std::string& host, uint16_t& port);

}  // namespace mz::io
